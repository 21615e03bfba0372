// Loading a CA: the checks that stop a start with one line (no openssl needed).
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { sharedKeyPair, testCa } from '../testing/pki.js';
import { CaError, exportCaKey, loadCa } from './ca.js';
import { issueClientCertificate } from './issue.js';

describe('loading the CA', () => {
  test('an encrypted key needs its passphrase', async () => {
    const { ca, keyPem } = await testCa();
    const encrypted = exportCaKey(ca.key, 'the ca passphrase');
    assert.match(encrypted, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.ok(loadCa(ca.certPem, encrypted, 'the ca passphrase', new Date()));
    assert.throws(
      () => loadCa(ca.certPem, encrypted, 'not the passphrase', new Date()),
      (e: Error) => e instanceof CaError && e.message === 'CA key passphrase is wrong',
    );
    assert.throws(
      () => loadCa(ca.certPem, encrypted, undefined, new Date()),
      (e: Error) => e instanceof CaError && e.code === 'needs-passphrase',
    );
    assert.ok(loadCa(ca.certPem, keyPem, undefined, new Date()));
    assert.match(exportCaKey(ca.key), /^-----BEGIN PRIVATE KEY-----/, 'unencrypted without a passphrase');
  });

  test('a wrong passphrase that happens to decrypt into padding that looks right is still a wrong passphrase', async () => {
    const { ca } = await testCa();
    const encrypted = exportCaKey(ca.key, 'the ca passphrase');
    // About one wrong passphrase in 256 gives valid CBC padding; OpenSSL then fails to decode the
    // garbage ("DECODER routines::unsupported") instead of saying "bad decrypt". Find one.
    let lucky: string | undefined;
    for (let i = 0; i < 5_000 && !lucky; i++) {
      try {
        createPrivateKey({ key: encrypted, passphrase: `wrong ${i}` });
      } catch (error) {
        if (!/bad decrypt/i.test(String((error as Error).message))) lucky = `wrong ${i}`;
      }
    }
    assert.ok(lucky, 'no wrong passphrase got past the padding check in 5,000 tries');
    assert.throws(
      () => loadCa(ca.certPem, encrypted, lucky, new Date()),
      (e: Error) => e instanceof CaError && e.code === 'wrong-passphrase',
    );
  });

  test('a key under a cipher OpenSSL 3 does not load is not blamed on the passphrase', async () => {
    const { ca } = await testCa();
    // An EncryptedPrivateKeyInfo under pbeWithSHA1And40BitRC2-CBC (1.2.840.113549.1.12.1.6), which
    // old tools wrote: whatever the passphrase, OpenSSL 3 answers "digital envelope routines::unsupported".
    const tlv = (tag: number, ...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      return Buffer.concat([Buffer.from([tag, body.length]), body]);
    };
    const der = tlv(
      0x30,
      tlv(
        0x30,
        Buffer.from('060a2a864886f70d010c0106', 'hex'),
        tlv(0x30, tlv(0x04, Buffer.alloc(8, 7)), Buffer.from('02020800', 'hex')),
      ),
      tlv(0x04, Buffer.alloc(64, 1)),
    );
    const pem = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${der.toString('base64')}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
    assert.throws(
      () => loadCa(ca.certPem, pem, 'the right passphrase', new Date()),
      (e: Error) => e instanceof CaError && e.code !== 'wrong-passphrase' && /unsupported/.test(e.message),
    );
  });

  const refusals: Array<[string, () => Promise<[string, string, Date]>, RegExp]> = [
    [
      'a key that does not match',
      async () => {
        const { ca } = await testCa();
        return [ca.certPem, (await sharedKeyPair()).privateKeyPem, new Date()];
      },
      /^CA key does not match the CA certificate$/,
    ],
    [
      'a certificate that is not a CA',
      async () => {
        const { ca } = await testCa();
        const keys = await sharedKeyPair();
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
});
