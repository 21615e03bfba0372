// How a certificate's connection reads: never connected, connected, last seen; and that pages say
// nothing about it when the portal records no presence (no broker link).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, withPortal } from '../testing/harness.js';
import { certificatePresence, CONNECTED_WITHIN_MS, presenceOf } from './presence.js';

const DELIVERED = '2026-11-27T12:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(DELIVERED) + ms).toISOString();
const NOW = new Date(Date.parse(DELIVERED) + 10 * 3600_000);

describe('presence of a certificate', () => {
  test('never connected until its device publishes after delivery', () => {
    assert.deepEqual(presenceOf(undefined, DELIVERED, NOW), { state: 'never' });
    assert.deepEqual(presenceOf({ lastMessageAt: null, lastWillAt: null }, DELIVERED, NOW), { state: 'never' });
    assert.deepEqual(presenceOf({ lastMessageAt: at(-1), lastWillAt: at(-1) }, DELIVERED, NOW), { state: 'never' });
  });

  test('connected: a message within the hour and no last will since', () => {
    const recent = NOW.getTime() - Date.parse(DELIVERED) - CONNECTED_WITHIN_MS + 1;
    assert.equal(presenceOf({ lastMessageAt: at(recent), lastWillAt: null }, DELIVERED, NOW).state, 'connected');
    assert.equal(
      presenceOf({ lastMessageAt: at(recent), lastWillAt: at(recent - 1) }, DELIVERED, NOW).state,
      'connected',
      'a will before the message is an earlier connection',
    );
    assert.deepEqual(presenceOf({ lastMessageAt: at(recent), lastWillAt: at(recent + 5) }, DELIVERED, NOW), {
      state: 'seen',
      at: at(recent + 5),
    });
    assert.deepEqual(presenceOf({ lastMessageAt: at(recent - 2), lastWillAt: null }, DELIVERED, NOW), {
      state: 'seen',
      at: at(recent - 2),
    });
  });

  test('a last will alone shows the device did connect', () => {
    assert.deepEqual(presenceOf({ lastMessageAt: null, lastWillAt: at(60_000) }, DELIVERED, NOW), {
      state: 'seen',
      at: at(60_000),
    });
  });

  test('a certificate whose bundle certainly has not reached the person is never "connected", whoever publishes on its topic', () => {
    const justNow = at(NOW.getTime() - Date.parse(DELIVERED) - 60_000);
    const reads = {
      recording: true,
      endOf: () => undefined,
      times: () => ({ lastMessageAt: justNow, lastWillAt: null }),
    };
    const row = { user_id: 1, device: 'phone', issued_at: DELIVERED, revoked_at: null, not_after: at(365 * 86400_000) };
    for (const delivery of ['pending', 'failed'] as const)
      assert.deepEqual(certificatePresence(reads, { ...row, delivery }, NOW), { state: 'never' }, delivery);
    // The outbox: perhaps handed over without being marked forwarded.
    for (const delivery of ['sent', 'forwarded', 'picked_up', 'outbox'] as const)
      assert.equal(certificatePresence(reads, { ...row, delivery }, NOW).state, 'connected', delivery);
  });

  test('a revoked or expired certificate is never "connected": its device now speaks for another one', () => {
    const justNow = at(NOW.getTime() - Date.parse(DELIVERED) - 60_000);
    const reads = {
      recording: true,
      endOf: () => undefined,
      times: () => ({ lastMessageAt: justNow, lastWillAt: null }),
    };
    const row = {
      user_id: 1,
      device: 'phone',
      issued_at: DELIVERED,
      revoked_at: null,
      not_after: at(365 * 86400_000),
      delivery: 'sent' as const,
    };
    assert.equal(certificatePresence(reads, row, NOW).state, 'connected', 'active: the replacement is not involved');
    const revokedAt = at(3600_000);
    // Heard only since it ended (its replacement): when it was last seen is not known, not made up.
    assert.deepEqual(certificatePresence(reads, { ...row, revoked_at: revokedAt }, NOW), { state: 'not-since-ended' });
    const expired = { ...row, not_after: at(2 * 3600_000) };
    assert.deepEqual(certificatePresence(reads, expired, NOW), { state: 'not-since-ended' });
    // A last will before its end and messages since: last seen at that will.
    const will = at(1800_000);
    const mixed = {
      recording: true,
      endOf: () => undefined,
      times: () => ({ lastMessageAt: justNow, lastWillAt: will }),
    };
    assert.deepEqual(certificatePresence(mixed, { ...row, revoked_at: revokedAt }, NOW), { state: 'seen', at: will });
    const earlier = at(1000);
    const before = {
      recording: true,
      endOf: () => undefined,
      times: () => ({ lastMessageAt: earlier, lastWillAt: null }),
    };
    assert.deepEqual(certificatePresence(before, { ...row, revoked_at: revokedAt }, NOW), {
      state: 'seen',
      at: earlier,
    });
    const nothing = { recording: true, endOf: () => undefined, times: () => undefined };
    assert.deepEqual(certificatePresence(nothing, { ...row, revoked_at: revokedAt }, NOW), { state: 'never' });
  });

  test('without a broker link the pages neither show nor filter presence', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'alice', email: 'alice@example.org', days: '30' });
      const list = await browser.get('/certificates');
      assert.doesNotMatch(list.body, /never connected|Issued but never connected/i);
      const detail = await browser.get(`/certificates/${id}`);
      assert.match(detail.body, /Not recorded: the portal has no broker link/);
      assert.doesNotMatch((await browser.get('/people/alice')).body, /data-testid="presence"/);
    });
  });
});
