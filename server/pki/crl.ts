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
  TAG,
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
export function isValidCrl(pem: string, ca: Pick<Ca, 'x509' | 'subjectDer'>): boolean {
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

/** What a CRL lists: its number, its times, and each entry (serial as the database stores it: lower-case hex, no sign byte). */
export interface CrlContents {
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: RevokedEntry[];
}

const REASON_NAMES = new Map<number, RevocationReason>(
  Object.entries(REVOCATION_REASONS).map(([name, code]) => [code, name as RevocationReason]),
);
const REASON_CODE_OID = oid(OID.reasonCode).subarray(2);
const CRL_NUMBER_OID = oid(OID.cRLNumber).subarray(2);

function readTime(element: { tag: number; value: Buffer }): Date {
  const text = element.value.toString('latin1');
  const full = element.tag === TAG.UTC_TIME ? (Number(text.slice(0, 2)) < 50 ? '20' : '19') + text : text;
  return new Date(
    `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`,
  );
}

/**
 * Reads a CRL's number, times and entries; checks nothing (verify with isValidCrl first). A reason
 * code the portal does not write (certificateHold, say) reads as unspecified: still revoked.
 */
export function parseCrl(pem: string): CrlContents {
  const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');
  const tbs = children(children(readElement(der))[0]!);
  const [, , , thisUpdate, nextUpdate, ...rest] = tbs;
  const list = rest.find((element) => element.tag === TAG.SEQUENCE);
  const extensions = rest.find((element) => element.tag === 0xa0);
  const entries = (list ? children(list) : []).map((entry): RevokedEntry => {
    const [serial, revokedAt, extensionList] = children(entry);
    let reason: RevocationReason = 'unspecified';
    for (const extension of extensionList ? children(extensionList) : []) {
      const [id, value] = children(extension);
      if (id!.value.equals(REASON_CODE_OID))
        reason = REASON_NAMES.get(readElement(value!.value).value[0]!) ?? 'unspecified';
    }
    return {
      serial: serial!.value.toString('hex').replace(/^00(?=[89a-f])/, ''),
      revokedAt: readTime(revokedAt!),
      reason,
    };
  });
  let crlNumber = -1n;
  for (const extension of extensions ? children(children(extensions)[0]!) : []) {
    const [id, value] = children(extension);
    if (id!.value.equals(CRL_NUMBER_OID)) crlNumber = BigInt(`0x${readElement(value!.value).value.toString('hex')}`);
  }
  return { crlNumber, thisUpdate: readTime(thisUpdate!), nextUpdate: readTime(nextUpdate!), entries };
}
