// PKCS#12 bundles for the OwnTracks apps: key, certificate and CA chain under one passphrase.
import forge from 'node-forge';

/**
 * `compatible` (default): key shrouded with pbeWithSHAAnd3-KeyTripleDES-CBC and a SHA-1 MAC,
 * the only scheme Android's KeyChain installer and iOS read; both answer AES bundles with a
 * misleading "wrong password". `modern`: PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256, for
 * other clients (the MAC stays SHA-1: node-forge writes no other).
 */
export const BUNDLE_FORMATS = ['compatible', 'modern'] as const;
export type BundleFormat = (typeof BUNDLE_FORMATS)[number];

export interface BundleRequest {
  privateKeyPem: string;
  certPem: string;
  caCertPem: string;
  passphrase: string;
  format: BundleFormat;
  friendlyName: string;
}

const ITERATIONS = 2048;

export function buildPkcs12(request: BundleRequest): Buffer {
  if (request.passphrase.length === 0)
    throw new RangeError('A bundle needs a passphrase: the Android app cannot open one without');
  const key = forge.pki.privateKeyFromPem(request.privateKeyPem);
  const options =
    request.format === 'compatible'
      ? { algorithm: '3des' as const, count: ITERATIONS, saltSize: 8 }
      : { algorithm: 'aes256' as const, prfAlgorithm: 'sha256', count: ITERATIONS, saltSize: 16 };
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    key,
    [request.certPem, request.caCertPem].map((pem) => forge.pki.certificateFromPem(pem)),
    request.passphrase,
    {
      ...options,
      friendlyName: request.friendlyName, // forge writes it as a BMPString (UTF-16)
      generateLocalKeyId: true,
    },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
