// The admin pages' guards and the certificate list: pages, search, filters, sorting.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Browser, startTestPortal, type TestPortal } from '../../testing/harness.js';
import { seedCertificates } from '../../testing/seed.js';

const ADMIN_PAGES = [
  '/certificates',
  '/certificates/new',
  '/certificates/1',
  '/certificates/1/certificate.pem',
  '/outbox',
  '/audit',
  '/broker',
];

describe('admin pages', () => {
  let portal: TestPortal;
  beforeEach(async () => {
    portal = await startTestPortal();
  });
  afterEach(() => portal.close());

  for (const page of ADMIN_PAGES) {
    test(`${page} redirects to sign-in when signed out`, async () => {
      const response = await new Browser(portal).get(page);
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, `/login?next=${encodeURIComponent(page)}`);
    });
  }

  test('POST routes refuse a request without a session (CSRF) and change nothing', async () => {
    for (const action of [
      '/certificates',
      '/certificates/1/revoke',
      '/certificates/1/replace',
      '/broker/server-cert',
    ]) {
      const response = await new Browser(portal).post(action, {
        username: 'x',
        email: 'x@example.org',
        days: '1',
        reason: 'superseded',
        hosts: 'a',
      });
      assert.equal(response.statusCode, 403, action);
    }
    assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0);
  });

  test('an empty list invites the admin to issue the first certificate', async () => {
    const browser = new Browser(portal);
    await browser.signIn();
    const page = await browser.get('/certificates');
    assert.match(page.body, /Getting started/);
    assert.match(page.body, /href="\/ca.crt"/);
    assert.match(page.body, /CA key is stored unencrypted/);
  });
});

describe('the certificate list', () => {
  let portal: TestPortal;
  let browser: Browser;
  const rowsOf = (html: string) =>
    [...html.matchAll(/<tr>\s*<td><a href="\/certificates\/(\d+)">([^<]+)<\/a>/g)].map((m) => m[2]!);
  // Each test reads a fresh portal with the same 120 seeded certificates.
  beforeEach(async () => {
    portal = await startTestPortal();
    seedCertificates(portal.db, { count: 120, now: portal.clock.now(), revoked: 0.1 });
    browser = new Browser(portal);
    await browser.signIn();
  });
  afterEach(() => portal.close());

  test('pages of 50, newest first, with a next page and no repeats', async () => {
    const first = await browser.get('/certificates');
    const names = rowsOf(first.body);
    assert.equal(names.length, 50);
    assert.equal(names[0], 'user000119');
    const next = /href="([^"]+)" rel="next"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const second = rowsOf((await browser.get(next)).body);
    assert.equal(second.length, 50);
    assert.equal(second[0], 'user000069');
    const third = await browser.get(
      /href="([^"]+)" rel="next"/.exec((await browser.get(next)).body)![1]!.replace(/&amp;/g, '&'),
    );
    assert.equal(rowsOf(third.body).length, 20);
    assert.doesNotMatch(third.body, /rel="next"/);
  });

  test('search by username prefix, email and serial prefix', async () => {
    assert.deepEqual(
      rowsOf((await browser.get('/certificates?q=user00011')).body).sort(),
      Array.from({ length: 10 }, (_, i) => `user00011${i}`),
    );
    assert.deepEqual(rowsOf((await browser.get('/certificates?q=user000042%40example.org')).body), ['user000042']);
    const serial = portal.db
      .prepare("SELECT serial FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = 'user000007'")
      .pluck()
      .get() as string;
    assert.deepEqual(rowsOf((await browser.get(`/certificates?q=${serial.slice(0, 12)}`)).body), ['user000007']);
    assert.match((await browser.get('/certificates?q=nobody-like-this')).body, /No certificate matches/);
  });

  test('search finds any part of a username, email, device or serial; shorter than three characters, a prefix', async () => {
    const count = (html: string) => rowsOf(html).length;
    // Every seeded address ends in example.org; the first page holds 50 of the 120.
    assert.equal(count((await browser.get('/certificates?q=example.org')).body), 50);
    assert.equal(count((await browser.get('/certificates?q=phone')).body), 50, 'odd rows are phones');
    assert.deepEqual(rowsOf((await browser.get('/certificates?q=r000042')).body), ['user000042']);
    const serial = portal.db
      .prepare("SELECT serial FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = 'user000099'")
      .pluck()
      .get() as string;
    assert.deepEqual(rowsOf((await browser.get(`/certificates?q=${serial.slice(10, 22)}`)).body), ['user000099']);
    assert.equal(count((await browser.get('/certificates?q=us')).body), 50, 'two characters: a prefix');
    assert.equal(count((await browser.get('/certificates?q=er')).body), 0, 'two characters: not inside a word');
    // Characters FTS5 would read as syntax are searched for as text.
    assert.match((await browser.get('/certificates?q=%22a%20OR%20b*')).body, /No certificate matches/);
    // A new address is found at once, the old one no more: the index changes with the row.
    portal.db.prepare("UPDATE users SET email = 'someone@elsewhere.net' WHERE username = 'user000007'").run();
    assert.deepEqual(rowsOf((await browser.get('/certificates?q=elsewhere')).body), ['user000007']);
    assert.deepEqual(rowsOf((await browser.get('/certificates?q=user000007%40example')).body), []);
  });

  test('filter by status; expired is computed from the date', async () => {
    const now = portal.clock.now().toISOString();
    const expected = (where: string) =>
      portal.db.prepare(`SELECT count(*) FROM certificates WHERE ${where}`).pluck().get(now) as number;
    const countFor = async (url: string) => {
      let total = 0;
      for (let next: string | undefined = url; next; ) {
        const body: string = (await browser.get(next)).body;
        total += rowsOf(body).length;
        next = /href="([^"]+)" rel="next"/.exec(body)?.[1]?.replace(/&amp;/g, '&');
      }
      return total;
    };
    assert.equal(await countFor('/certificates?status=revoked'), expected("status = 'revoked' AND ? IS NOT NULL"));
    assert.equal(await countFor('/certificates?status=expired'), expected("status = 'active' AND not_after < ?"));
    assert.equal(await countFor('/certificates?status=active'), expected("status = 'active' AND not_after >= ?"));
    const expiredPage = await browser.get('/certificates?status=expired');
    assert.match(expiredPage.body, /badge-expired">expired</);
    assert.doesNotMatch(expiredPage.body, /badge-active/);
  });

  test('expires within 30 days, sorted by soonest expiry', async () => {
    const body = (await browser.get('/certificates?expiring=30&sort=expiry')).body;
    // Within 30 days, the expiry is marked as such.
    const dates = [...body.matchAll(/<time datetime="([^"]+)">[^<]*<\/time> <span class="expiring">/g)].map(
      (m) => m[1]!,
    );
    assert.doesNotMatch(body, /<\/time> <span class="muted">/);
    assert.ok(dates.length > 0);
    const now = portal.clock.now().getTime();
    for (const date of dates) assert.ok(Date.parse(date) >= now && Date.parse(date) < now + 30 * 86400_000, date);
    assert.deepEqual([...dates].sort(), dates, 'soonest first');
    assert.match(body, /\(in \d+ days?\)|\(tomorrow\)|\(in \d+ hours?\)/);
  });

  test('a revoked row gives its expiry date without "(in 12 months)"; plurals read right', async () => {
    const body = (await browser.get('/certificates?status=revoked')).body;
    assert.ok(rowsOf(body).length > 0);
    assert.doesNotMatch(body, /\((in|tomorrow)[^)]*\)/);
  });

  test('nonsense in the query string falls back to the defaults', async () => {
    const response = await browser.get('/certificates?status=bogus&sort=%3Cscript%3E&after=garbage');
    assert.equal(response.statusCode, 200);
    assert.equal(rowsOf(response.body).length, 50);
  });
});
