// PKCS#12 bundles: what is refused before anything is built.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedKeyPair, testCa } from '../testing/pki.js';
import { issueClientCertificate } from './issue.js';
import { buildPkcs12 } from './pkcs12.js';

describe('PKCS#12 bundles', () => {
  test('no bundle without a passphrase', async () => {
    const { ca } = await testCa();
    const keys = await sharedKeyPair();
    const cert = issueClientCertificate({
      ca,
      username: 'x',
      publicKeyPem: keys.publicKeyPem,
      days: 1,
      now: new Date(),
    });
    assert.throws(
      () =>
        buildPkcs12({
          privateKeyPem: keys.privateKeyPem,
          certPem: cert.pem,
          caCertPem: ca.certPem,
          passphrase: '',
          format: 'compatible',
          friendlyName: 'x',
        }),
      /needs a passphrase/,
    );
  });
});
