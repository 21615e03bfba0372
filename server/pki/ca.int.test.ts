// The CA as openssl sees it: the production profile (RSA 4096), its encrypted key, and a CA made
// by OwnTracks' generate-CA.sh that the portal adopts.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { testCa } from '../testing/pki.js';
import { createCa, exportCaKey, loadCa } from './ca.js';
import { generateRsaKeyPair } from './keys.js';
import { issueClientCertificate } from './issue.js';

describe('the CA', () => {
  test('a new CA has the profile of the design, as openssl reads it', async () => {
    const made = await createCa('Enroll Test CA', new Date()); // the production key size, not the test CA's
    const ca = loadCa(made.certPem, made.keyPem, undefined, new Date());
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

  test('an encrypted key is PBES2 with AES-256, as openssl reads it', async () => {
    const { ca } = await testCa();
    const encrypted = exportCaKey(ca.key, 'the ca passphrase');
    const asn1 = (await openssl(['asn1parse', '-in', new Scratch().file('ca.key', encrypted)])).stdout;
    assert.match(asn1, /PBES2/);
    assert.match(asn1, /aes-256-cbc/);
  });

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
