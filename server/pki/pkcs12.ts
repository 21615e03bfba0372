// PKCS#12 bundles for the OwnTracks apps: key, certificate and CA chain under one passphrase.
import forge from 'node-forge';
import { pkcs12KdfSha1 } from './pkcs12-kdf.js';

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
  /**
   * The same key already shrouded under this passphrase (shroudKey): a compatible bundle then takes
   * it as it is instead of encrypting the key again. Ignored under another passphrase or format.
   */
  shrouded?: ShroudedKey | undefined;
}

/**
 * A private key encrypted ahead of time for a compatible bundle (PKCS#8 EncryptedPrivateKeyInfo,
 * pbeWithSHAAnd3-KeyTripleDES-CBC), with the generated passphrase it is encrypted under. The key
 * pool makes these beside its keys: the encryption is four of a bundle's five key derivations,
 * about 2.5 of the 3.5 ms a bundle takes.
 */
export interface ShroudedKey {
  passphrase: string;
  der: Uint8Array;
}

const ITERATIONS = 2048;
const COMPATIBLE = { algorithm: '3des' as const, count: ITERATIONS, saltSize: 8 };

export function shroudKey(privateKeyPem: string, passphrase: string): ShroudedKey {
  const pki = forge.pki as unknown as ForgeKeyInfo;
  const keyInfo = pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(forge.pki.privateKeyFromPem(privateKeyPem)));
  // forge writes its defaults into the options it is given: a copy keeps COMPATIBLE as it is.
  const encrypted = withNativeKdf(() => pki.encryptPrivateKeyInfo(keyInfo, passphrase, { ...COMPATIBLE }));
  // An exact-size copy: a small Buffer is a slice of Node's shared pool, which would travel to the
  // minting thread with the blob, with whatever else (other passphrases) the pool holds.
  return { passphrase, der: new Uint8Array(Buffer.from(forge.asn1.toDer(encrypted).getBytes(), 'binary')) };
}

export function buildPkcs12(request: BundleRequest): Buffer {
  if (request.passphrase.length === 0)
    throw new RangeError('A bundle needs a passphrase: the Android app cannot open one without');
  const shrouded =
    request.format === 'compatible' && request.shrouded?.passphrase === request.passphrase
      ? request.shrouded
      : undefined;
  const options =
    request.format === 'compatible'
      ? COMPATIBLE // spread into forge's options below: never written to
      : { algorithm: 'aes256' as const, prfAlgorithm: 'sha256', count: ITERATIONS, saltSize: 16 };
  const certificates = [request.certPem, request.caCertPem].map((pem) => forge.pki.certificateFromPem(pem));
  const build = (key: forge.pki.rsa.PrivateKey) =>
    withNativeKdf(() =>
      forge.pkcs12.toPkcs12Asn1(key, certificates, request.passphrase, {
        ...options,
        friendlyName: request.friendlyName, // forge writes it as a BMPString (UTF-16)
        generateLocalKeyId: true,
      }),
    );
  const asn1 = shrouded ? withShroudedKey(shrouded, build) : build(forge.pki.privateKeyFromPem(request.privateKeyPem));
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

interface ForgeKeyInfo {
  privateKeyToAsn1(key: forge.pki.rsa.PrivateKey): forge.asn1.Asn1;
  wrapRsaPrivateKey(key: forge.asn1.Asn1): forge.asn1.Asn1;
  encryptPrivateKeyInfo(info: forge.asn1.Asn1, password: string, options: object): forge.asn1.Asn1;
}

/**
 * Runs `build` with node-forge's key encoding and encryption, which toPkcs12Asn1 calls once for
 * its key bag, answering with the key shrouded ahead; forge's own are put back after. Synchronous,
 * as withNativeKdf: nothing else runs meanwhile.
 */
function withShroudedKey<T>(shrouded: ShroudedKey, build: (key: forge.pki.rsa.PrivateKey) => T): T {
  const pki = forge.pki as unknown as ForgeKeyInfo;
  const owned = {
    privateKeyToAsn1: pki.privateKeyToAsn1,
    wrapRsaPrivateKey: pki.wrapRsaPrivateKey,
    encryptPrivateKeyInfo: pki.encryptPrivateKeyInfo,
  };
  const placeholder = {} as forge.pki.rsa.PrivateKey; // forge only hands it to privateKeyToAsn1 below
  pki.privateKeyToAsn1 = () => ({}) as forge.asn1.Asn1;
  pki.wrapRsaPrivateKey = (info) => info;
  pki.encryptPrivateKeyInfo = () => forge.asn1.fromDer(Buffer.from(shrouded.der).toString('binary'));
  try {
    return build(placeholder);
  } finally {
    Object.assign(pki, owned);
  }
}

type Pkcs12Kdf = typeof forge.pkcs12.generateKey;
interface ForgeKdfs {
  pkcs12: { generateKey: Pkcs12Kdf };
  pki: { pbe: { generatePkcs12Key: Pkcs12Kdf } };
}

/**
 * Runs `build` with node-forge's two references to its PKCS#12 KDF (the MAC's and the 3DES key's)
 * pointing at pkcs12KdfSha1, and puts forge's own back after: the swap is synchronous, so nothing
 * else runs meanwhile. Other digests (none used here) go to forge's.
 */
function withNativeKdf<T>(build: () => T): T {
  const kdfs = forge as unknown as ForgeKdfs;
  const own = { mac: kdfs.pkcs12.generateKey, key: kdfs.pki.pbe.generatePkcs12Key };
  const native: Pkcs12Kdf = (password, salt, id, iterations, length, md) =>
    (md !== undefined && md.algorithm !== 'sha1') || (id !== 1 && id !== 2 && id !== 3)
      ? own.key(password, salt, id, iterations, length, md)
      : forge.util.createBuffer(
          pkcs12KdfSha1(password ?? null, Buffer.from(salt.bytes(), 'binary'), id, iterations, length).toString(
            'binary',
          ),
        );
  kdfs.pkcs12.generateKey = native;
  kdfs.pki.pbe.generatePkcs12Key = native;
  try {
    return build();
  } finally {
    kdfs.pkcs12.generateKey = own.mac;
    kdfs.pki.pbe.generatePkcs12Key = own.key;
  }
}
