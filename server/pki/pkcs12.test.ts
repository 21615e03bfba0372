// PKCS#12 bundles: what is refused before anything is built.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scratch } from '../testing/openssl.js';
import { clientFiles, testCa } from '../testing/pki.js';
import { buildPkcs12 } from './pkcs12.js';

describe('PKCS#12 bundles', () => {
  test('no bundle without a passphrase', async () => {
    const { ca } = await testCa();
    const { cert, keys } = await clientFiles(new Scratch(), ca, 'x');
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
