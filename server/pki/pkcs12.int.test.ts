// PKCS#12 bundles as OpenSSL 3 opens them: the compatible (3DES, SHA-1 MAC) and modern formats.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { clientFiles, testCa } from '../testing/pki.js';
import { generatePassphrase } from './passphrase.js';
import { buildPkcs12, type BundleFormat } from './pkcs12.js';

async function bundle(format: BundleFormat) {
  const { ca } = await testCa();
  const scratch = new Scratch();
  const { cert, keys } = await clientFiles(scratch, ca, 'jjolie');
  const passphrase = generatePassphrase();
  const der = buildPkcs12({
    privateKeyPem: keys.privateKeyPem,
    certPem: cert.pem,
    caCertPem: ca.certPem,
    passphrase,
    format,
    friendlyName: 'jjolie (phone)',
  });
  return { file: scratch.file('jjolie.p12', der), passphrase, cert, keys, ca, scratch };
}

describe('PKCS#12 bundles', () => {
  test('compatible: OpenSSL 3 opens it without -legacy and sees 3DES and a SHA-1 MAC', async () => {
    const { file, passphrase } = await bundle('compatible');
    const info = await openssl(['pkcs12', '-info', '-in', file, '-passin', `pass:${passphrase}`, '-noenc']);
    assert.ok(info.ok, info.stderr);
    const all = info.stdout + info.stderr;
    assert.match(all, /MAC: sha1/);
    assert.match(all, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
    assert.match(all, /friendlyName: jjolie \(phone\)/);
    assert.match(all, /localKeyID: [0-9A-F ]+/);
    assert.equal((info.stdout.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length, 2, 'leaf and CA inside');
    assert.match(info.stdout, /-----BEGIN PRIVATE KEY-----/);
  });

  test('the key inside belongs to the certificate inside, and the chain verifies', async () => {
    const { file, passphrase, scratch, ca } = await bundle('compatible');
    const leaf = await openssl([
      'pkcs12',
      '-in',
      file,
      '-passin',
      `pass:${passphrase}`,
      '-clcerts',
      '-nokeys',
      '-out',
      scratch.path('leaf.pem'),
    ]);
    assert.ok(leaf.ok, leaf.stderr);
    const key = await openssl([
      'pkcs12',
      '-in',
      file,
      '-passin',
      `pass:${passphrase}`,
      '-nocerts',
      '-noenc',
      '-out',
      scratch.path('key.pem'),
    ]);
    assert.ok(key.ok, key.stderr);
    const certModulus = (await openssl(['x509', '-in', scratch.path('leaf.pem'), '-noout', '-modulus'])).stdout;
    const keyModulus = (await openssl(['rsa', '-in', scratch.path('key.pem'), '-noout', '-modulus'])).stdout;
    assert.equal(certModulus, keyModulus);
    const verified = await openssl(['verify', '-CAfile', scratch.file('ca.crt', ca.certPem), scratch.path('leaf.pem')]);
    assert.ok(verified.ok, verified.stderr);
  });

  test('a wrong passphrase does not open it', async () => {
    const { file } = await bundle('compatible');
    const info = await openssl(['pkcs12', '-info', '-in', file, '-passin', 'pass:wrong-passphrase', '-noenc']);
    assert.equal(info.ok, false);
    assert.match(info.stderr, /mac verify failure|invalid password/i);
  });

  test('modern: AES-256 with PBKDF2-HMAC-SHA256', async () => {
    const { file, passphrase } = await bundle('modern');
    const info = await openssl(['pkcs12', '-info', '-in', file, '-passin', `pass:${passphrase}`, '-noenc']);
    assert.ok(info.ok, info.stderr);
    assert.match(
      info.stdout + info.stderr,
      /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/,
    );
  });
});
