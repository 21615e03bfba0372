import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { KeyPool } from './key-pool.js';

async function until(condition: () => boolean) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('the key pool', () => {
  test('fills in the background and hands each key out once', async () => {
    const pool = new KeyPool(2048, 3);
    await until(() => pool.available === 3);
    assert.equal(pool.available, 3);
    const taken = await Promise.all(Array.from({ length: 6 }, () => pool.take()));
    assert.equal(new Set(taken.map((k) => k.privateKeyPem)).size, 6, 'never the same key twice');
    for (const keys of taken) assert.equal(createPublicKey(keys.publicKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
    await until(() => pool.available === 3);
    assert.equal(pool.available, 3, 'refilled');
    pool.close();
    assert.equal(pool.available, 0, 'closing drops the keys');
    assert.ok(await pool.take(), 'still generates on demand');
  });
});
