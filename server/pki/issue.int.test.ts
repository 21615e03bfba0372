// Issued certificates as openssl reads them: the client profile, key sizes, the broker's server certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { clientFiles, testCa } from '../testing/pki.js';
import { generateRsaKeyPair } from './keys.js';
import { issueServerCertificate, SERVER_MAX_DAYS } from './issue.js';

describe('client certificates', () => {
  test('have the profile of the design and verify for client auth', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const caFile = scratch.file('ca.crt', ca.certPem);
    const { cert, certFile } = await clientFiles(scratch, ca, 'jjolie');
    const verified = await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', certFile]);
    assert.ok(verified.ok, verified.stderr + verified.stdout);
    const text = (await openssl(['x509', '-in', certFile, '-noout', '-text'])).stdout;
    assert.match(text, /Subject: CN = jjolie\n/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment/);
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    assert.doesNotMatch(text, /Subject Alternative Name/, 'no empty subjectAltName');
    const aki = /Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)![1];
    assert.equal(
      aki!.replace(/:/g, '').toLowerCase(),
      ca.keyId.toString('hex'),
      "the CA's key id, not the certificate's own",
    );
    const x509 = new X509Certificate(cert.pem);
    assert.equal(x509.serialNumber.toLowerCase(), cert.serial);
    assert.equal(x509.fingerprint256.toLowerCase(), cert.fingerprint);
    assert.equal(new Date(x509.validTo).getTime(), cert.notAfter.getTime());
    const days = (cert.notAfter.getTime() - Date.now()) / 86400_000;
    assert.ok(days > 29.9 && days <= 30, `${days} days`);
  });

  for (const bits of [3072, 4096]) {
    test(`RSA ${bits} on request`, async () => {
      const { ca } = await testCa();
      const scratch = new Scratch();
      const keys = await generateRsaKeyPair(bits);
      const { issueClientCertificate } = await import('./issue.js');
      const cert = issueClientCertificate({
        ca,
        username: 'big',
        publicKeyPem: keys.publicKeyPem,
        days: 1,
        now: new Date(),
      });
      const text = (await openssl(['x509', '-in', scratch.file('big.crt', cert.pem), '-noout', '-text'])).stdout;
      assert.match(text, new RegExp(`Public-Key: \\(${bits} bit\\)`));
    });
  }
});

describe('the broker server certificate', () => {
  test('names every host and IP, is for server auth and verifies', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const keys = await generateRsaKeyPair(2048);
    const cert = issueServerCertificate({
      ca,
      hosts: ['mqtt.example.org', 'broker'],
      ips: ['192.0.2.10', '2001:db8::1'],
      publicKeyPem: keys.publicKeyPem,
      days: SERVER_MAX_DAYS,
      now: new Date(),
    });
    const file = scratch.file('server.crt', cert.pem);
    const verified = await openssl([
      'verify',
      '-CAfile',
      scratch.file('ca.crt', ca.certPem),
      '-purpose',
      'sslserver',
      file,
    ]);
    assert.ok(verified.ok, verified.stderr);
    const text = (await openssl(['x509', '-in', file, '-noout', '-text'])).stdout;
    assert.match(text, /DNS:mqtt.example.org, DNS:broker, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:1/);
    assert.match(text, /TLS Web Server Authentication/);
    const hostCheck = await openssl([
      'x509',
      '-in',
      file,
      '-noout',
      '-checkhost',
      'mqtt.example.org',
      '-checkip',
      '192.0.2.10',
    ]);
    assert.match(hostCheck.stdout, /does match certificate[\s\S]*does match certificate/);
  });
});
