// Secrets held in memory for a stated time (a passphrase to show once, a pickup code, a server key,
// the admin's bundle download) leave memory when that time is up, even on a portal nobody visits:
// each entry's own timer forgets it, not the next visitor's request.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN_DOWNLOAD_MS, HeldBundles } from './held-bundles.js';
import { OneTimeSecrets, SECRET_TTL_MS } from './one-time-secrets.js';

/** A stand-in for the timers: what was scheduled, to run by hand. */
function laterByHand() {
  const scheduled: Array<{ run: () => void; ms: number }> = [];
  return { scheduled, later: (run: () => void, ms: number) => void scheduled.push({ run, ms }) };
}

describe('secrets in memory', () => {
  test('a passphrase nobody asks for is forgotten at its time, without another request', () => {
    const { scheduled, later } = laterByHand();
    const secrets = new OneTimeSecrets<string>(() => new Date(), later);
    const ticket = secrets.put('correct horse');
    assert.deepEqual(
      scheduled.map((entry) => entry.ms),
      [SECRET_TTL_MS],
    );
    assert.equal(secrets.peek(ticket), 'correct horse');
    scheduled[0]!.run();
    assert.equal(secrets.peek(ticket), undefined);
    assert.equal(secrets.size, 0);
  });

  test('a timer forgets only its own entry: one taken early leaves the others', () => {
    const { scheduled, later } = laterByHand();
    const secrets = new OneTimeSecrets<string>(() => new Date(), later);
    const first = secrets.put('one');
    const second = secrets.put('two');
    assert.equal(secrets.take(first), 'one');
    scheduled[0]!.run();
    assert.equal(secrets.peek(second), 'two');
    scheduled[1]!.run();
    assert.equal(secrets.size, 0);
  });

  test("the admin's bundle download is forgotten at its time, without another request", () => {
    const { scheduled, later } = laterByHand();
    const bundles = new HeldBundles(() => new Date(), later);
    const ticket = bundles.put({ certificateId: 3, pkcs12: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(
      scheduled.map((entry) => entry.ms),
      [ADMIN_DOWNLOAD_MS],
    );
    scheduled[0]!.run();
    assert.equal(bundles.get(ticket, { id: 3, status: 'active' }), undefined);
    assert.equal(bundles.size, 0);
  });
});
