import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { testCa } from '../testing/pki.js';
import { CaError, exportCaKey, loadCa } from './ca.js';
import { generateRsaKeyPair } from './keys.js';
import { issueClientCertificate } from './issue.js';

describe('the CA', () => {
  test('a new CA has the profile of the design, as openssl reads it', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const text = (await openssl(['x509', '-in', scratch.file('ca.crt', ca.certPem), '-noout', '-text'])).stdout;
    assert.match(text, /Public-Key: \(4096 bit\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, /Subject: CN = Enroll Test CA/);
    const years = (new Date(ca.x509.validTo).getTime() - new Date(ca.x509.validFrom).getTime()) / (365.25 * 86400_000);
    assert.ok(years > 9.99 && years < 10.01, `${years} years`);
    const verified = await openssl(['verify', '-CAfile', scratch.path('ca.crt'), scratch.path('ca.crt')]);
    assert.ok(verified.ok, verified.stderr);
  });

  test('an encrypted key is PBES2 with AES-256 and needs its passphrase', async () => {
    const { ca, keyPem } = await testCa();
    const encrypted = exportCaKey(ca.key, 'the ca passphrase');
    assert.match(encrypted, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const scratch = new Scratch();
    const asn1 = (await openssl(['asn1parse', '-in', scratch.file('ca.key', encrypted)])).stdout;
    assert.match(asn1, /PBES2/);
    assert.match(asn1, /aes-256-cbc/);
    assert.ok(loadCa(ca.certPem, encrypted, 'the ca passphrase', new Date()));
    assert.throws(
      () => loadCa(ca.certPem, encrypted, 'not the passphrase', new Date()),
      (e: Error) => e instanceof CaError && e.message === 'CA key passphrase is wrong',
    );
    assert.throws(
      () => loadCa(ca.certPem, encrypted, undefined, new Date()),
      /CA key is encrypted: set CA_KEY_PASSPHRASE/,
    );
    assert.ok(loadCa(ca.certPem, keyPem, undefined, new Date()));
  });

  const refusals: Array<[string, () => Promise<[string, string, Date]>, RegExp]> = [
    [
      'a key that does not match',
      async () => {
        const { ca } = await testCa();
        return [ca.certPem, (await generateRsaKeyPair(2048)).privateKeyPem, new Date()];
      },
      /^CA key does not match the CA certificate$/,
    ],
    [
      'a certificate that is not a CA',
      async () => {
        const { ca } = await testCa();
        const keys = await generateRsaKeyPair(2048);
        const leaf = issueClientCertificate({
          ca,
          username: 'someone',
          publicKeyPem: keys.publicKeyPem,
          days: 30,
          now: new Date(),
        });
        return [leaf.pem, keys.privateKeyPem, new Date()];
      },
      /is not a CA/,
    ],
    [
      'an expired CA',
      async () => {
        const { ca, keyPem } = await testCa();
        return [ca.certPem, keyPem, new Date(Date.now() + 11 * 365 * 86400_000)];
      },
      /^CA certificate expired on/,
    ],
    [
      'something that is not a certificate',
      async () => {
        const { keyPem } = await testCa();
        return ['hello', keyPem, new Date()];
      },
      /not a PEM certificate/,
    ],
  ];
  for (const [name, make, message] of refusals) {
    test(`refuses ${name} with one line`, async () => {
      const [certPem, keyPem, now] = await make();
      assert.throws(
        () => loadCa(certPem, keyPem, undefined, now),
        (e: Error) => e instanceof CaError && message.test(e.message) && !e.message.includes('\n'),
      );
    });
  }

  test("a CA made the way OwnTracks' generate-CA.sh makes one (RSA 4096, SHA-512, no keyUsage) issues certificates that verify", async () => {
    const scratch = new Scratch();
    const made = await openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:4096',
      '-nodes',
      '-sha512',
      '-days',
      '3650',
      '-keyout',
      scratch.path('ca.key'),
      '-out',
      scratch.path('ca.crt'),
      '-subj',
      '/CN=An MQTT broker CA/O=OwnTracks.org/OU=generate-CA/emailAddress=nobody@example.net',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    assert.ok(made.ok, made.stderr);
    const { readFileSync } = await import('node:fs');
    const ca = loadCa(
      readFileSync(scratch.path('ca.crt'), 'utf8'),
      readFileSync(scratch.path('ca.key'), 'utf8'),
      undefined,
      new Date(),
    );
    assert.equal(ca.key.asymmetricKeyDetails?.modulusLength, 4096);
    const keys = await generateRsaKeyPair(2048);
    const leaf = issueClientCertificate({
      ca,
      username: 'jjolie',
      publicKeyPem: keys.publicKeyPem,
      days: 30,
      now: new Date(),
    });
    const verified = await openssl([
      'verify',
      '-CAfile',
      scratch.path('ca.crt'),
      '-purpose',
      'sslclient',
      scratch.file('leaf.crt', leaf.pem),
    ]);
    assert.ok(verified.ok, verified.stderr + verified.stdout);
    assert.equal(createPrivateKey(readFileSync(scratch.path('ca.key'), 'utf8')).asymmetricKeyType, 'rsa');
  });
});
