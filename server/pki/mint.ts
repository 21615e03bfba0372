// One client enrollment's crypto: a fresh key, its certificate and the PKCS#12 bundle around both.
import type { Ca } from './ca.js';
import { generateRsaKeyPair, type KeyPairPem } from './keys.js';
import { issueClientCertificate } from './issue.js';
import { buildPkcs12, type BundleFormat } from './pkcs12.js';

export interface MintRequest {
  username: string;
  device: string | null;
  days: number;
  keyBits: number;
  format: BundleFormat;
  passphrase: string;
  now: Date;
  /** A key pair made ahead of time (the key pool); generated here when absent. */
  keys?: KeyPairPem | undefined;
}

export interface MintedBundle {
  certPem: string;
  serial: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  /**
   * The PKCS#12 bytes: the only copy of the private key. Stored nowhere but in an outbox message
   * (when no SMTP server is set), which goes on revocation or after OUTBOX_RETENTION_DAYS.
   */
  pkcs12: Uint8Array;
}

export async function mintClientBundle(ca: Ca, request: MintRequest): Promise<MintedBundle> {
  const keys = request.keys ?? (await generateRsaKeyPair(request.keyBits));
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
    passphrase: request.passphrase,
    format: request.format,
    friendlyName: request.device ? `${request.username} (${request.device})` : request.username,
  });
  return {
    certPem: cert.pem,
    serial: cert.serial,
    fingerprint: cert.fingerprint,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    pkcs12,
  };
}
