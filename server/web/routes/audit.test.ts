// The audit log page, and operations: Secure cookies behind TLS, a log without secrets, the broker page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, afterEach, describe, test } from 'node:test';
import { auditRepository } from '../../db/audit.js';
import { isValidCrl } from '../../pki/crl.js';
import {
  Browser,
  csrfTokenOf,
  startTestPortal,
  withPortal,
  TEST_ADMIN,
  type TestPortal,
} from '../../testing/harness.js';
import { readCrl } from '../../testing/pki.js';

describe('the audit log page', () => {
  // Each test: a fresh portal with a failed sign-in, a sign-in from 192.0.2.44 and one issue.
  let portal: TestPortal;
  let browser: Browser;
  beforeEach(async () => {
    portal = await startTestPortal();
    await new Browser(portal).signIn(TEST_ADMIN.username, 'a wrong password');
    browser = new Browser(portal, { address: '192.0.2.44' });
    await browser.signIn();
    await browser.issue({ username: 'jjolie', email: 'j@example.org', days: '30' });
  });
  afterEach(() => portal.close());

  test('lists sign-ins (failed too), issues, mail and CRL publications with who, when and from where', async () => {
    const page = await browser.get('/audit');
    assert.equal(page.statusCode, 200);
    for (const action of ['sign-in', 'issue', 'mail', 'crl-publish', 'admin-created'])
      assert.match(page.body, new RegExp(`<td data-action="${action}">`), action);
    assert.match(page.body, /badge-revoked">failed</, 'the failed sign-in');
    assert.match(page.body, /<td class="hide-small mono nowrap">192\.0\.2\.44<\/td>/, 'from where, on one line');
    assert.match(page.body, /<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/, 'UTC, turned into local time by the browser');
  });

  test('says what happened in words and links its subject, never "certificate:1" or raw codes', async () => {
    const page = (await browser.get('/audit')).body;
    assert.doesNotMatch(page, />certificate:\d+</);
    assert.match(page, /<a href="\/certificates\/1">jjolie \(phone\)<\/a>/);
    assert.match(page, /<td data-action="issue">Certificate issued<\/td>/);
    assert.match(page, /<td data-action="sign-in">Signed in<\/td>/);
    assert.match(page, /<option value="issue">Certificate issued<\/option>/, 'the filter in words too');
    assert.doesNotMatch(page, />success</);
  });

  test('filters by actor and by action', async () => {
    const issues = (await browser.get('/audit?action=issue')).body;
    assert.match(issues, /<td data-action="issue">/);
    assert.doesNotMatch(issues, /<td data-action="sign-in">/);
    const system = (await browser.get('/audit?actor=system')).body;
    assert.match(system, /<td data-action="crl-publish">/);
    assert.doesNotMatch(system, /<td data-action="sign-in">/, 'the system never signs in');
  });

  test('pages of 100, newest first', async () => {
    for (let i = 0; i < 120; i++)
      auditRepository(portal.db).record(
        { actor: 'filler', action: 'test', outcome: 'success', detail: `entry ${i}` },
        new Date(),
      );
    const first = (await browser.get('/audit?actor=filler')).body;
    assert.equal((first.match(/<td>filler<\/td>/g) ?? []).length, 100);
    assert.match(first, /entry 119/);
    const next = /href="([^"]+)" rel="next"/.exec(first)![1]!.replace(/&amp;/g, '&');
    const second = (await browser.get(next)).body;
    assert.equal((second.match(/<td>filler<\/td>/g) ?? []).length, 20);
    assert.match(second, /entry 0</);
  });
});

describe('operations', () => {
  test('https PUBLIC_URL: Secure cookies and HSTS', async () => {
    await withPortal({ env: { PUBLIC_URL: 'https://enroll.example.org', TRUST_PROXY: '1' } }, async (portal) => {
      // Behind a trusted TLS-terminating proxy, which says so in X-Forwarded-Proto.
      const browser = new Browser(portal);
      const proxied = { 'x-forwarded-proto': 'https' };
      const page = await browser.request({ method: 'GET', url: '/login', headers: proxied });
      assert.equal(page.cookies.find((c) => c.name === '__Host-enroll_csrf')?.secure, true);
      assert.match(String(page.headers['strict-transport-security']), /max-age=31536000/);
      const signedIn = await browser.request({
        method: 'POST',
        url: '/login',
        headers: { ...proxied, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrfTokenOf(page.body), ...TEST_ADMIN }).toString(),
      });
      assert.equal(signedIn.statusCode, 303);
      assert.equal(signedIn.cookies.find((c) => c.name === 'enroll_session')?.secure, true);
    });
  });

  test('the log never holds passwords, cookies or CSRF tokens', async () => {
    await withPortal({ env: { LOG_LEVEL: 'trace' } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      await browser.get('/certificates');
      const log = portal.logs.join('\n');
      assert.ok(!log.includes(TEST_ADMIN.password), 'password');
      assert.ok(!log.includes(browser.cookies.get('enroll_session')!), 'session cookie');
      assert.ok(log.includes('"url":"/certificates"'), 'requests are logged');
    });
  });

  test("the broker page shows this installation's paths and refuses bad server certificate names", async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const page = await browser.get('/broker');
      assert.match(page.body, new RegExp(`cafile ${portal.dataDir.replace(/[/.]/g, '\\$&')}/ca.crt`));
      assert.match(page.body, new RegExp(`crlfile ${portal.dataDir.replace(/[/.]/g, '\\$&')}/crl.pem`));
      assert.match(page.body, /use_identity_as_username true/);
      assert.match(page.body, /pattern readwrite owntracks\/%u\/#/);
      assert.match(page.body, /WebSocket listeners do not check CRLs/);
      const bad = await browser.submit('/broker', '/broker/server-cert', { hosts: 'not a host!', ips: '300.1.1.1' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /id="e-hosts">Use host names/);
      assert.match(bad.body, /id="e-ips">Not an IP address: [^<]*Use addresses such as/);
      assert.equal(portal.db.prepare('SELECT count(*) FROM server_certificates').pluck().get(), 0);
      const good = await browser.submit('/broker', '/broker/server-cert', {
        hosts: 'mqtt.example.org',
        ips: '192.0.2.10',
      });
      assert.equal(good.statusCode, 303);
      assert.match((await browser.get(String(good.headers.location))).body, /-----BEGIN PRIVATE KEY-----/);
      assert.equal(
        portal.db.prepare('SELECT names FROM server_certificates').pluck().get(),
        'mqtt.example.org, 192.0.2.10',
      );
      assert.ok(!portal.logs.some((line) => line.includes('BEGIN PRIVATE KEY')), 'the key is not logged');

      const { id, serial } = portal.db.prepare('SELECT id, serial FROM server_certificates').get() as {
        id: number;
        serial: string;
      };
      const revoked = await browser.submit('/broker', `/broker/server-cert/${id}/revoke`, { reason: 'keyCompromise' });
      assert.equal(revoked.statusCode, 303);
      assert.match((await browser.get('/broker')).body, /Server certificate revoked\. CRL \d+ published/);
      const crl = readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8');
      assert.equal(isValidCrl(crl, portal.ca), true);
      assert.deepEqual(readCrl(crl).entries, [{ serial, reason: 'keyCompromise' }]);
    });
  });
});
