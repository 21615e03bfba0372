// The key pool's bookkeeping, with a generator the test controls: each key is made only when the
// test says so, so "one at a time", "refilled" and "retried" are observed, not waited for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KeyPairPem } from '../pki/keys.js';
import { KeyPool } from './key-pool.js';

/** A generator whose calls wait until the test finishes or fails them, in order. */
function controlledGenerator() {
  const pending: Array<{ resolve: (keys: KeyPairPem) => void; reject: (error: Error) => void }> = [];
  let made = 0;
  let waiter: (() => void) | undefined;
  return {
    pending,
    generate: () =>
      new Promise<KeyPairPem>((resolve, reject) => {
        pending.push({ resolve, reject });
        waiter?.();
      }),
    /** Resolves once the pool has asked for a key that is not made yet; fails after five seconds. */
    async requested(): Promise<void> {
      if (pending.length > 0) return;
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error('the pool asked for no key within 5 s')), 5_000);
        waiter = () => (clearTimeout(deadline), resolve());
      });
    },
    finish() {
      made++;
      pending.shift()!.resolve({ privateKeyPem: `private ${made}`, publicKeyPem: `public ${made}` });
    },
    fail(error: Error) {
      pending.shift()!.reject(error);
    },
  };
}

/** Lets the promise callbacks that follow a finished generation run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the key pool', () => {
  test('fills in the background, one key at a time, and hands each key out once', async () => {
    const generator = controlledGenerator();
    const pool = new KeyPool(3, generator.generate);
    for (let i = 0; i < 3; i++) {
      await generator.requested();
      assert.equal(generator.pending.length, 1, 'never more than one key in the making');
      generator.finish();
      await settle();
    }
    assert.equal(pool.available, 3);
    assert.equal(generator.pending.length, 0, 'full: nothing more is made');
    const taken = [pool.take(), pool.take(), pool.take()];
    assert.equal(pool.take(), undefined, 'empty: the caller makes its own key');
    assert.deepEqual(
      taken.map((keys) => keys?.privateKeyPem),
      ['private 1', 'private 2', 'private 3'],
      'each key once, oldest first',
    );
    assert.deepEqual(pool.stats, { generated: 3, taken: 3, missed: 1 });
    await generator.requested();
    assert.equal(generator.pending.length, 1, 'refilling started at the first take, one key at a time');
    generator.finish();
    await settle();
    assert.equal(pool.take()?.privateKeyPem, 'private 4', 'a fresh key, never one handed out before');
    pool.close();
    assert.equal(pool.available, 0, 'closing drops the keys');
    generator.finish(); // the key in the making when it closed
    await settle();
    assert.equal(pool.available, 0, 'and a key finished after closing is dropped too');
  });

  test('a failing generator is reported and the pool stays usable', async () => {
    const generator = controlledGenerator();
    const errors: unknown[] = [];
    const pool = new KeyPool(1, generator.generate, { onError: (error) => errors.push(error), retryDelayMs: 10 });
    await generator.requested();
    generator.fail(new Error('no entropy today'));
    await generator.requested(); // the retry, after retryDelayMs
    assert.deepEqual(
      errors.map((error) => (error as Error).message),
      ['no entropy today'],
    );
    generator.finish();
    await settle();
    assert.equal(pool.available, 1, 'the next attempt filled it');
    assert.deepEqual(pool.stats, { generated: 1, taken: 0, missed: 0 });
    pool.close();
  });

  test('filling waits for its start delay, or starts at the first take', async () => {
    const generator = controlledGenerator();
    const pool = new KeyPool(2, generator.generate, { startDelayMs: 60_000 });
    await settle();
    assert.equal(generator.pending.length, 0, 'nothing made while the process starts');
    assert.equal(pool.take(), undefined);
    await generator.requested();
    assert.equal(pool.stats.missed, 1);
    pool.close();
  });

  test('no key is started while a mint holds the pool, unless it is empty; filling resumes when the last hold ends', async () => {
    const generator = controlledGenerator();
    const pool = new KeyPool(2, generator.generate);
    await generator.requested();
    generator.finish();
    await settle();
    await generator.requested();
    generator.finish();
    await settle();
    assert.equal(pool.available, 2);
    const releaseFirst = pool.hold();
    const releaseSecond = pool.hold();
    assert.equal(pool.take()?.privateKeyPem, 'private 1');
    await settle();
    assert.equal(generator.pending.length, 0, 'the take starts no key while a mint runs');
    releaseFirst();
    releaseFirst(); // a second call of the same release changes nothing
    await settle();
    assert.equal(generator.pending.length, 0, 'another mint still runs');
    releaseSecond();
    await generator.requested();
    assert.equal(generator.pending.length, 1, 'the last release starts the refill');
    // A key already in the making when a hold begins is finished; the next one waits.
    const release = pool.hold();
    generator.finish();
    await settle();
    assert.equal(pool.available, 2);
    assert.equal(pool.take()?.privateKeyPem, 'private 2');
    await settle();
    assert.equal(generator.pending.length, 0);
    release();
    await generator.requested();
    generator.finish();
    await settle();
    // Mints that overlap without a pause: once the pool is empty it is refilled, holds or not.
    const busy = pool.hold();
    assert.equal(pool.take()?.privateKeyPem, 'private 3');
    assert.equal(pool.take()?.privateKeyPem, 'private 4');
    await generator.requested();
    assert.equal(generator.pending.length, 1, 'empty: refilled while held');
    busy();
    pool.close();
  });
});
