// The issue form's mails on their way (deliveries.ts) and the admin's held bundles (held-bundles.ts):
// what the result page waits for, how long a failed mail's page is remembered, and a bundle let go.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deliveries } from './deliveries.js';
import { HeldBundles } from './held-bundles.js';

/** A promise and the functions that settle it. */
function pending<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('deliveries', () => {
  test('the page waits for its mail, then shows itself; nothing is kept after a mail that went', async () => {
    const deliveries = new Deliveries(() => new Date());
    assert.equal(await deliveries.settled(7), undefined, 'no mail under way: shown at once');
    const mail = pending<string | undefined>();
    deliveries.track(7, mail.promise);
    let answered = false;
    const page = deliveries.settled(7).then((elsewhere) => ((answered = true), elsewhere));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answered, false, 'waiting for the mail');
    mail.resolve(undefined);
    assert.equal(await page, undefined);
    assert.equal(await deliveries.settled(7), undefined);
  });

  test("a failed mail's page is given to every request for ten minutes, then forgotten", async () => {
    let now = Date.parse('2026-11-28T12:00:00Z');
    const deliveries = new Deliveries(() => new Date(now));
    deliveries.track(8, Promise.resolve('/certificates/mail-failed?ticket=t'));
    assert.equal(await deliveries.settled(8), '/certificates/mail-failed?ticket=t');
    assert.equal(await deliveries.settled(8), '/certificates/mail-failed?ticket=t', 'a reload too');
    now += 10 * 60_000;
    deliveries.track(9, Promise.resolve(undefined)); // any later issue sweeps
    assert.equal(await deliveries.settled(8), undefined);
  });

  test('a failure after the record reaches the page as its error, and is not unhandled when no page asks', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const deliveries = new Deliveries(() => new Date());
      deliveries.track(1, Promise.reject(new Error('the database is gone')));
      const asked = pending<string | undefined>();
      deliveries.track(2, asked.promise);
      asked.reject(new Error('the database is gone'));
      await assert.rejects(deliveries.settled(2), /the database is gone/);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('held bundles', () => {
  test('a dropped bundle is gone, though its certificate is active', () => {
    const bundles = new HeldBundles(() => new Date());
    const ticket = bundles.put({ certificateId: 3, pkcs12: new Uint8Array([1, 2, 3]) });
    const active = { id: 3, status: 'active' };
    assert.deepEqual(bundles.get(ticket, active)?.pkcs12, new Uint8Array([1, 2, 3]));
    bundles.drop(ticket);
    assert.equal(bundles.get(ticket, active), undefined);
  });
});
