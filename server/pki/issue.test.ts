// Issuing refuses what it must not sign, before any key or signature is spent on it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedKeyPair, testCa } from '../testing/pki.js';
import { issueServerCertificate } from './issue.js';

describe('the broker server certificate', () => {
  const refusals: Array<[string, { hosts: string[]; ips: string[]; days: number }]> = [
    ['more than 825 days', { hosts: ['a'], ips: [], days: 826 }],
    ['no name at all', { hosts: [], ips: [], days: 30 }],
    ['an IP that is not one', { hosts: [], ips: ['300.1.1.1'], days: 30 }],
  ];
  for (const [name, request] of refusals) {
    test(`refuses ${name}`, async () => {
      const { ca } = await testCa();
      const keys = await sharedKeyPair();
      assert.throws(
        () => issueServerCertificate({ ca, ...request, publicKeyPem: keys.publicKeyPem, now: new Date() }),
        RangeError,
      );
    });
  }
});
