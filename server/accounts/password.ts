// Admin password hashing: scrypt from node:crypto, its parameters stored with each hash.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );

/** N = 2^17, r = 8, p = 1: 128 MiB and a few hundred milliseconds per hash. */
export const DEFAULT_COST = { log2N: 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

export type PasswordCost = { log2N: number; r: number; p: number };

function maxmem({ log2N, r, p }: PasswordCost): number {
  return 128 * r * (2 ** log2N + p + 2) + 16 * 1024 * 1024;
}

/** `scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64>` */
export async function hashPassword(password: string, cost: PasswordCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, {
    N: 2 ** cost.log2N,
    r: cost.r,
    p: cost.p,
    maxmem: maxmem(cost),
  });
  return ['scrypt', cost.log2N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !log2N || !r || !p || !salt || !key) return false;
  const cost = { log2N: Number(log2N), r: Number(r), p: Number(p) };
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: 2 ** cost.log2N,
    r: cost.r,
    p: cost.p,
    maxmem: maxmem(cost),
  });
  return timingSafeEqual(actual, expected);
}

const dummyHashes = new Map<string, Promise<string>>();
/** A random password's hash at the cost of real ones, checked for unknown names so timing does not tell. */
export function dummyPasswordHash(cost: PasswordCost = DEFAULT_COST): Promise<string> {
  const key = `${cost.log2N}$${cost.r}$${cost.p}`;
  if (!dummyHashes.has(key)) dummyHashes.set(key, hashPassword(randomBytes(24).toString('base64'), cost));
  return dummyHashes.get(key)!;
}
