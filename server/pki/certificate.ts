// Builds an X.509 certificate with node-forge and signs it with node:crypto (native RSA),
// so the slow part never runs in pure JavaScript.
import { createHash, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export type NameAttributes = forge.pki.CertificateField[];

export interface CertificateRequest {
  serial: string;
  subject: NameAttributes;
  issuer: NameAttributes;
  publicKeyPem: string;
  notBefore: Date;
  notAfter: Date;
  extensions: object[];
  signingKey: KeyObject;
}

export interface SignedCertificate {
  pem: string;
  der: Buffer;
  serial: string;
  /** SHA-256 over the DER, lower-case hex with colons, as `openssl x509 -fingerprint -sha256` shows it. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** Whole seconds: what the certificate can hold, so stored dates equal the certificate's. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').match(/../g)!.join(':');
}

export function signCertificate(request: CertificateRequest): SignedCertificate {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = request.serial;
  cert.publicKey = forge.pki.publicKeyFromPem(request.publicKeyPem);
  cert.validity.notBefore = wholeSeconds(request.notBefore);
  cert.validity.notAfter = wholeSeconds(request.notAfter);
  cert.setSubject(request.subject);
  cert.setIssuer(request.issuer);
  cert.setExtensions(request.extensions);

  const sha256WithRSA = forge.pki.oids.sha256WithRSAEncryption!;
  cert.signatureOid = sha256WithRSA;
  cert.siginfo.algorithmOid = sha256WithRSA;
  const tbs = (
    forge.pki as typeof forge.pki & { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, request.signingKey).toString('binary');
  (cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;

  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  const pem = new X509Certificate(der).toString();
  return {
    pem,
    der,
    serial: request.serial,
    fingerprint: sha256Fingerprint(der),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
  };
}
