import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { generateRsaKeyPair } from '../pki/keys.js';
import { KeyPool } from './key-pool.js';

async function until(condition: () => boolean) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('the key pool', () => {
  test('fills in the background, one key at a time, and hands each key out once', async () => {
    let running = 0;
    let mostAtOnce = 0;
    const pool = new KeyPool(3, async () => {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      try {
        return await generateRsaKeyPair(2048);
      } finally {
        running--;
      }
    });
    await until(() => pool.available === 3);
    assert.equal(pool.available, 3);
    const taken = [pool.take(), pool.take(), pool.take()];
    assert.equal(pool.take(), undefined, 'empty: the caller makes its own key');
    assert.equal(new Set(taken.map((k) => k?.privateKeyPem)).size, 3, 'never the same key twice');
    for (const keys of taken)
      assert.equal(createPublicKey(keys!.publicKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
    await until(() => pool.available === 3);
    assert.equal(pool.available, 3, 'refilled');
    assert.equal(mostAtOnce, 1, 'never more than one key in the making');
    pool.close();
    assert.equal(pool.available, 0, 'closing drops the keys');
  });

  test('a failing generator is reported and the pool stays usable', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const pool = new KeyPool(
      1,
      async () => {
        if (++calls === 1) throw new Error('no entropy today');
        return generateRsaKeyPair(2048);
      },
      { onError: (error) => errors.push(error), retryDelayMs: 100 },
    );
    await until(() => pool.available === 1);
    assert.equal(errors.length, 1);
    assert.equal(pool.available, 1, 'the next attempt, a moment later, filled it');
    assert.equal(calls, 2);
    pool.close();
  });
});
