// Client certificates (CN = MQTT username) and the broker's TLS server certificate.
import { isIP } from 'node:net';
import forge from 'node-forge';
import { signCertificate, type SignedCertificate } from './certificate.js';
import type { Ca } from './ca.js';
import { CLIENT_DNS_NAME, permitsName } from './name-constraints.js';
import { randomSerial } from './serial.js';

const DAY_MS = 24 * 3600_000;
/** Certificates start five minutes in the past, so a phone whose clock lags a little accepts them. */
const BACKDATE_MS = 5 * 60_000;

function authorityKeyIdentifier(ca: Ca) {
  // Pass the CA's key id explicitly: forge's `keyIdentifier: true` would take the new certificate's own key.
  return { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyId.toString('binary') };
}

/** An end-entity certificate: not a CA, signing and key exchange, plus the given usage extensions. */
function signLeaf(
  ca: Ca,
  commonName: string,
  publicKeyPem: string,
  days: number,
  now: Date,
  usage: object[],
): SignedCertificate {
  return signCertificate({
    serial: randomSerial(),
    // UTF8String: forge's default, PrintableString, forbids `_` (allowed in usernames), and strict
    // parsers refuse the whole certificate for it.
    subject: [
      { shortName: 'CN', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
    ],
    issuer: ca.subject,
    publicKeyPem,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    signingKey: ca.key,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      ...usage,
      { name: 'subjectKeyIdentifier' },
      authorityKeyIdentifier(ca),
    ],
  });
}

export interface ClientCertificateRequest {
  ca: Ca;
  username: string;
  publicKeyPem: string;
  days: number;
  now: Date;
}

/**
 * Under a CA with name constraints that permit it, the certificate also carries the DNS name
 * CLIENT_DNS_NAME: without a DNS subjectAltName, OpenSSL (and so Mosquitto) checks a CN with a dot,
 * such as `j.smith`, against the CA's DNS constraints and refuses it. The CN stays the username.
 */
export function issueClientCertificate(request: ClientCertificateRequest): SignedCertificate {
  const { ca, username, publicKeyPem, days, now } = request;
  const constrained = ca.nameConstraints !== null && permitsName(ca.nameConstraints, CLIENT_DNS_NAME);
  return signLeaf(ca, username, publicKeyPem, days, now, [
    { name: 'extKeyUsage', clientAuth: true },
    ...(constrained ? [{ name: 'subjectAltName', altNames: [{ type: 2, value: CLIENT_DNS_NAME }] }] : []),
  ]);
}

/** Apple's limit for TLS server certificates. */
export const SERVER_MAX_DAYS = 825;

export interface ServerCertificateRequest {
  ca: Ca;
  hosts: string[];
  ips: string[];
  publicKeyPem: string;
  days: number;
  now: Date;
}

export function issueServerCertificate(request: ServerCertificateRequest): SignedCertificate {
  const { ca, hosts, ips, publicKeyPem, days, now } = request;
  if (hosts.length + ips.length === 0)
    throw new RangeError('A server certificate needs at least one host name or IP address');
  if (days < 1 || days > SERVER_MAX_DAYS)
    throw new RangeError(`A server certificate is valid for 1 to ${SERVER_MAX_DAYS} days`);
  for (const ip of ips) if (!isIP(ip)) throw new RangeError(`Not an IP address: ${ip}`);
  return signLeaf(ca, hosts[0] ?? ips[0]!, publicKeyPem, days, now, [
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...hosts.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
    },
  ]);
}
