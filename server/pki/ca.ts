// The certificate authority: create one, load and check one (made here or imported).
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { signCertificate, type NameAttributes } from './certificate.js';
import { children, readElement } from './der.js';
import { generateRsaKeyPair, type KeyPairPem } from './keys.js';
import {
  nameConstraintsExtension,
  readNameConstraints,
  serverNameConstraints,
  type NameConstraints,
  type ServerNames,
} from './name-constraints.js';
import { randomSerial } from './serial.js';

/** Why a CA cannot be used; `needs-passphrase` when the key is encrypted and none was given. */
export class CaError extends Error {
  override name = 'CaError';
  constructor(
    message: string,
    readonly code: 'needs-passphrase' | 'wrong-passphrase' | 'unusable' = 'unusable',
  ) {
    super(message);
  }
}

/** Whether a PEM private key is encrypted (PKCS#8 or the traditional OpenSSL header). */
export function isEncryptedKeyPem(pem: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
}

const CA_KEY_BITS = 4096;
const CA_VALIDITY_YEARS = 10;

/** A loaded CA: what issuing certificates and CRLs needs. */
export interface Ca {
  certPem: string;
  certDer: Buffer;
  x509: X509Certificate;
  key: KeyObject;
  subject: NameAttributes;
  /** The DER of the CA's subject Name, copied byte for byte into issued certificates' and CRLs' issuer. */
  subjectDer: Buffer;
  /** The CA's key identifier: its subjectKeyIdentifier, or the SHA-1 of its public key when it has none. */
  keyId: Buffer;
  /** The CA's X.509 name constraints, read once at load; null for an unconstrained CA (made before, or imported). */
  nameConstraints: NameConstraints | null;
}

/**
 * A new CA. With `serverNames` it carries critical name constraints that permit only those broker
 * names (and the fixed name of client certificates): what the portal start-up does. Without, it is
 * unconstrained, as every CA made before was (tests use that for a shared CA).
 * `keyBits` is for tests only: an RSA 4096 key takes seconds to make.
 */
export async function createCa(
  commonName: string,
  now: Date,
  keyBits = CA_KEY_BITS,
  serverNames?: ServerNames,
): Promise<{ certPem: string; keyPem: string }> {
  return caForKeys(commonName, now, await generateRsaKeyPair(keyBits), serverNames);
}

/** A new CA (as createCa) for a key pair already made. */
export function caForKeys(
  commonName: string,
  now: Date,
  { privateKeyPem, publicKeyPem }: KeyPairPem,
  serverNames?: ServerNames,
): { certPem: string; keyPem: string } {
  const subject = [
    { shortName: 'CN', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ];
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const { pem } = signCertificate({
    serial: randomSerial(),
    subject,
    issuer: subject,
    publicKeyPem,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter,
    signingKey: createPrivateKey(privateKeyPem),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
      ...(serverNames ? [nameConstraintsExtension(serverNameConstraints(serverNames))] : []),
    ],
  });
  return { certPem: pem, keyPem: privateKeyPem };
}

/** The key as stored in ca.key: PKCS#8, encrypted with AES-256 (PBES2) when a passphrase is given. */
export function exportCaKey(key: KeyObject, passphrase?: string): string {
  return passphrase
    ? (key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string)
    : (key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

function readKey(keyPem: string, passphrase: string | undefined): KeyObject {
  if (passphrase === undefined && isEncryptedKeyPem(keyPem)) {
    throw new CaError('CA key is encrypted and no passphrase was given', 'needs-passphrase');
  }
  try {
    return createPrivateKey(passphrase === undefined ? { key: keyPem } : { key: keyPem, passphrase });
  } catch (error) {
    // A wrong passphrase usually fails the padding check ("bad decrypt"), but about one in 256 gives
    // padding that looks right and then garbage that OpenSSL's decoder refuses. A cipher OpenSSL 3
    // does not load (DES, RC2: "digital envelope routines::unsupported") is not the passphrase.
    const message = String((error as Error).message);
    if (
      /bad decrypt|wrong password|BAD_DECRYPT/i.test(message) ||
      (passphrase !== undefined && isEncryptedKeyPem(keyPem) && /DECODER routines/.test(message))
    ) {
      throw new CaError('CA key passphrase is wrong', 'wrong-passphrase');
    }
    throw new CaError(`CA key cannot be read (${(error as Error).message})`);
  }
}

/** What checking a CRL against a CA needs (isValidCrl): its certificate alone, no key. */
export function caCrlChecker(x509: X509Certificate): Pick<Ca, 'x509' | 'subjectDer'> {
  return { x509, subjectDer: subjectDerOf(x509.raw) };
}

function subjectDerOf(certDer: Buffer): Buffer {
  const tbs = children(readElement(certDer))[0]!;
  const fields = children(tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version is present in v3 certificates
  return fields[offset + 4]!.raw; // serial, signature, issuer, validity, subject
}

/**
 * Loads a CA and refuses, with one clear line, anything that cannot serve as one. The key comes as
 * PEM (decrypted here with the passphrase) or as a KeyObject already loaded (a worker thread gets
 * it that way, so the key never exists unencrypted outside node:crypto).
 */
/**
 * Why a CA certificate cannot sign what the portal signs, if it cannot: a key usage extension that
 * leaves out keyCertSign (client certificates) or cRLSign (the CRL: OpenSSL, and so Mosquitto's
 * crlfile, refuses a CRL signed without it, and every phone is then refused). No extension: any use.
 */
export function caKeyUsageProblem(certPem: string): string | undefined {
  const usage = forge.pki.certificateFromPem(certPem).getExtension('keyUsage') as {
    keyCertSign?: boolean;
    cRLSign?: boolean;
  } | null;
  if (!usage) return undefined;
  const missing = [!usage.keyCertSign && 'keyCertSign', !usage.cRLSign && 'cRLSign'].filter(Boolean);
  return missing.length > 0 ? `the CA certificate's key usage does not include ${missing.join(' or ')}` : undefined;
}

export function loadCa(certPem: string, keyPem: string | KeyObject, passphrase: string | undefined, now: Date): Ca {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch {
    throw new CaError('CA certificate cannot be read: not a PEM certificate');
  }
  if (!x509.ca) throw new CaError(`Certificate "${x509.subject}" is not a CA (basicConstraints CA:TRUE missing)`);
  if (new Date(x509.validTo).getTime() <= now.getTime())
    throw new CaError(`CA certificate expired on ${new Date(x509.validTo).toISOString()}`);
  const key = typeof keyPem === 'string' ? readKey(keyPem, passphrase) : keyPem;
  if (key.asymmetricKeyType !== 'rsa') throw new CaError('CA key must be an RSA key');
  if (!x509.checkPrivateKey(key)) throw new CaError('CA key does not match the CA certificate');

  const forgeCert = forge.pki.certificateFromPem(certPem);
  const ski = forgeCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  const keyId = ski?.subjectKeyIdentifier
    ? Buffer.from(ski.subjectKeyIdentifier, 'hex')
    : Buffer.from(
        forge.pki.getPublicKeyFingerprint(forgeCert.publicKey, { type: 'RSAPublicKey' }).getBytes(),
        'binary',
      );
  return {
    certPem: x509.toString(),
    certDer: x509.raw,
    x509,
    key,
    subject: forgeCert.subject.attributes,
    subjectDer: subjectDerOf(x509.raw),
    keyId,
    nameConstraints: readNameConstraints(forgeCert),
  };
}
