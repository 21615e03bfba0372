// PKI fixtures shared by tests: one CA per test process, and a reader for the CRLs it signs.
// The test CA has the profile of createCa with an RSA 2048 key: an RSA 4096 key takes seconds to
// make, in every test process. ca.int.test.ts checks the production CA (4096) with openssl.
import forge from 'node-forge';
import { createCa, loadCa, type Ca } from '../pki/ca.js';
import { REVOCATION_REASONS, type RevocationReason } from '../pki/crl.js';
import { children, readElement, TAG } from '../pki/der.js';
import { generateRsaKeyPair, type KeyPairPem } from '../pki/keys.js';
import { issueClientCertificate, issueServerCertificate } from '../pki/issue.js';
import type { Scratch } from './openssl.js';

export const TEST_CA_KEY_BITS = 2048;

let shared: Promise<{ ca: Ca; keyPem: string }> | undefined;

/** A CA of its own (another subject and key), e.g. to show that a foreign CRL is refused. */
export async function makeTestCa(commonName: string): Promise<{ ca: Ca; keyPem: string }> {
  const { certPem, keyPem } = await createCa(commonName, new Date(), TEST_CA_KEY_BITS);
  return { ca: loadCa(certPem, keyPem, undefined, new Date()), keyPem };
}

export function testCa(): Promise<{ ca: Ca; keyPem: string }> {
  shared ??= makeTestCa('Enroll Test CA');
  return shared;
}

const keyPairs = new Map<number, Promise<KeyPairPem>>();
/** One RSA key pair per size and process, for tests where whose key it is does not matter. */
export function sharedKeyPair(bits = 2048): Promise<KeyPairPem> {
  if (!keyPairs.has(bits)) keyPairs.set(bits, generateRsaKeyPair(bits));
  return keyPairs.get(bits)!;
}

/**
 * A client certificate and its key, written to files for openssl or mosquitto. Every such certificate
 * of a process shares one key pair (sharedKeyPair): the broker checks the chain, the CRL (by serial)
 * and the name, never whose key it is, and an RSA 2048 key took 0.3 s of CPU here, about 50 times
 * in the integration tier.
 */
export async function clientFiles(scratch: Scratch, ca: Ca, username: string, name = username) {
  const keys = await sharedKeyPair(2048);
  const cert = issueClientCertificate({ ca, username, publicKeyPem: keys.publicKeyPem, days: 30, now: new Date() });
  return {
    cert,
    keys,
    certFile: scratch.file(`${name}.crt`, cert.pem),
    keyFile: scratch.file(`${name}.key`, keys.privateKeyPem),
  };
}

/** The broker's server certificate for 127.0.0.1 and localhost (on the shared key pair, as above). */
export async function serverFiles(scratch: Scratch, ca: Ca) {
  const keys = await sharedKeyPair(2048);
  const cert = issueServerCertificate({
    ca,
    hosts: ['localhost'],
    ips: ['127.0.0.1'],
    publicKeyPem: keys.publicKeyPem,
    days: 825,
    now: new Date(),
  });
  return {
    serverCert: scratch.file('server.crt', cert.pem),
    serverKey: scratch.file('server.key', keys.privateKeyPem),
    cert,
  };
}

interface CrlContents {
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serial (lower-case hex, as the database stores it) and reason of each entry, in order. */
  entries: Array<{ serial: string; reason: RevocationReason }>;
}

const REASON_NAMES = new Map(Object.entries(REVOCATION_REASONS).map(([name, code]) => [code, name]));
const REASON_CODE_OID = Buffer.from('551d15', 'hex'); // 2.5.29.21
const CRL_NUMBER_OID = Buffer.from('551d14', 'hex'); // 2.5.29.20

const readTime = (element: { tag: number; value: Buffer }) => {
  const text = element.value.toString('latin1');
  const full = element.tag === TAG.UTC_TIME ? (Number(text.slice(0, 2)) < 50 ? '20' : '19') + text : text;
  return new Date(
    `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`,
  );
};

/**
 * Reads a CRL in-process, the way a unit test needs it (the integration tests ask openssl). It
 * checks nothing: pki/crl.ts's isValidCrl and openssl do that.
 */
export function readCrl(pem: string): CrlContents {
  const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');
  const tbs = children(children(readElement(der))[0]!);
  const [, , , thisUpdate, nextUpdate, ...rest] = tbs;
  const list = rest.find((element) => element.tag === TAG.SEQUENCE);
  const extensions = rest.find((element) => element.tag === 0xa0);
  const entries = (list ? children(list) : []).map((entry) => {
    const [serial, , extensionList] = children(entry);
    let reason: RevocationReason = 'unspecified';
    for (const extension of extensionList ? children(extensionList) : []) {
      const [id, value] = children(extension);
      if (id!.value.equals(REASON_CODE_OID)) {
        const code = readElement(value!.value).value[0]!;
        reason = REASON_NAMES.get(code as 0) as RevocationReason;
      }
    }
    return { serial: serial!.value.toString('hex').replace(/^00(?=[89a-f])/, ''), reason };
  });
  let crlNumber = -1n;
  for (const extension of extensions ? children(children(extensions)[0]!) : []) {
    const [id, value] = children(extension);
    if (id!.value.equals(CRL_NUMBER_OID)) crlNumber = BigInt(`0x${readElement(value!.value).value.toString('hex')}`);
  }
  return { crlNumber, thisUpdate: readTime(thisUpdate!), nextUpdate: readTime(nextUpdate!), entries };
}

/**
 * Opens a PKCS#12 bundle in-process (node-forge checks the MAC with the passphrase): the
 * certificates' subject CNs and whether a private key is inside. Unit tests use it; the
 * integration tests open bundles with openssl, as a device would.
 */
export function openBundle(p12: Buffer, passphrase: string): { commonNames: string[]; hasKey: boolean } {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')));
  const bundle = forge.pkcs12.pkcs12FromAsn1(asn1, passphrase);
  const certBags = bundle.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const keyBags =
    bundle.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? [];
  return {
    commonNames: certBags.map((bag) => String(bag.cert!.subject.getField('CN').value)),
    hasKey: keyBags.some((bag) => bag.key !== undefined && bag.key !== null),
  };
}
