// The trust monitor's schedule and bookkeeping, with a stand-in check and mocked timers (the check
// itself, against real Mosquitto: server-trust.int.test.ts): checked at start, again a minute after
// "unknown" and ten minutes after an answer, also after a refresh from outside; concurrent refreshes
// share one check; an address changed during a check is checked next; a check that throws leaves no
// verdict to rely on; nothing runs after stop, and a check stopped in flight is not heard.
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
    /** Answers the held checks, the last one asked first with `newestFirst`. */
    releaseChecks: (newestFirst = false) => {
      hold = false;
      const held = pending.splice(0);
      for (const release of newestFirst ? held.reverse() : held) release();
    },
  };
}

test('checked at start; a minute after "unknown", ten minutes after an answer; nothing after stop', async (t) => {
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
  t.mock.timers.tick(599_999);
  await settle();
  assert.equal(asked.length, 2);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(asked.length, 3, 'ten minutes after an answer');
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

test('a check that throws is reported and leaves "unknown", not the last verdict', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const monitor = new ServerTrustMonitor({
    address: () => ({ host: 'mqtt.example.org', port: 8883 }),
    now: () => new Date(),
    check: () =>
      ++calls === 1 ? Promise.resolve({ verdict: 'public', issuer: 'Public CA' }) : Promise.reject(new Error('boom')),
    onError: (error) => errors.push(error),
  });
  await monitor.refresh();
  assert.equal(monitor.current()?.verdict, 'public');
  await monitor.refresh();
  assert.deepEqual(
    { verdict: monitor.current()?.verdict, reason: (monitor.current() as { reason?: string }).reason },
    { verdict: 'unknown', reason: 'boom' },
  );
  assert.equal((errors[0] as Error).message, 'boom');
});

test('a refresh from outside (the address changed) plans the next check from its own answer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { monitor, asked, address } = monitorWith([
    { verdict: 'private', reason: 'self-signed' },
    { verdict: 'unknown', reason: 'ECONNREFUSED' },
  ]);
  monitor.start();
  await settle();
  address.host = 'new.example.org';
  await monitor.refresh();
  assert.equal(monitor.current()?.verdict, 'unknown');
  t.mock.timers.tick(60_000);
  await settle();
  assert.deepEqual(asked, ['mqtt.example.org:8883', 'new.example.org:8883', 'new.example.org:8883']);
  monitor.stop();
});

test('stopped and started again while a check is in flight: the stopped check is not heard, a new one runs', async () => {
  const fixture = monitorWith([
    { verdict: 'public', issuer: 'Public CA' },
    { verdict: 'private', reason: 'self-signed' },
  ]);
  fixture.holdChecks();
  fixture.monitor.start();
  await settle();
  fixture.monitor.stop();
  fixture.monitor.start();
  await settle();
  assert.equal(fixture.asked.length, 2, 'the new start checks anew');
  // The new check answers first, then the stopped one: its "public" must not win.
  fixture.releaseChecks(true);
  await settle();
  assert.equal(fixture.monitor.current()?.verdict, 'private');
  fixture.monitor.stop();
});
