// A small DER writer and reader over Buffers. The CRL is built with it: node-forge cannot build
// CRLs, and its generic ASN.1 objects are too slow and too large for 100,000 entries.

const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
} as const;

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag, length and value. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  return encode(tag, contents.length === 1 ? contents[0]! : Buffer.concat(contents));
}

function encode(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const sequence = (...items: Buffer[]) => tlv(TAG.SEQUENCE, ...items);
/** A SEQUENCE of any number of items (no argument spreading: a CRL can hold 100,000). */
export const sequenceOf = (items: Buffer[]) => encode(TAG.SEQUENCE, Buffer.concat(items));
export const octetString = (value: Buffer) => tlv(TAG.OCTET_STRING, value);
export const nullValue = () => Buffer.from([TAG.NULL, 0]);
export const bitString = (value: Buffer) => tlv(TAG.BIT_STRING, Buffer.from([0]), value);
export const enumerated = (value: number) => tlv(TAG.ENUMERATED, Buffer.from([value]));
/** `[n] EXPLICIT` around already encoded content. */
export const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);

/** A non-negative INTEGER from big-endian magnitude bytes, minimally encoded. */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(TAG.INTEGER, body);
}

export function smallInteger(value: number | bigint): Buffer {
  let hex = BigInt(value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return unsignedInteger(Buffer.from(hex, 'hex'));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let rest = Math.floor(part / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift(0x80 | (rest & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-27T01:02:03.456Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  return year < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

export interface Element {
  tag: number;
  /** The whole element: tag, length and value. */
  raw: Buffer;
  /** The value only. */
  value: Buffer;
}

/** Reads the element at `offset`; throws on truncated or indefinite-length input. */
export function readElement(buffer: Buffer, offset = 0): Element {
  if (offset + 2 > buffer.length) throw new Error('DER: truncated');
  const tag = buffer[offset]!;
  let length = buffer[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buffer.length) throw new Error('DER: truncated');
  return { tag, raw: buffer.subarray(offset, end), value: buffer.subarray(offset + header, end) };
}

/** The elements inside a constructed value (a SEQUENCE's items). */
export function children(element: Element): Element[] {
  const items: Element[] = [];
  for (let offset = 0; offset < element.value.length; ) {
    const item = readElement(element.value, offset);
    items.push(item);
    offset += item.raw.length;
  }
  return items;
}

export { TAG };
