// PKCS#12 bundles: what is refused before anything is built, and a key shrouded ahead (the key
// pool's) used only where it fits. pkcs12.int.test.ts opens both kinds with OpenSSL.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import forge from 'node-forge';
import { sharedKeyPair, testCa } from '../testing/pki.js';
import { issueClientCertificate } from './issue.js';
import { buildPkcs12, shroudKey, type BundleRequest } from './pkcs12.js';

async function request(passphrase: string): Promise<BundleRequest> {
  const { ca } = await testCa();
  const keys = await sharedKeyPair();
  const cert = issueClientCertificate({ ca, username: 'x', publicKeyPem: keys.publicKeyPem, days: 1, now: new Date() });
  return {
    privateKeyPem: keys.privateKeyPem,
    certPem: cert.pem,
    caCertPem: ca.certPem,
    passphrase,
    format: 'compatible',
    friendlyName: 'x (phone)',
  };
}

/** The key a bundle holds, as PKCS#8 DER, read with node-forge under `passphrase`. */
function keyInside(p12: Buffer, passphrase: string): Buffer {
  const bundle = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), passphrase);
  const oid = forge.pki.oids.pkcs8ShroudedKeyBag!;
  const key = bundle.getBags({ bagType: oid })[oid]![0]!.key!;
  return createPrivateKey(forge.pki.privateKeyToPem(key)).export({ type: 'pkcs8', format: 'der' });
}

const pkcs8 = (pem: string) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });

describe('PKCS#12 bundles', () => {
  test('no bundle without a passphrase', async () => {
    const empty = await request('');
    assert.throws(() => buildPkcs12(empty), /needs a passphrase/);
  });

  test('a key shrouded ahead under the same passphrase: the bundle holds that key, and opens with it', async () => {
    const base = await request('ahead-passphrase-1');
    const shrouded = shroudKey(base.privateKeyPem, 'ahead-passphrase-1');
    const p12 = buildPkcs12({ ...base, shrouded });
    assert.ok(p12.includes(Buffer.from(shrouded.der)), 'the key bag shrouded ahead, as it is');
    assert.deepEqual(keyInside(p12, 'ahead-passphrase-1'), pkcs8(base.privateKeyPem));
    assert.throws(() => keyInside(p12, 'another-passphrase'), /MAC|password|Invalid/i);
  });

  const ignored: Array<[string, Partial<BundleRequest>]> = [
    ['under another passphrase (a typed one)', { passphrase: 'typed-by-the-admin' }],
    ['in the modern format', { format: 'modern' }],
  ];
  for (const [name, change] of ignored) {
    test(`a key shrouded ahead is not used ${name}: the bundle is made at once`, async () => {
      const base = await request('ahead-passphrase-2');
      const wanted = { ...base, ...change };
      const shrouded = shroudKey(base.privateKeyPem, 'ahead-passphrase-2');
      const p12 = buildPkcs12({ ...wanted, shrouded });
      assert.equal(p12.includes(Buffer.from(shrouded.der)), false, 'not the key bag shrouded ahead');
      assert.deepEqual(keyInside(p12, wanted.passphrase), pkcs8(base.privateKeyPem));
    });
  }

  test("node-forge's own key encryption is back after a bundle from a shrouded key, thrown or not", async () => {
    const base = await request('ahead-passphrase-3');
    const shrouded = shroudKey(base.privateKeyPem, 'ahead-passphrase-3');
    // Thrown while forge's functions are replaced: a key bag that is no DER.
    const broken = { ...shrouded, der: new Uint8Array([0x30, 0x05, 0x01]) };
    assert.throws(() => buildPkcs12({ ...base, shrouded: broken }));
    buildPkcs12({ ...base, shrouded });
    // Made at once afterwards under a new passphrase: its own key encryption ran, not the shroud's.
    const p12 = buildPkcs12({ ...base, passphrase: 'a-fresh-passphrase' });
    assert.deepEqual(keyInside(p12, 'a-fresh-passphrase'), pkcs8(base.privateKeyPem));
  });
});
