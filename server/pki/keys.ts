// RSA key generation with node:crypto (native, off the event loop in libuv's pool).
import { generateKeyPair as generateKeyPairCallback } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPair = promisify(generateKeyPairCallback);

export const CLIENT_KEY_SIZES = [2048, 3072, 4096] as const;
export type KeySize = (typeof CLIENT_KEY_SIZES)[number];

export interface KeyPairPem {
  /** Unencrypted PKCS#8 PEM; held in memory only, never written by the portal. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
}

export async function generateRsaKeyPair(bits: number): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
