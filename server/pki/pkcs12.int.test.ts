// PKCS#12 bundles as OpenSSL 3 opens them: the compatible (3DES, SHA-1 MAC) and modern formats.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { clientFiles, testCa } from '../testing/pki.js';
import { generatePassphrase } from './passphrase.js';
import { buildPkcs12, shroudKey, type BundleFormat } from './pkcs12.js';
import { pkcs12KdfSha1 } from './pkcs12-kdf.js';

/** A compatible bundle is made at once (a typed passphrase) or from a key the pool shrouded ahead. */
const WAYS = ['made at once', 'key shrouded ahead'] as const;

async function bundle(format: BundleFormat, way: (typeof WAYS)[number] = 'made at once') {
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
    ...(way === 'key shrouded ahead' && { shrouded: shroudKey(keys.privateKeyPem, passphrase) }),
  });
  return { file: scratch.file('jjolie.p12', der), passphrase, cert, keys, ca, scratch };
}

/** UTF-16BE with a two-byte terminator, in hex, as OpenSSL's pkcs12 command hands it to the KDF. */
function bmpString(password: string): string {
  return Buffer.from(password + '\0', 'utf16le')
    .swap16()
    .toString('hex');
}

describe('PKCS#12 bundles', () => {
  for (const way of WAYS) {
    test(`compatible, ${way}: OpenSSL 3 opens it without -legacy and sees 3DES and a SHA-1 MAC`, async () => {
      const { file, passphrase } = await bundle('compatible', way);
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

    test(`${way}: the key inside belongs to the certificate inside, and the chain verifies`, async () => {
      const { file, passphrase, scratch, ca } = await bundle('compatible', way);
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
      const verified = await openssl([
        'verify',
        '-CAfile',
        scratch.file('ca.crt', ca.certPem),
        scratch.path('leaf.pem'),
      ]);
      assert.ok(verified.ok, verified.stderr);
    });

    test(`${way}: a wrong passphrase does not open it`, async () => {
      const { file } = await bundle('compatible', way);
      const info = await openssl(['pkcs12', '-info', '-in', file, '-passin', 'pass:wrong-passphrase', '-noenc']);
      assert.equal(info.ok, false);
      assert.match(info.stderr, /mac verify failure|invalid password/i);
    });
  }

  test('modern: AES-256 with PBKDF2-HMAC-SHA256', async () => {
    const { file, passphrase } = await bundle('modern');
    const info = await openssl(['pkcs12', '-info', '-in', file, '-passin', `pass:${passphrase}`, '-noenc']);
    assert.ok(info.ok, info.stderr);
    assert.match(
      info.stdout + info.stderr,
      /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/,
    );
  });

  test("the bundle's key derivation gives OpenSSL's PKCS12KDF bytes (key, IV, MAC key; 1 and 2048 rounds)", async () => {
    const cases = [
      // The first two are the vectors other PKCS#12 implementations test against (8aaae629..., 79993dfe...).
      { pass: 'smeg', salt: '0a58cf64530d823f', id: 1, iter: 1, length: 24 },
      { pass: 'smeg', salt: '0a58cf64530d823f', id: 2, iter: 1, length: 8 },
      { pass: 'queeg', salt: '05dec959acff72f7', id: 1, iter: 1000, length: 24 },
      { pass: 'Tr0ub4dour-x7k2m9p4', salt: '1c2d3e4f5a6b7c8d', id: 1, iter: 2048, length: 24 },
      { pass: 'Tr0ub4dour-x7k2m9p4', salt: '1c2d3e4f5a6b7c8d', id: 2, iter: 2048, length: 8 },
      { pass: 'Tr0ub4dour-x7k2m9p4', salt: '00112233445566778899aabbccddeeff', id: 3, iter: 2048, length: 20 },
    ] as const;
    for (const { pass, salt, id, iter, length } of cases) {
      const derived = await openssl([
        'kdf',
        '-keylen',
        String(length),
        '-kdfopt',
        'digest:SHA1',
        '-kdfopt',
        `hexpass:${bmpString(pass)}`, // the KDF takes bytes: the password as PKCS#12 encodes it
        '-kdfopt',
        `hexsalt:${salt}`,
        '-kdfopt',
        `iter:${iter}`,
        '-kdfopt',
        `id:${id}`,
        'PKCS12KDF',
      ]);
      assert.ok(derived.ok, derived.stderr);
      const expected = derived.stdout.trim().replaceAll(':', '').toLowerCase();
      assert.equal(pkcs12KdfSha1(pass, Buffer.from(salt, 'hex'), id, iter, length).toString('hex'), expected);
    }
  });
});
