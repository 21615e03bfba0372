// RSA key generation with node:crypto (native): async in libuv's pool, or synchronous for code
// that already runs on a worker thread.
import { generateKeyPair as generateKeyPairCallback, generateKeyPairSync, type RSAKeyPairOptions } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPair = promisify(generateKeyPairCallback);

export const CLIENT_KEY_SIZES = [2048, 3072, 4096] as const;

export interface KeyPairPem {
  /** Unencrypted PKCS#8 PEM; held in memory only, never written by the portal. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
}

const rsaOptions = (bits: number): RSAKeyPairOptions<'pem', 'pem'> => ({
  modulusLength: bits,
  publicExponent: 0x10001,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

export async function generateRsaKeyPair(bits: number): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', rsaOptions(bits));
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** Blocks the calling thread: only for worker threads, where it keeps the work on that thread. */
export function generateRsaKeyPairSync(bits: number): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', rsaOptions(bits));
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
