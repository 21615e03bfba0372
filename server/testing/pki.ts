// PKI fixtures shared by tests: one CA per test process, and a reader for the CRLs it signs.
// The test CA has the profile of createCa with an RSA 2048 key: an RSA 4096 key takes seconds to
// make, in every test process. ca.int.test.ts checks the production CA (4096) with openssl.
import forge from 'node-forge';
import { createCa, loadCa, type Ca } from '../pki/ca.js';
import { parseCrl, type RevocationReason } from '../pki/crl.js';
import { generateRsaKeyPair, type KeyPairPem } from '../pki/keys.js';
import { issueClientCertificate, issueServerCertificate } from '../pki/issue.js';
import type { Scratch } from './openssl.js';

export const TEST_CA_KEY_BITS = 2048;

let shared: Promise<{ ca: Ca; keyPem: string }> | undefined;

/** A CA of its own (another subject and key), e.g. to show that a foreign CRL is refused. */
export async function makeTestCa(commonName: string): Promise<{ ca: Ca; keyPem: string }> {
  const { certPem, keyPem } = await createCa(commonName, new Date(), TEST_CA_KEY_BITS);
  return { ca: loadCa(certPem, keyPem, undefined, new Date()), keyPem };
}

export function testCa(): Promise<{ ca: Ca; keyPem: string }> {
  shared ??= makeTestCa('Enroll Test CA');
  return shared;
}

const keyPairs = new Map<number, Promise<KeyPairPem>>();
/** One RSA key pair per size and process, for tests where whose key it is does not matter. */
export function sharedKeyPair(bits = 2048): Promise<KeyPairPem> {
  if (!keyPairs.has(bits)) keyPairs.set(bits, generateRsaKeyPair(bits));
  return keyPairs.get(bits)!;
}

/**
 * A client certificate and its key, written to files for openssl or mosquitto. Every such certificate
 * of a process shares one key pair (sharedKeyPair): the broker checks the chain, the CRL (by serial)
 * and the name, never whose key it is, and an RSA 2048 key took 0.3 s of CPU here, about 50 times
 * in the integration tier.
 */
export async function clientFiles(scratch: Scratch, ca: Ca, username: string, name = username) {
  const keys = await sharedKeyPair(2048);
  const cert = issueClientCertificate({ ca, username, publicKeyPem: keys.publicKeyPem, days: 30, now: new Date() });
  return {
    cert,
    keys,
    certFile: scratch.file(`${name}.crt`, cert.pem),
    keyFile: scratch.file(`${name}.key`, keys.privateKeyPem),
  };
}

/** The broker's server certificate for 127.0.0.1 and localhost (on the shared key pair, as above). */
export async function serverFiles(scratch: Scratch, ca: Ca) {
  const keys = await sharedKeyPair(2048);
  const cert = issueServerCertificate({
    ca,
    hosts: ['localhost'],
    ips: ['127.0.0.1'],
    publicKeyPem: keys.publicKeyPem,
    days: 825,
    now: new Date(),
  });
  return {
    serverCert: scratch.file('server.crt', cert.pem),
    serverKey: scratch.file('server.key', keys.privateKeyPem),
    cert,
  };
}

interface CrlContents {
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serial (lower-case hex, as the database stores it) and reason of each entry, in order. */
  entries: Array<{ serial: string; reason: RevocationReason }>;
}

/**
 * Reads a CRL in-process, the way a unit test needs it (the integration tests ask openssl). It
 * checks nothing: pki/crl.ts's isValidCrl and openssl do that.
 */
export function readCrl(pem: string): CrlContents {
  const { crlNumber, thisUpdate, nextUpdate, entries } = parseCrl(pem);
  return { crlNumber, thisUpdate, nextUpdate, entries: entries.map(({ serial, reason }) => ({ serial, reason })) };
}

/**
 * Opens a PKCS#12 bundle in-process (node-forge checks the MAC with the passphrase): the
 * certificates' subject CNs and whether a private key is inside. Unit tests use it; the
 * integration tests open bundles with openssl, as a device would.
 */
export function openBundle(p12: Buffer, passphrase: string): { commonNames: string[]; hasKey: boolean } {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')));
  const bundle = forge.pkcs12.pkcs12FromAsn1(asn1, passphrase);
  const certBags = bundle.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const keyBags =
    bundle.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? [];
  return {
    commonNames: certBags.map((bag) => String(bag.cert!.subject.getField('CN').value)),
    hasKey: keyBags.some((bag) => bag.key !== undefined && bag.key !== null),
  };
}
