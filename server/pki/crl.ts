// Certificate revocation lists (v2, RFC 5280), written with a lean DER writer and signed natively.
import { sign, verify } from 'node:crypto';
import type { Ca } from './ca.js';
import {
  bitString,
  children,
  enumerated,
  explicit,
  nullValue,
  octetString,
  oid,
  readElement,
  sequence,
  sequenceOf,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
} from './der.js';

/** The RFC 5280 reasons an admin can choose, with their reasonCode values. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedEntry {
  serial: string; // hex
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlRequest {
  ca: Ca;
  entries: Iterable<RevokedEntry>;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
}

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  reasonCode: '2.5.29.21',
  cRLNumber: '2.5.29.20',
  authorityKeyIdentifier: '2.5.29.35',
};

const SIGNATURE_ALGORITHM = sequence(oid(OID.sha256WithRSAEncryption), nullValue());
/** Each reason's crlEntryExtensions, encoded once. RFC 5280 5.3.1: no reasonCode rather than unspecified. */
const REASON_EXTENSIONS = new Map(
  Object.entries(REVOCATION_REASONS).map(([reason, code]) => [
    reason,
    code === 0 ? undefined : sequence(sequence(oid(OID.reasonCode), octetString(enumerated(code)))),
  ]),
);

function entryDer(entry: RevokedEntry): Buffer {
  const extensions = REASON_EXTENSIONS.get(entry.reason);
  const parts = [unsignedInteger(Buffer.from(entry.serial, 'hex')), time(entry.revokedAt)];
  return sequence(...(extensions ? [...parts, extensions] : parts));
}

function buildCrlDer(request: CrlRequest): Buffer {
  const entries: Buffer[] = [];
  for (const entry of request.entries) entries.push(entryDer(entry));
  const extensions = sequence(
    sequence(oid(OID.authorityKeyIdentifier), octetString(sequence(tlv(0x80, request.ca.keyId)))),
    sequence(oid(OID.cRLNumber), octetString(smallInteger(request.crlNumber))),
  );
  const tbs = sequence(
    smallInteger(1), // v2
    SIGNATURE_ALGORITHM,
    request.ca.subjectDer,
    time(request.thisUpdate),
    time(request.nextUpdate),
    ...(entries.length > 0 ? [sequenceOf(entries)] : []), // left out when empty (RFC 5280)
    explicit(0, extensions),
  );
  const signature = sign('sha256', tbs, request.ca.key);
  return sequence(tbs, SIGNATURE_ALGORITHM, bitString(signature));
}

function derToPem(der: Buffer, label: string): string {
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${base64}-----END ${label}-----\n`;
}

export function buildCrlPem(request: CrlRequest): string {
  return derToPem(buildCrlDer(request), 'X509 CRL');
}

/**
 * Checks a CRL before it is published: one PEM block, well-formed DER, issued by and signed
 * with this CA. Returns false for anything the broker might not read.
 */
export function isValidCrl(pem: string, ca: Ca): boolean {
  const match = /^-----BEGIN X509 CRL-----\n([A-Za-z0-9+/=\n]+)-----END X509 CRL-----\n$/.exec(pem);
  if (!match) return false;
  try {
    const der = Buffer.from(match[1]!.replace(/\n/g, ''), 'base64');
    const outer = readElement(der);
    if (outer.raw.length !== der.length) return false;
    const [tbs, , signature] = children(outer);
    if (!tbs || !signature) return false;
    const issuer = children(tbs)[2];
    if (!issuer?.raw.equals(ca.subjectDer)) return false;
    return verify('sha256', tbs.raw, ca.x509.publicKey, signature.value.subarray(1));
  } catch {
    return false;
  }
}
