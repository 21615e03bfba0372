// PKCS#12's own key derivation (RFC 7292, appendix B.2) with SHA-1: the key, IV and MAC key of a
// compatible bundle. node-forge runs it in JavaScript over byte strings, about 5 ms per 2048 rounds
// on two cores; a bundle needs five such derivations (3DES key and IV in two blocks each, the MAC
// key in one), which made it the largest part of an issue. Every round after the first hashes the
// previous 20-byte digest, always one SHA-1 block, so those rounds run here on 32-bit integers with
// no allocation (about 1 ms per 2048). node:crypto has no PKCS#12 KDF, and calling it once per
// round costs more than the hash. Checked against OpenSSL's PKCS12KDF and node-forge's own.
import { hash } from 'node:crypto';

const DIGEST_BYTES = 20; // u in RFC 7292
const BLOCK_BYTES = 64; // v

/** `id` 1: key material, 2: IV, 3: MAC key. The password is UTF-16BE with a two-byte terminator. */
export function pkcs12KdfSha1(
  password: string | null,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
): Buffer {
  if (!(iterations >= 1)) throw new RangeError('PKCS#12 key derivation needs at least one iteration');
  const pass = password === null ? Buffer.alloc(0) : Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; password !== null && i < password.length; i++) pass.writeUInt16BE(password.charCodeAt(i), i * 2);
  const I = Buffer.concat([
    repeated(salt, BLOCK_BYTES * Math.ceil(salt.length / BLOCK_BYTES)),
    repeated(pass, BLOCK_BYTES * Math.ceil(pass.length / BLOCK_BYTES)),
  ]);
  const D = Buffer.alloc(BLOCK_BYTES, id);
  const blocks = Math.ceil(length / DIGEST_BYTES);
  const out = Buffer.alloc(blocks * DIGEST_BYTES);
  for (let i = 0; i < blocks; i++) {
    const A = rehash(hash('sha1', Buffer.concat([D, I]), 'buffer'), iterations - 1);
    A.copy(out, i * DIGEST_BYTES);
    if (i + 1 === blocks) break;
    // I_j = (I_j + B + 1) mod 2^512 for each 64-byte block I_j, B being A repeated to 64 bytes.
    const B = repeated(A, BLOCK_BYTES);
    for (let j = 0; j < I.length; j += BLOCK_BYTES) {
      let carry = 1;
      for (let k = BLOCK_BYTES - 1; k >= 0; k--) {
        carry += I[j + k]! + B[k]!;
        I[j + k] = carry & 0xff;
        carry >>>= 8;
      }
    }
  }
  return out.subarray(0, length);
}

function repeated(bytes: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = bytes[i % bytes.length]!;
  return out;
}

/**
 * SHA-1 applied `rounds` more times to a 20-byte digest (FIPS 180-4, one padded block per round).
 *
 * Each loop body runs five steps (four schedule words) at a time, the five working variables taking
 * each other's places from step to step, as in most SHA-1 code: a fifth of the loop iterations of
 * the textbook form, which is a little faster, and much faster under V8's block coverage (the test
 * suite's), which counts every iteration of every loop (about 40 ms per bundle against 3).
 */
function rehash(digest: Buffer, rounds: number): Buffer {
  let h0 = digest.readInt32BE(0);
  let h1 = digest.readInt32BE(4);
  let h2 = digest.readInt32BE(8);
  let h3 = digest.readInt32BE(12);
  let h4 = digest.readInt32BE(16);
  // The message schedule; words 6 to 14 (the padding's zeros) are never written. A local array is
  // faster here than one shared by every call.
  const W = new Int32Array(80);
  W[5] = 0x80000000 | 0; // the padding's one bit
  W[15] = DIGEST_BYTES * 8; // the message's length in bits
  let x: number;
  for (let round = 0; round < rounds; round++) {
    W[0] = h0;
    W[1] = h1;
    W[2] = h2;
    W[3] = h3;
    W[4] = h4;
    for (let t = 16; t < 80; t += 4) {
      x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!;
      W[t] = (x << 1) | (x >>> 31);
      x = W[t - 2]! ^ W[t - 7]! ^ W[t - 13]! ^ W[t - 15]!;
      W[t + 1] = (x << 1) | (x >>> 31);
      x = W[t - 1]! ^ W[t - 6]! ^ W[t - 12]! ^ W[t - 14]!;
      W[t + 2] = (x << 1) | (x >>> 31);
      x = W[t]! ^ W[t - 5]! ^ W[t - 11]! ^ W[t - 13]!;
      W[t + 3] = (x << 1) | (x >>> 31);
    }
    let a = 0x67452301;
    let b = 0xefcdab89 | 0;
    let c = 0x98badcfe | 0;
    let d = 0x10325476;
    let e = 0xc3d2e1f0 | 0;
    // The four stages of 20 steps each, as separate loops so that none branches per step. A step is
    // e += rotl5(a) + f(b, c, d) + K + W[t]; b = rotl30(b); then (a, b, c, d, e) = (e, a, b, c, d).
    for (let t = 0; t < 20; t += 5) {
      e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[t]!) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + 0x5a827999 + W[t + 1]!) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + 0x5a827999 + W[t + 2]!) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + 0x5a827999 + W[t + 3]!) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + W[t + 4]!) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (let t = 20; t < 40; t += 5) {
      e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[t]!) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + W[t + 1]!) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + W[t + 2]!) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + W[t + 3]!) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + W[t + 4]!) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (let t = 40; t < 60; t += 5) {
      e = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[t]!) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + ((a & b) | (a & c) | (b & c)) + d + (0x8f1bbcdc | 0) + W[t + 1]!) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & b) | (a & b)) + c + (0x8f1bbcdc | 0) + W[t + 2]!) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + b + (0x8f1bbcdc | 0) + W[t + 3]!) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + ((c & d) | (c & e) | (d & e)) + a + (0x8f1bbcdc | 0) + W[t + 4]!) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (let t = 60; t < 80; t += 5) {
      e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[t]!) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + (0xca62c1d6 | 0) + W[t + 1]!) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + (0xca62c1d6 | 0) + W[t + 2]!) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + (0xca62c1d6 | 0) + W[t + 3]!) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + (0xca62c1d6 | 0) + W[t + 4]!) | 0;
      c = (c << 30) | (c >>> 2);
    }
    h0 = (0x67452301 + a) | 0;
    h1 = ((0xefcdab89 | 0) + b) | 0;
    h2 = ((0x98badcfe | 0) + c) | 0;
    h3 = (0x10325476 + d) | 0;
    h4 = ((0xc3d2e1f0 | 0) + e) | 0;
  }
  const out = Buffer.alloc(DIGEST_BYTES);
  out.writeInt32BE(h0, 0);
  out.writeInt32BE(h1, 4);
  out.writeInt32BE(h2, 8);
  out.writeInt32BE(h3, 12);
  out.writeInt32BE(h4, 16);
  return out;
}
