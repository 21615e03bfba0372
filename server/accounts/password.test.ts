import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffSeconds, BACKOFF_MAX_SECONDS } from './admins.js';
import { DEFAULT_COST, hashPassword, verifyPassword } from './password.js';

describe('admin passwords', () => {
  test('scrypt with its parameters stored beside the hash', async () => {
    const hash = await hashPassword('a long enough password');
    const [scheme, log2N, r, p, salt, key] = hash.split('$');
    assert.deepEqual(
      [scheme, Number(log2N), Number(r), Number(p)],
      ['scrypt', DEFAULT_COST.log2N, DEFAULT_COST.r, DEFAULT_COST.p],
    );
    assert.equal(Buffer.from(salt!, 'base64').length, 16);
    assert.equal(Buffer.from(key!, 'base64').length, 32);
    assert.equal(await verifyPassword('a long enough password', hash), true);
    assert.equal(await verifyPassword('a long enough passworD', hash), false);
  });

  test('two hashes of the same password differ (random salt)', async () => {
    const cheap = { log2N: 10, r: 8, p: 1 };
    assert.notEqual(await hashPassword('same password', cheap), await hashPassword('same password', cheap));
  });

  test('a stored hash with other parameters still verifies', async () => {
    const hash = await hashPassword('older parameters', { log2N: 14, r: 8, p: 2 });
    assert.equal(await verifyPassword('older parameters', hash), true);
  });

  test('garbage in the stored hash never verifies', async () => {
    for (const stored of ['', 'plain', 'bcrypt$1$2$3$4$5', 'scrypt$$$$$'])
      assert.equal(await verifyPassword('x', stored), false);
  });

  test('the back-off starts after five failures and is capped at a minute', () => {
    assert.deepEqual([0, 4, 5, 6, 7, 10, 50].map(backoffSeconds), [0, 0, 1, 2, 4, 32, BACKOFF_MAX_SECONDS]);
  });
});
