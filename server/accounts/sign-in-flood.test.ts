// Password checks are bounded (issue 14): a flood of bogus sign-ins is shed beyond a short line, one
// place per address, and cannot lock the real admin out. Small limits and a cheap cost here; the
// production cost over a real socket is in sign-in-flood.int.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf, TEST_ADMIN, withPortal, type TestPortal } from '../testing/harness.js';
import { HashGate } from './sign-in-limits.js';

/** A few tens of milliseconds per check, so that concurrent requests really queue. */
const SLOW_ENOUGH = { log2N: 12, r: 8, p: 1 };
const LIMITS = { concurrency: 1, queue: 2, knownDeviceSlots: 1, knownDeviceQueue: 1 };

async function ready(portal: TestPortal, browser: Browser, username: string, password: string) {
  const token = csrfTokenOf((await browser.get('/login')).body);
  return () => browser.post('/login', { _csrf: token, username, password });
}

describe('the password-check gate', () => {
  test('gives known devices a slot of their own and the front of the line, one place per address to others, and sheds beyond', async () => {
    const gate = new HashGate(LIMITS);
    const order: string[] = [];
    let done!: () => void;
    const allRan = new Promise<void>((resolve) => (done = resolve));
    const enter = (name: string, address: string, knownDevice = false) => {
      const place = gate.admit({ address, knownDevice });
      if (!place.ok) return `${name}: ${place.scope}`;
      void place.slot.then((release) => {
        order.push(name);
        if (order.length === 5) done();
        setImmediate(release);
      });
      return `${name}: admitted`;
    };
    assert.deepEqual(
      [
        enter('a1', 'A'),
        enter('a2', 'A'),
        enter('a3', 'A'),
        enter('b1', 'B'),
        enter('c1', 'C'),
        enter('known', 'A', true),
        enter('known2', 'D', true),
        enter('known3', 'E', true),
      ],
      [
        'a1: admitted',
        'a2: admitted',
        'a3: address',
        'b1: admitted',
        'c1: server',
        'known: admitted',
        'known2: admitted',
        'known3: server',
      ],
    );
    await allRan;
    assert.deepEqual(order, ['a1', 'known', 'known2', 'a2', 'b1']);
    assert.equal(gate.peak, 2, 'the reserved slot and the shared one');
  });
});

describe('sign-in during a flood', () => {
  test('an admin whose browser signed in before gets in while strangers flood the form', async () => {
    await withPortal({ deps: { passwordCost: SLOW_ENOUGH, hashLimits: LIMITS } }, async (portal) => {
      const admin = new Browser(portal, { address: '192.0.2.1' });
      assert.equal((await admin.signIn()).statusCode, 303);
      assert.ok(admin.cookies.get('enroll_device'), 'the known-device cookie is set at sign-in');
      admin.cookies.delete('enroll_session'); // later: the session is over, the browser remains
      const flood = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          ready(portal, new Browser(portal, { address: `198.51.100.${i + 1}` }), `bogus${i}`, 'wrong password'),
        ),
      );
      const mine = await ready(portal, admin, TEST_ADMIN.username, TEST_ADMIN.password);
      const responses = await Promise.all([
        ...flood.slice(0, 6).map((send) => send()),
        mine(),
        ...flood.slice(6).map((send) => send()),
      ]);
      const adminResponse = responses[6]!;
      assert.equal(adminResponse.statusCode, 303, `the admin got ${adminResponse.statusCode}`);
      const shed = responses.filter((response) => response.statusCode === 503);
      assert.ok(shed.length > 0, `some bogus attempts were shed: ${responses.map((r) => r.statusCode).join(' ')}`);
      for (const response of shed) {
        assert.equal(response.headers['retry-after'], '2');
        assert.match(response.body, /Too many sign-ins are being checked right now/);
      }
      assert.ok(portal.services.accounts.peakPasswordChecks() <= 2, 'never more checks at once than the limits');
    });
  });

  test('a flood from one address takes one place in line: an admin elsewhere gets in without the cookie', async () => {
    await withPortal({ deps: { passwordCost: SLOW_ENOUGH, hashLimits: LIMITS } }, async (portal) => {
      const flood = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          ready(portal, new Browser(portal, { address: '203.0.113.9' }), `bogus${i}`, 'wrong password'),
        ),
      );
      const admin = await ready(
        portal,
        new Browser(portal, { address: '192.0.2.1' }),
        TEST_ADMIN.username,
        TEST_ADMIN.password,
      );
      const responses = await Promise.all([...flood.map((send) => send()), admin()]);
      assert.equal(responses.at(-1)!.statusCode, 303);
      const fromFlood = responses.slice(0, -1).map((response) => response.statusCode);
      assert.ok(fromFlood.filter((status) => status === 429).length >= 5, fromFlood.join(' '));
      assert.match(
        responses.find((response) => response.statusCode === 429)!.body,
        /A sign-in from your address is already waiting/,
      );
      assert.equal(portal.services.accounts.peakPasswordChecks(), 1);
    });
  });
});
