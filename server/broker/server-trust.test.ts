// The trust monitor's schedule and bookkeeping, with a stand-in check and mocked timers (the check
// itself, against real Mosquitto: server-trust.int.test.ts): checked at start, again a minute after
// "unknown" and an hour after an answer; concurrent refreshes share one check; an address changed
// during a check is checked next; nothing runs after stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerTrustMonitor, type TrustTarget, type TrustVerdict } from './server-trust.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

function monitorWith(
  answers: TrustVerdict[],
  address = { host: 'mqtt.example.org' as string | undefined, port: 8883 },
) {
  const asked: string[] = [];
  const pending: Array<() => void> = [];
  let hold = false;
  const monitor = new ServerTrustMonitor({
    address: () => address,
    now: () => new Date('2026-11-28T12:00:00Z'),
    check: (target: TrustTarget) => {
      asked.push(`${target.host}:${target.port}`);
      const answer = answers.shift() ?? { verdict: 'public', issuer: 'Public CA' };
      if (!hold) return Promise.resolve(answer);
      return new Promise((resolve) => pending.push(() => resolve(answer)));
    },
  });
  return {
    monitor,
    asked,
    address,
    holdChecks: () => (hold = true),
    releaseChecks: () => {
      hold = false;
      for (const release of pending.splice(0)) release();
    },
  };
}

test('checked at start; a minute after "unknown", an hour after an answer; nothing after stop', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { monitor, asked } = monitorWith([
    { verdict: 'unknown', reason: 'ECONNREFUSED' },
    { verdict: 'public', issuer: "Let's Encrypt" },
  ]);
  monitor.start();
  await settle();
  assert.deepEqual(asked, ['mqtt.example.org:8883']);
  assert.equal(monitor.current()?.verdict, 'unknown');
  t.mock.timers.tick(59_999);
  await settle();
  assert.equal(asked.length, 1);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(asked.length, 2, 'a minute after "unknown"');
  assert.deepEqual(monitor.current(), {
    verdict: 'public',
    issuer: "Let's Encrypt",
    address: 'mqtt.example.org:8883',
    checkedAt: new Date('2026-11-28T12:00:00Z'),
  });
  t.mock.timers.tick(3_599_999);
  await settle();
  assert.equal(asked.length, 2);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(asked.length, 3, 'an hour after an answer');
  monitor.stop();
  t.mock.timers.tick(10 * 3_600_000);
  await settle();
  assert.equal(asked.length, 3, 'nothing after stop');
});

test('concurrent refreshes share one check; an address changed meanwhile is checked next', async () => {
  const fixture = monitorWith([]);
  fixture.holdChecks();
  const first = fixture.monitor.refresh();
  const second = fixture.monitor.refresh();
  await settle();
  assert.deepEqual(fixture.asked, ['mqtt.example.org:8883'], 'one check for two refreshes');
  fixture.address.host = 'other.example.org';
  fixture.releaseChecks();
  await settle();
  assert.deepEqual(fixture.asked, ['mqtt.example.org:8883', 'other.example.org:8883']);
  fixture.releaseChecks();
  await Promise.all([first, second]);
  assert.equal(fixture.monitor.current()?.address, 'other.example.org:8883');
});

test('no address: nothing is checked and there is no verdict', async () => {
  const fixture = monitorWith([], { host: undefined, port: 8883 });
  await fixture.monitor.refresh();
  assert.deepEqual(fixture.asked, []);
  assert.equal(fixture.monitor.current(), undefined);
});

test('a check that throws leaves the last verdict and is reported', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const monitor = new ServerTrustMonitor({
    address: () => ({ host: 'mqtt.example.org', port: 8883 }),
    now: () => new Date(),
    check: () =>
      ++calls === 1
        ? Promise.resolve({ verdict: 'private', reason: 'self-signed' })
        : Promise.reject(new Error('boom')),
    onError: (error) => errors.push(error),
  });
  await monitor.refresh();
  await monitor.refresh();
  assert.equal(monitor.current()?.verdict, 'private');
  assert.equal((errors[0] as Error).message, 'boom');
});
