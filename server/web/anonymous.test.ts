// Anonymous traffic costs no database write (no session row for a visitor who is not signed in),
// forms still carry a CSRF token that every POST checks, and a per-address limit holds
// anonymous page requests while the paths that brokers and monitors poll are never limited.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf, TEST_ADMIN, withPortal, type TestPortal } from '../testing/harness.js';
import { ANONYMOUS_RATE_LIMIT } from './plugins/rate-limit.js';

const sessionRows = (portal: TestPortal) => portal.db.prepare('SELECT count(*) FROM sessions').pluck().get() as number;
const auditRows = (portal: TestPortal) => portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;

function setupToken(logs: string[]): string {
  const line = logs.find((entry) => entry.includes('/setup?token='))!;
  return /\/setup\?token=([\w-]+)/.exec(line)![1]!;
}

describe('anonymous requests write nothing', () => {
  test('404s, the sign-in page, the setup page, static files and public files make no session row', async () => {
    await withPortal({ withAdmin: false }, async (portal) => {
      const token = setupToken(portal.logs);
      const urls = [
        '/no/such/page',
        '/login',
        '/login?next=/certificates',
        '/login?signedOut=1',
        '/login?expired=1',
        `/setup?token=${token}`,
        '/setup?token=wrong',
        '/static/css/app.css',
        '/ca.crt',
        '/crl.pem',
        '/healthz',
        '/certificates',
        '/',
      ];
      // Each as a new visitor and as one that keeps its cookies, 5 rounds.
      const returning = new Browser(portal);
      for (let round = 0; round < 5; round++) {
        for (const url of urls) {
          const fresh = await new Browser(portal).get(url);
          assert.ok(fresh.statusCode < 500, `${url}: ${fresh.statusCode}`);
          await returning.get(url);
        }
      }
      assert.equal(sessionRows(portal), 0);
      assert.ok(!returning.cookies.has('enroll_session'), 'no session cookie for a visitor');
    });
  });

  test('a sign-out leaves no row behind, and the sign-in page still says so', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      assert.equal((await browser.signIn()).statusCode, 303);
      assert.equal(sessionRows(portal), 1);
      const out = await browser.submit('/certificates', '/logout', {});
      assert.equal(out.headers.location, '/login?signedOut=1');
      const page = await browser.get(String(out.headers.location));
      assert.match(page.body, /You are signed out/);
      assert.equal(sessionRows(portal), 0);
    });
  });

  test('the setup link still creates the first admin with a CSRF token, and writes no session row', async () => {
    await withPortal({ withAdmin: false }, async (portal) => {
      const token = setupToken(portal.logs);
      const browser = new Browser(portal);
      const fields = { token, username: 'owner', password: 'a long password!', confirm: 'a long password!' };
      const noToken = await browser.post('/setup', fields);
      assert.equal(noToken.statusCode, 403);
      const created = await browser.submit(`/setup?token=${token}`, '/setup', fields);
      assert.equal(created.statusCode, 303);
      assert.equal(portal.db.prepare('SELECT username FROM admins').pluck().get(), 'owner');
      assert.equal(sessionRows(portal), 0);
      const login = await browser.get(String(created.headers.location));
      assert.match(login.body, /The first admin was created\. Sign in to continue\./);
      assert.equal(sessionRows(portal), 0);
      assert.equal((await browser.signIn('owner', 'a long password!')).statusCode, 303);
      assert.equal(sessionRows(portal), 1);
    });
  });
});

describe('CSRF without a stored session', () => {
  test('a sign-in without a token, with a wrong one, or with a token without its cookie is refused and changes nothing', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      const page = await browser.get('/login');
      const token = csrfTokenOf(page.body);
      const rowsBefore = auditRows(portal);
      const variants: Array<[string, Record<string, string>, Browser]> = [
        ['no token', { ...TEST_ADMIN }, browser],
        ['a wrong token', { ...TEST_ADMIN, _csrf: 'x'.repeat(token.length) }, browser],
        [
          'a token altered by one character',
          { ...TEST_ADMIN, _csrf: token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a') },
          browser,
        ],
        ['a token without its cookie', { ...TEST_ADMIN, _csrf: token }, new Browser(portal)],
      ];
      for (const [name, fields, client] of variants) {
        const response = await client.post('/login', fields);
        assert.equal(response.statusCode, 403, name);
        assert.match(response.body, /form expired/, name);
        assert.ok(!client.cookies.has('enroll_session'), `${name}: no session`);
      }
      // A forged cookie: another browser's token against a tampered secret cookie.
      const forger = new Browser(portal);
      await forger.get('/login');
      for (const [name, value] of forger.cookies)
        forger.cookies.set(
          name,
          value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        );
      assert.equal((await forger.post('/login', { ...TEST_ADMIN, _csrf: token })).statusCode, 403, 'tampered cookie');
      assert.equal(auditRows(portal), rowsBefore, 'nothing recorded');
      assert.equal(sessionRows(portal), 0);
      assert.equal(
        (await browser.post('/login', { ...TEST_ADMIN, _csrf: token })).statusCode,
        303,
        'the real token works',
      );
    });
  });

  test('signed-in forms are checked too: a sign-out or an issue without the token is refused', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const issue = await browser.post('/certificates', { username: 'alice', email: 'a@example.org', days: '30' });
      assert.equal(issue.statusCode, 403);
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0);
      assert.equal((await browser.post('/logout', {})).statusCode, 403);
      assert.equal((await browser.get('/certificates')).statusCode, 200, 'still signed in');
    });
  });
});

describe('the per-address limit on anonymous traffic', () => {
  test(`more than ${ANONYMOUS_RATE_LIMIT.max} anonymous requests a minute get a 429 page; other clients do not`, async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      const statuses: number[] = [];
      for (let i = 0; i < ANONYMOUS_RATE_LIMIT.max; i++)
        statuses.push((await browser.get(i % 2 ? '/login' : `/nothing/${i}`)).statusCode);
      assert.ok(!statuses.includes(429), 'none refused within the limit');
      const over = await browser.get('/login');
      assert.equal(over.statusCode, 429);
      assert.match(over.body, /Too many requests from your address/);
      assert.ok(Number(over.headers['retry-after']) > 0);
      assert.equal((await browser.get('/no/such/page')).statusCode, 429, '404s count too');
      assert.equal((await new Browser(portal).get('/login')).statusCode, 200, 'another client is not affected');
    });
  });

  test('the polled paths and static files are never limited, and a signed-in admin is not limited', async () => {
    await withPortal({}, async (portal) => {
      const admin = new Browser(portal);
      await admin.signIn();
      const monitor = new Browser(portal);
      const exempt = ['/healthz', '/ca.crt', '/ca.otre', '/crl.pem', '/static/css/app.css', '/static/js/local-time.js'];
      for (let i = 0; i < ANONYMOUS_RATE_LIMIT.max + 20; i++) {
        const url = exempt[i % exempt.length]!;
        assert.notEqual((await monitor.get(url)).statusCode, 429, url);
        assert.equal((await admin.get('/nothing')).statusCode, 404, 'admin: a page, not a 429');
      }
      // The monitor's anonymous budget is untouched by all that polling.
      assert.equal((await monitor.get('/login')).statusCode, 200);
      assert.equal((await admin.get('/certificates')).statusCode, 200, 'the admin is still served');
    });
  });
});
