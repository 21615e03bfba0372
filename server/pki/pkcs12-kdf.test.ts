// PKCS#12 key derivation: the same bytes as node-forge's JavaScript for every input, and bundles
// that forge's own reader (which derives with its JavaScript) opens. OpenSSL's answers for the
// same derivation are compared in pkcs12.int.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import forge from 'node-forge';
import { sharedKeyPair, testCa } from '../testing/pki.js';
import { issueClientCertificate } from './issue.js';
import { buildPkcs12 } from './pkcs12.js';
import { pkcs12KdfSha1 } from './pkcs12-kdf.js';

function forgeKdf(password: string, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, length: number) {
  const derived = forge.pkcs12.generateKey(
    password,
    forge.util.createBuffer(Buffer.from(salt).toString('binary')),
    id,
    iterations,
    length,
  );
  return Buffer.from(derived.bytes(), 'binary');
}

describe('PKCS#12 key derivation', () => {
  test('derives what node-forge derives, for any password, salt, purpose, count and length', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 70 }),
        (password, salt, id, iterations, length) => {
          assert.deepEqual(
            pkcs12KdfSha1(password, salt, id, iterations, length),
            forgeKdf(password, salt, id, iterations, length),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test("at the bundles' 2048 rounds: 3DES key, IV and MAC key", () => {
    const salt = Buffer.from('0a58cf64530d823f', 'hex');
    for (const [id, length] of [
      [1, 24],
      [2, 8],
      [3, 20],
    ] as const)
      assert.deepEqual(
        pkcs12KdfSha1('pässwörd ✓', salt, id, 2048, length),
        forgeKdf('pässwörd ✓', salt, id, 2048, length),
      );
  });

  test('refuses zero rounds, which would derive a constant', () => {
    assert.throws(() => pkcs12KdfSha1('x', Buffer.alloc(8), 1, 0, 24), /at least one iteration/);
  });

  test("a bundle built with it opens in node-forge's reader, key and MAC included, and forge is left as it was", async () => {
    const { ca } = await testCa();
    const keys = await sharedKeyPair();
    const cert = issueClientCertificate({
      ca,
      username: 'kdf',
      publicKeyPem: keys.publicKeyPem,
      days: 1,
      now: new Date(),
    });
    const ownKdf = forge.pkcs12.generateKey;
    const der = buildPkcs12({
      privateKeyPem: keys.privateKeyPem,
      certPem: cert.pem,
      caCertPem: ca.certPem,
      passphrase: 'correct horse',
      format: 'compatible',
      friendlyName: 'kdf',
    });
    assert.equal(forge.pkcs12.generateKey, ownKdf);
    const asn1 = forge.asn1.fromDer(Buffer.from(der).toString('binary'));
    assert.throws(() => forge.pkcs12.pkcs12FromAsn1(asn1, true, 'wrong'), /MAC could not be verified/);
    const p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, 'correct horse');
    const bag = p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!]![0]!;
    const opened = forge.pki.privateKeyToPem(bag.key!);
    assert.equal(
      opened.replace(/\r/g, ''),
      forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(keys.privateKeyPem)).replace(/\r/g, ''),
    );
  });
});
