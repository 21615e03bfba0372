// Admin password hashing and the sign-in back-off, at a cheap scrypt cost: what is checked here does
// not depend on the cost. password.int.test.ts checks the production cost itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_PASSWORD_COST } from '../testing/harness.js';
import { backoffSeconds, BACKOFF_MAX_SECONDS } from './admins.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password.js';

const params = (hash: string) => hash.split('$').slice(1, 4).map(Number);

describe('admin passwords', () => {
  test('scrypt with its parameters stored beside the hash', async () => {
    const hash = await hashPassword('a long enough password', TEST_PASSWORD_COST);
    const [scheme, , , , salt, key] = hash.split('$');
    assert.equal(scheme, 'scrypt');
    assert.deepEqual(params(hash), [TEST_PASSWORD_COST.log2N, TEST_PASSWORD_COST.r, TEST_PASSWORD_COST.p]);
    assert.equal(Buffer.from(salt!, 'base64').length, 16);
    assert.equal(Buffer.from(key!, 'base64').length, 32);
    assert.equal(await verifyPassword('a long enough password', hash), true);
    assert.equal(await verifyPassword('a long enough passworD', hash), false);
  });

  test('two hashes of the same password differ (random salt)', async () => {
    assert.notEqual(
      await hashPassword('same password', TEST_PASSWORD_COST),
      await hashPassword('same password', TEST_PASSWORD_COST),
    );
  });

  test('a stored hash with other parameters still verifies: the parameters come from the hash', async () => {
    const hash = await hashPassword('older parameters', { log2N: 12, r: 8, p: 2 });
    assert.deepEqual(params(hash), [12, 8, 2]);
    assert.equal(await verifyPassword('older parameters', hash), true);
    assert.equal(await verifyPassword('other password', hash), false);
  });

  test('the dummy hash for unknown names has the cost of real ones, made once per cost', async () => {
    const dummy = await dummyPasswordHash(TEST_PASSWORD_COST);
    assert.deepEqual(params(dummy), [TEST_PASSWORD_COST.log2N, TEST_PASSWORD_COST.r, TEST_PASSWORD_COST.p]);
    assert.equal(await dummyPasswordHash(TEST_PASSWORD_COST), dummy);
  });

  test('garbage in the stored hash never verifies', async () => {
    for (const stored of ['', 'plain', 'bcrypt$1$2$3$4$5', 'scrypt$$$$$'])
      assert.equal(await verifyPassword('x', stored), false);
  });

  test('the back-off starts after five failures and is capped at a minute', () => {
    assert.deepEqual([0, 4, 5, 6, 7, 10, 50].map(backoffSeconds), [0, 0, 1, 2, 4, 32, BACKOFF_MAX_SECONDS]);
  });
});
