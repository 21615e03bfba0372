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

/** Bytes the length field takes: short form below 128, else 0x80|n and n big-endian bytes. */
function lengthSize(length: number): number {
  if (length < 0x80) return 1;
  let size = 1;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) size++;
  return size;
}

/** Writes a length field of `size` bytes (from lengthSize) at `at`. */
function writeLength(out: Buffer, at: number, length: number, size: number): void {
  if (size === 1) {
    out[at] = length;
    return;
  }
  out[at] = 0x80 | (size - 1);
  for (let i = size - 1, rest = length; i >= 1; i--, rest = Math.floor(rest / 256)) out[at + i] = rest & 0xff;
}

/** Tag, length and value, in one allocation (a CRL writes hundreds of thousands of these). */
export const tlv = (tag: number, ...contents: Buffer[]): Buffer => tlvOf(tag, contents);

/** `tlv` over an array: no argument spreading, as a CRL's list of entries can hold 100,000. */
function tlvOf(tag: number, contents: Buffer[]): Buffer {
  let length = 0;
  for (const content of contents) length += content.length;
  const size = lengthSize(length);
  const out = Buffer.allocUnsafe(1 + size + length);
  out[0] = tag;
  writeLength(out, 1, length, size);
  let at = 1 + size;
  for (const content of contents) at += content.copy(out, at);
  return out;
}

export const sequence = (...items: Buffer[]) => tlv(TAG.SEQUENCE, ...items);
/** A SEQUENCE of any number of items. */
export const sequenceOf = (items: Buffer[]) => tlvOf(TAG.SEQUENCE, items);
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
    for (let rest = Math.floor(part / 128); rest > 0; rest = Math.floor(rest / 128))
      chunk.unshift(0x80 | (rest & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const utc = year < 2050;
  const fields = [
    utc ? year % 100 : year,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ];
  const out = Buffer.allocUnsafe(utc ? 15 : 17); // tag, length, YY(YY)MMDDHHMMSS, Z
  out[0] = utc ? TAG.UTC_TIME : TAG.GENERALIZED_TIME;
  out[1] = out.length - 2;
  let at = 2;
  for (const [i, field] of fields.entries()) {
    for (let place = i === 0 && !utc ? 1000 : 10; place >= 1; place /= 10)
      out[at++] = 0x30 + (Math.floor(field / place) % 10);
  }
  out[at] = 0x5a; // Z
  return out;
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
