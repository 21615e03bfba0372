// TRUST_PROXY: whose X-Forwarded-* headers the portal believes. Unset, a client cannot choose its
// own address; set, the address the trusted proxy saw counts. Only valid addresses are audited.
// And the trap after an upgrade: an https PUBLIC_URL behind a TLS proxy that is not trusted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../config.js';
import { Browser, TEST_ADMIN, withPortal, type TestPortal } from '../testing/harness.js';

const lastSignInIp = (portal: TestPortal) =>
  portal.db.prepare("SELECT ip FROM audit_log WHERE action LIKE 'sign-in%' ORDER BY id DESC LIMIT 1").pluck().get();

describe('TRUST_PROXY setting', () => {
  test('unset trusts nothing; a hop count or a list of addresses and CIDRs is read', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
    assert.equal(loadConfig({ TRUST_PROXY: ' 2 ' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.2' }).trustProxy, ['10.0.0.2']);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.1,::1, fd00::/8' }).trustProxy, [
      '10.0.0.0/8',
      '192.168.1.1',
      '::1',
      'fd00::/8',
    ]);
  });

  for (const value of [
    'yes',
    'true',
    '0',
    '-1',
    '1.5',
    '10.0.0.300',
    '10.0.0.0/33',
    'fd00::/129',
    'proxy.local',
    '10.0.0.1,',
    '*',
  ]) {
    test(`TRUST_PROXY=${value} stops the start with one line naming the variable`, () => {
      assert.throws(
        () => loadConfig({ TRUST_PROXY: value }),
        (error: Error) => /^Configuration error: TRUST_PROXY: /.test(error.message) && !error.message.includes('\n'),
      );
    });
  }
});

describe('the client address', () => {
  test('unset: X-Forwarded-For is ignored, the audit log has the socket address', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal, { address: '192.0.2.7' });
      const page = await browser.request({
        method: 'GET',
        url: '/login',
        headers: { 'x-forwarded-for': '198.51.100.1' },
      });
      assert.equal(page.statusCode, 200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      await browser.request({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.1' },
        payload: new URLSearchParams({ _csrf: csrf, username: TEST_ADMIN.username, password: 'wrong' }).toString(),
      });
      assert.equal(lastSignInIp(portal), '192.0.2.7');
    });
  });

  for (const [setting, socket, header, expected] of [
    ['1', '10.0.0.2', '198.51.100.9, 203.0.113.5', '203.0.113.5'],
    ['2', '10.0.0.2', '198.51.100.9, 203.0.113.5', '198.51.100.9'],
    ['10.0.0.2', '10.0.0.2', '198.51.100.9, 203.0.113.5', '203.0.113.5'],
    ['10.0.0.0/8', '10.0.0.2', '198.51.100.9, 10.0.0.1', '198.51.100.9'],
    ['10.0.0.2', '192.0.2.50', '198.51.100.9', '192.0.2.50'],
    ['1', '10.0.0.2', 'not an address', null],
    ['1', '10.0.0.2', '203.0.113.5, <script>', null],
    ['1', '10.0.0.2', '2001:db8::1', '2001:db8::1'],
  ] as const) {
    test(`TRUST_PROXY=${setting}, from ${socket} with X-Forwarded-For: ${header} → audited as ${expected}`, async () => {
      await withPortal({ env: { TRUST_PROXY: setting } }, async (portal) => {
        const browser = new Browser(portal, { address: socket });
        const headers = { 'x-forwarded-for': header };
        const page = await browser.request({ method: 'GET', url: '/login', headers });
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
        const response = await browser.request({
          method: 'POST',
          url: '/login',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ _csrf: csrf, username: TEST_ADMIN.username, password: 'wrong' }).toString(),
        });
        assert.equal(response.statusCode, 401);
        assert.equal(lastSignInIp(portal), expected);
      });
    });
  }
});

describe('an https PUBLIC_URL behind a proxy that is not trusted', () => {
  const env = { PUBLIC_URL: 'https://enroll.example.org' };
  const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.4' };

  test('the start explains the setting, and the first proxied request is warned about once', async () => {
    await withPortal({ env }, async (portal) => {
      assert.ok(
        portal.logs.some((line) => line.includes('TRUST_PROXY') && line.includes('https://')),
        'explained at start',
      );
      const before = portal.logs.filter((line) => line.includes('TRUST_PROXY=1')).length;
      const browser = new Browser(portal, { address: '10.0.0.2' });
      for (let i = 0; i < 3; i++) await browser.request({ method: 'GET', url: '/login', headers: proxied });
      const warnings = portal.logs.filter((line) => line.includes('TRUST_PROXY=1')).slice(before);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /"level":40/);
      assert.match(warnings[0]!, /10\.0\.0\.2/);
    });
  });

  test('the sign-in page names the exact setting to add', async () => {
    await withPortal({ env }, async (portal) => {
      const page = await new Browser(portal, { address: '10.0.0.2' }).request({
        method: 'GET',
        url: '/login',
        headers: proxied,
      });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /role="alert"[^>]*>[^]*TRUST_PROXY=1/);
      assert.match(page.body, /TRUST_PROXY=10\.0\.0\.2/);
      // Proof that it matters: the sign-in does not stick.
      const browser = new Browser(portal, { address: '10.0.0.2' });
      const first = await browser.request({ method: 'GET', url: '/login', headers: proxied });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(first.body)![1]!;
      const signIn = await browser.request({
        method: 'POST',
        url: '/login',
        headers: { ...proxied, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, ...TEST_ADMIN }).toString(),
      });
      assert.ok(!signIn.cookies.some((c) => c.name === 'enroll_session'), 'no session cookie over plain http');
    });
  });

  test('no warning without forwarding headers, over http PUBLIC_URL, or with TRUST_PROXY set', async () => {
    for (const [name, options, headers] of [
      ['no forwarding headers', { env }, {}],
      ['http PUBLIC_URL', { env: { PUBLIC_URL: 'http://enroll.example.org' } }, proxied],
      ['TRUST_PROXY=1', { env: { ...env, TRUST_PROXY: '1' } }, proxied],
    ] as const) {
      await withPortal(options, async (portal) => {
        const page = await new Browser(portal, { address: '10.0.0.2' }).request({
          method: 'GET',
          url: '/login',
          headers,
        });
        assert.equal(page.statusCode, 200, name);
        assert.doesNotMatch(page.body, /TRUST_PROXY/, name);
        assert.ok(!portal.logs.some((line) => line.includes('TRUST_PROXY=1')), name);
      });
    }
  });

  test('with TRUST_PROXY=1 the same proxied sign-in works and its cookie is Secure', async () => {
    await withPortal({ env: { ...env, TRUST_PROXY: '1' } }, async (portal) => {
      const browser = new Browser(portal, { address: '10.0.0.2' });
      const page = await browser.request({ method: 'GET', url: '/login', headers: proxied });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const signIn = await browser.request({
        method: 'POST',
        url: '/login',
        headers: { ...proxied, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, ...TEST_ADMIN }).toString(),
      });
      assert.equal(signIn.statusCode, 303);
      assert.equal(signIn.cookies.find((c) => c.name === 'enroll_session')?.secure, true);
      assert.equal(lastSignInIp(portal), '198.51.100.4');
    });
  });
});
