// One client enrollment's crypto: a fresh key, its certificate and the PKCS#12 bundle around both.
import type { Ca } from './ca.js';
import { generateRsaKeyPair, type KeyPairPem } from './keys.js';
import { issueClientCertificate } from './issue.js';
import { generatePassphrase } from './passphrase.js';
import { buildPkcs12, type BundleFormat, type ShroudedKey } from './pkcs12.js';

/** A key pair made ahead of time (the key pool), with its key already shrouded under a passphrase. */
export type PooledKeys = KeyPairPem & { shrouded?: ShroudedKey | undefined };

export interface MintRequest {
  username: string;
  device: string | null;
  days: number;
  keyBits: number;
  format: BundleFormat;
  /** The admin's typed passphrase; absent, a generated one: the pooled key's when it has one. */
  passphrase?: string | undefined;
  now: Date;
  /** A key pair made ahead of time (the key pool); generated here when absent. */
  keys?: PooledKeys | undefined;
}

export interface MintedBundle {
  certPem: string;
  serial: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  /** What the bundle is encrypted under: the typed passphrase, or the one generated for it. */
  passphrase: string;
  /**
   * The PKCS#12 bytes: the only copy of the private key. Stored nowhere but in an outbox message
   * (when no SMTP server is set), which goes on revocation or after OUTBOX_RETENTION_DAYS.
   */
  pkcs12: Uint8Array;
}

export async function mintClientBundle(ca: Ca, request: MintRequest): Promise<MintedBundle> {
  const keys: PooledKeys = request.keys ?? (await generateRsaKeyPair(request.keyBits));
  const passphrase = request.passphrase ?? keys.shrouded?.passphrase ?? generatePassphrase();
  const cert = issueClientCertificate({
    ca,
    username: request.username,
    publicKeyPem: keys.publicKeyPem,
    days: request.days,
    now: request.now,
  });
  const pkcs12 = buildPkcs12({
    privateKeyPem: keys.privateKeyPem,
    certPem: cert.pem,
    caCertPem: ca.certPem,
    passphrase,
    format: request.format,
    shrouded: keys.shrouded,
    friendlyName: request.device ? `${request.username} (${request.device})` : request.username,
  });
  return {
    certPem: cert.pem,
    serial: cert.serial,
    fingerprint: cert.fingerprint,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    passphrase,
    pkcs12,
  };
}
