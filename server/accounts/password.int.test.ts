// The production scrypt cost (N = 2^17, 128 MiB per hash): what hashes carry when nothing cheaper
// is injected. Slow by design, so it sits beside the integration tests; every other test hashes
// at TEST_PASSWORD_COST.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_ADMIN, withPortal } from '../testing/harness.js';
import { DEFAULT_COST, hashPassword, verifyPassword } from './password.js';

const PRODUCTION = [DEFAULT_COST.log2N, DEFAULT_COST.r, DEFAULT_COST.p];
const params = (hash: string) => hash.split('$').slice(1, 4).map(Number);

describe('the production password cost', () => {
  test('is N = 2^17, r = 8, p = 1, and a hash made without a cost carries it', async () => {
    assert.deepEqual(PRODUCTION, [17, 8, 1]);
    const hash = await hashPassword('a long enough password');
    assert.deepEqual(params(hash), PRODUCTION);
    assert.equal(await verifyPassword('a long enough password', hash), true);
  });

  test('a portal built without passwordCost stores its first admin at the production cost', async () => {
    await withPortal({ deps: { passwordCost: undefined } }, async (portal) => {
      const stored = portal.db
        .prepare('SELECT password_hash FROM admins WHERE username = ?')
        .pluck()
        .get(TEST_ADMIN.username) as string;
      assert.deepEqual(params(stored), PRODUCTION);
    });
  });
});
