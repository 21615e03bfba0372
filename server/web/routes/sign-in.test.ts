// Signing in and out: the contract's form, sessions and their limits, CSRF, back-off and rate limits.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  Browser,
  csrfTokenOf,
  startTestPortal,
  withPortal,
  TEST_ADMIN,
  type TestPortal,
} from '../../testing/harness.js';
import { hashPassword } from '../../accounts/password.js';
import { LAST_SEEN_RESOLUTION_MS, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../plugins/session.js';

describe('sign-in', () => {
  let portal: TestPortal;
  beforeEach(async () => {
    portal = await startTestPortal();
  });
  afterEach(() => portal.close());

  test("/healthz answers its JSON with no-store and nosniff, without the pages' Helmet headers", async () => {
    const health = await new Browser(portal).get('/healthz');
    assert.equal(health.statusCode, 200);
    assert.match(String(health.headers['content-type']), /^application\/json/);
    assert.equal(health.headers['cache-control'], 'no-store');
    assert.equal(health.headers['x-content-type-options'], 'nosniff');
    assert.equal(health.headers['content-security-policy'], undefined);
    const page = await new Browser(portal).get('/login');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  });

  test('the sign-in page has the labelled fields and the button of the contract', async () => {
    const page = await new Browser(portal).get('/login');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<label for="f-username">Username<\/label>/);
    assert.match(page.body, /<label for="f-password">Password<\/label>/);
    assert.match(page.body, /<button type="submit" class="primary">Sign in<\/button>/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self';style-src 'self'/);
  });

  test('the right password signs in with a new session id, and the audit log says so', async () => {
    const browser = new Browser(portal);
    await browser.get('/login');
    const before = browser.cookies.get('enroll_session');
    const response = await browser.signIn();
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/certificates');
    assert.notEqual(browser.cookies.get('enroll_session'), before, 'session id regenerated');
    const cookie = response.cookies.find((c) => c.name === 'enroll_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.secure, undefined, 'not Secure over http');
    const row = portal.db.prepare("SELECT * FROM audit_log WHERE action = 'sign-in' AND outcome = 'success'").get() as {
      actor: string;
      ip: string;
    };
    assert.equal(row.actor, TEST_ADMIN.username);
    assert.ok(row.ip);
  });

  const wrong: Array<[string, string, string]> = [
    ['a wrong password', TEST_ADMIN.username, 'not the password'],
    ['an unknown username', 'nobody', TEST_ADMIN.password],
  ];
  for (const [name, username, password] of wrong) {
    test(`${name} is refused with the same message`, async () => {
      const response = await new Browser(portal).signIn(username, password);
      assert.equal(response.statusCode, 401);
      assert.match(response.body, /Username or password is wrong/);
      assert.match(response.body, new RegExp(`value="${username}"`), 'username kept');
    });
  }

  test('a name that is no admin (a password typed into Username, say) is not written to the audit log', async () => {
    const response = await new Browser(portal).signIn('correct horse battery staple', 'whatever');
    assert.equal(response.statusCode, 401);
    const rows = portal.db.prepare("SELECT actor, detail FROM audit_log WHERE action = 'sign-in'").all();
    assert.deepEqual(rows, [{ actor: '(unknown name)', detail: 'invalid' }]);
    assert.ok(!JSON.stringify(portal.db.prepare('SELECT * FROM audit_log').all()).includes('horse'));
  });

  test('an empty form shows messages beside the fields', async () => {
    const response = await new Browser(portal).submit('/login', '/login', { username: '', password: '' });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /id="e-username">Enter your username/);
    assert.match(response.body, /id="e-password">Enter your password/);
  });

  test('a missing or foreign CSRF token is refused with 403 and signs nobody in', async () => {
    const browser = new Browser(portal);
    const missing = await browser.post('/login', { username: TEST_ADMIN.username, password: TEST_ADMIN.password });
    assert.equal(missing.statusCode, 403);
    assert.match(missing.body, /form expired/);
    const other = new Browser(portal);
    const foreign = csrfTokenOf((await other.get('/login')).body);
    const forged = await browser.submit(
      '/login',
      '/login',
      { username: TEST_ADMIN.username, password: TEST_ADMIN.password },
      { csrf: foreign },
    );
    assert.equal(forged.statusCode, 403);
    assert.equal((await browser.get('/certificates')).statusCode, 303);
  });

  test('sign-out ends the session on the server', async () => {
    const browser = new Browser(portal);
    await browser.signIn();
    const stolen = new Map(browser.cookies);
    const out = await browser.submit('/certificates', '/logout', {});
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/login?signedOut=1');
    const replay = new Browser(portal);
    replay.cookies = stolen;
    const page = await replay.get('/certificates');
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/login/);
  });

  test('sessions ended by the CLI (delete, disable, new password, end-sessions) stay ended, a request under way included', async () => {
    const { accounts } = portal.services;
    const password = 'mallory password 123';
    assert.ok((await accounts.createAdmin({ username: 'mallory', password }, { name: 'cli' })).ok);
    const endings: Array<[string, () => unknown]> = [
      ['end-sessions', () => accounts.endSessions('mallory', { name: 'owner' })],
      [
        'new password',
        () => accounts.resetPassword({ username: 'mallory', password: 'another password 456' }, { name: 'owner' }),
      ],
      ['end-sessions for all', () => accounts.endSessions(undefined, { name: 'owner' })],
      ['disable', () => accounts.disableAdmin('mallory', { name: 'owner' })],
    ];
    let current = password;
    for (const [what, end] of endings) {
      const browser = new Browser(portal);
      assert.equal((await browser.signIn('mallory', current)).statusCode, 303, what);
      const page = await browser.get('/groups');
      portal.clock.advance(LAST_SEEN_RESOLUTION_MS + 1_000); // the session is due to be saved again
      // A POST whose body arrives slowly: its session is loaded, then the CLI ends it, then it is saved.
      const body = new PassThrough();
      const payload = new URLSearchParams({ _csrf: csrfTokenOf(page.body), name: `g${what.length}` }).toString();
      const cookie = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const underWay = portal.app.inject({
        method: 'POST',
        url: '/groups',
        payload: body,
        headers: {
          cookie,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(payload.length),
        },
      });
      body.write(payload.slice(0, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await end();
      if (what === 'new password') current = 'another password 456';
      body.end(payload.slice(5));
      await underWay;
      const after = await browser.get('/certificates');
      assert.equal(after.statusCode, 303, `${what}: the old cookie no longer opens a page`);
      assert.match(String(after.headers.location), /^\/login/);
    }
    // A new sign-in after an ending works (the admin is enabled again for it).
    assert.ok(accounts.enableAdmin('mallory', { name: 'owner' }).ok);
    const again = new Browser(portal);
    assert.equal((await again.signIn('mallory', current)).statusCode, 303);
    assert.equal((await again.get('/certificates')).statusCode, 200);
  });

  test('an admin disabled or given a new password while their password is being checked gets no session', async () => {
    const { accounts } = portal.services;
    const password = 'mallory password 123';
    assert.ok((await accounts.createAdmin({ username: 'mallory', password }, { name: 'cli' })).ok);
    // A slow hash (production's cost), so that the owner's change lands during the check.
    portal.db
      .prepare("UPDATE admins SET password_hash = ? WHERE username = 'mallory'")
      .run(await hashPassword(password, { log2N: 15, r: 8, p: 1 }));
    const changes: Array<[string, () => unknown]> = [
      ['disabled', () => accounts.disableAdmin('mallory', { name: 'owner' })],
      [
        'a new password',
        () => accounts.resetPassword({ username: 'mallory', password: 'another password 456' }, { name: 'owner' }),
      ],
    ];
    for (const [what, change] of changes) {
      const signingIn = accounts.signIn({ username: 'mallory', password }, { ip: '203.0.113.7' });
      await new Promise((resolve) => setTimeout(resolve, 5)); // the check under way
      await change();
      assert.deepEqual(await signingIn, { ok: false, reason: 'invalid' }, what);
      accounts.enableAdmin('mallory', { name: 'owner' });
      portal.db
        .prepare("UPDATE admins SET password_hash = ? WHERE username = 'mallory'")
        .run(await hashPassword(password, { log2N: 15, r: 8, p: 1 }));
    }
    assert.equal(
      portal.db
        .prepare(
          "SELECT count(*) FROM audit_log WHERE action = 'sign-in' AND detail = 'changed while the password was checked'",
        )
        .pluck()
        .get(),
      2,
    );
  });

  test('a session idle for 30 minutes is refused', async () => {
    const browser = new Browser(portal);
    await browser.signIn();
    assert.equal((await browser.get('/certificates')).statusCode, 200);
    portal.clock.advance(SESSION_IDLE_MS + 1000);
    const page = await browser.get('/certificates');
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/login/);
  });

  test('pages seen within a minute write no session row and send no cookie; use a minute later keeps the session past 30 minutes', async () => {
    const browser = new Browser(portal);
    await browser.signIn();
    const writes = () => portal.db.prepare('SELECT total_changes()').pluck().get() as number;
    portal.clock.advance(LAST_SEEN_RESOLUTION_MS);
    assert.equal((await browser.get('/certificates')).statusCode, 200); // moves lastSeenAt: one save
    const before = writes();
    for (let i = 0; i < 5; i++) {
      portal.clock.advance(5_000);
      const page = await browser.get('/certificates');
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['set-cookie'], undefined, 'nothing to tell the browser either');
    }
    assert.equal(writes(), before, 'five page views in the same minute wrote nothing');
    // Seen again after 20 minutes, then 20 more: 40 minutes after sign-in, never idle for 30.
    portal.clock.advance(20 * 60_000);
    const later = await browser.get('/certificates');
    assert.equal(later.statusCode, 200);
    assert.ok(writes() > before, 'a view a minute or more later saves the session');
    assert.match(
      String(later.headers['set-cookie']),
      /enroll_session=.*Expires=/,
      'with a cookie good for 30 minutes more',
    );
    portal.clock.advance(20 * 60_000);
    assert.equal((await browser.get('/certificates')).statusCode, 200, 'still signed in');
  });

  test('a session older than 8 hours is refused even when used', async () => {
    const browser = new Browser(portal);
    await browser.signIn();
    for (let elapsed = 0; elapsed <= SESSION_ABSOLUTE_MS; elapsed += SESSION_IDLE_MS / 2) {
      portal.clock.advance(SESSION_IDLE_MS / 2);
      const page = await browser.get('/certificates');
      if (page.statusCode !== 200) {
        assert.ok(elapsed + SESSION_IDLE_MS / 2 > SESSION_ABSOLUTE_MS, `refused too early, after ${elapsed} ms`);
        assert.equal(page.headers.location, '/login?expired=1');
        return;
      }
    }
    assert.fail('the session outlived its absolute limit');
  });

  test('only local addresses are followed after sign-in', async () => {
    for (const [next, expected] of [
      ['/certificates/new', '/certificates/new'],
      ['//evil.example', '/certificates'],
      ['https://evil.example', '/certificates'],
    ]) {
      const response = await new Browser(portal).submit('/login', '/login', { ...TEST_ADMIN, next: next! });
      assert.equal(response.headers.location, expected);
    }
  });

  test('unknown pages get a proper 404 page', async () => {
    const response = await new Browser(portal).get('/no/such/page');
    assert.equal(response.statusCode, 404);
    assert.match(response.body, /Page not found/);
  });
});

describe('sign-in limits', () => {
  test('the per-account back-off answers 429 after five failures, and the right password works after it', async () => {
    await withPortal({}, async (portal) => {
      for (let i = 0; i < 5; i++)
        assert.equal((await new Browser(portal).signIn(TEST_ADMIN.username, 'wrong')).statusCode, 401);
      const blocked = await new Browser(portal).signIn();
      assert.equal(blocked.statusCode, 429);
      assert.match(blocked.body, /Too many failed attempts for this account/);
      portal.clock.advance(2000);
      assert.equal((await new Browser(portal).signIn()).statusCode, 303);
    });
  });

  test("a stranger's wrong passwords do not lock out the admin's own browser (its known-device cookie backs off apart)", async () => {
    await withPortal({}, async (portal) => {
      const own = new Browser(portal, { address: '198.51.100.5' });
      assert.equal((await own.signIn()).statusCode, 303);
      assert.ok(own.cookies.has('enroll_device'));
      await own.submit('/certificates', '/logout', {});
      // One wrong guess whenever the back-off lets one through, from an address of the stranger's.
      const stranger = () => new Browser(portal, { address: '203.0.113.66' }).signIn(TEST_ADMIN.username, 'wrong');
      for (let i = 0; i < 5; i++) assert.equal((await stranger()).statusCode, 401);
      assert.equal((await stranger()).statusCode, 429, 'the name backs off for strangers');
      // Nor can a typed name reach the known browser's count (it holds a NUL, which no name may).
      for (let i = 0; i < 6; i++) {
        const forged = await new Browser(portal, { address: '203.0.113.67' }).signIn(
          `${TEST_ADMIN.username}\u0000known device`,
          'wrong',
        );
        assert.equal(forged.statusCode, 400);
      }
      assert.equal((await own.signIn()).statusCode, 303, 'the admin, from their known browser, gets in');
      // Wrong passwords typed in the known browser back off there too.
      await own.submit('/certificates', '/logout', {});
      for (let i = 0; i < 5; i++) assert.equal((await own.signIn(TEST_ADMIN.username, 'wrong')).statusCode, 401);
      assert.equal((await own.signIn()).statusCode, 429);
    });
  });

  test('unknown names back off like real ones, so a 429 does not tell which names exist', async () => {
    await withPortal({}, async (portal) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await new Browser(portal).signIn('ghost', 'wrong')).statusCode);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
      assert.match(
        (await new Browser(portal).signIn('ghost', 'wrong')).body,
        /Too many failed attempts for this account/,
      );
    });
  });

  test('without an injected key, the limit counts per address (what production does)', async () => {
    await withPortal({ rateLimitKey: undefined }, async (portal) => {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const sameAddress = new Browser(portal, { address: '192.0.2.10' }); // a new client name each time
        statuses.push((await sameAddress.signIn(`nobody${i}`, 'wrong')).statusCode);
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
      assert.equal((await new Browser(portal, { address: '192.0.2.11' }).signIn()).statusCode, 303);
    });
  });

  test('more than 10 attempts a minute from one client get the 429 page', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await browser.signIn(`nobody${i}`, 'wrong')).statusCode);
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
      assert.equal(statuses[10], 429);
      const page = await browser.signIn();
      assert.equal(page.statusCode, 429);
      assert.match(page.body, /Too many attempts from your address/);
      assert.ok(page.headers['retry-after']);
      assert.equal((await new Browser(portal).signIn()).statusCode, 303, 'another client is not affected');
    });
  });
});
