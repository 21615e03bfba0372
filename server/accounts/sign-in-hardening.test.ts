// Sign-in under attack (issue 14): the back-off cannot be raced, unknown names back off like real
// ones across a restart, repeated rejections do not flood the audit log, a password reset ends the
// admin's sessions, and session ids are stored hashed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { adminsRepository } from '../db/admins.js';
import { Browser, csrfTokenOf, TEST_ADMIN, withPortal, type TestPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';

/** Every browser fetches its form first, then all POSTs leave together. */
async function concurrentSignIns(portal: TestPortal, attempts: Array<{ username: string; password: string }>) {
  const ready = await Promise.all(
    attempts.map(async (attempt) => {
      const browser = new Browser(portal);
      const token = csrfTokenOf((await browser.get('/login')).body);
      return { browser, attempt, token };
    }),
  );
  return Promise.all(ready.map(({ browser, attempt, token }) => browser.post('/login', { _csrf: token, ...attempt })));
}

const auditRows = (portal: TestPortal, where: string) =>
  portal.db.prepare(`SELECT * FROM audit_log WHERE ${where} ORDER BY id`).all() as Array<Record<string, string>>;

describe('the per-account back-off under concurrent attempts', () => {
  test('30 concurrent wrong passwords: one checked at a time, the back-off holds, the right one waits', async () => {
    // A hash of a few tens of milliseconds, so that the 30 requests really overlap.
    await withPortal({ deps: { passwordCost: { log2N: 12, r: 8, p: 1 } } }, async (portal) => {
      const responses = await concurrentSignIns(
        portal,
        Array.from({ length: 30 }, () => ({ username: TEST_ADMIN.username, password: 'not the password' })),
      );
      const statuses = responses.map((response) => response.statusCode);
      const checked = statuses.filter((status) => status === 401).length;
      assert.ok(checked <= 5, `at most the five free attempts were checked, got ${checked} (${statuses.join(' ')})`);
      assert.equal(checked + statuses.filter((status) => status === 429).length, 30, statuses.join(' '));
      assert.ok(
        responses.some((response) => /A sign-in for this account is already being checked/.test(response.body)),
        'concurrent attempts are told one is being checked',
      );
      for (const response of responses.filter((r) => r.statusCode === 429))
        assert.ok(Number(response.headers['retry-after']) >= 1, 'Retry-After on every 429');
      const failures = auditRows(portal, "action = 'sign-in' AND detail = 'invalid'").length;
      assert.equal(failures, checked, 'every checked attempt is audited');
      if (checked === 5) {
        const right = await new Browser(portal).signIn();
        assert.equal(right.statusCode, 429, 'the back-off holds for the right password too');
      }
    });
  });
});

describe('back-off across a restart', () => {
  test('a real name and an unknown one answer the same after a restart', async () => {
    const dataDir = tempDir();
    const at = new Date();
    const now = () => new Date(at);
    try {
      await withPortal({ dataDir, deps: { now } }, async (portal) => {
        for (const username of [TEST_ADMIN.username, 'ghost'])
          for (let i = 0; i < 5; i++)
            assert.equal((await new Browser(portal).signIn(username, 'wrong')).statusCode, 401);
      });
      await withPortal({ dataDir, deps: { now } }, async (portal) => {
        const real = await new Browser(portal).signIn(TEST_ADMIN.username, 'wrong');
        const unknown = await new Browser(portal).signIn('ghost', 'wrong');
        assert.deepEqual([real.statusCode, unknown.statusCode], [429, 429]);
        assert.equal(real.headers['retry-after'], unknown.headers['retry-after']);
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the failure records', () => {
  test('are kept by a hash of the name, bounded: beyond the limit the oldest go', async () => {
    await withPortal({}, async (portal) => {
      const admins = adminsRepository(portal.db);
      const start = Date.now();
      for (const [i, name] of ['Ghost1', 'ghost2', 'ghost3', 'ghost4'].entries())
        admins.recordFailure(name, new Date(start + i * 1000), 3);
      admins.recordFailure('GHOST2', new Date(start + 5000), 3);
      const stored = JSON.stringify(portal.db.prepare('SELECT * FROM sign_in_failures').all());
      assert.doesNotMatch(stored, /ghost/i, 'names are not stored in clear');
      assert.equal(admins.failures('ghost1'), undefined, 'the oldest is forgotten');
      assert.deepEqual(admins.failures('ghost2'), { failures: 2, lastFailedAt: new Date(start + 5000).toISOString() });
      assert.equal(admins.failures('ghost4')?.failures, 1);
      assert.equal(portal.db.prepare('SELECT count(*) FROM sign_in_failures').pluck().get(), 3);
    });
  });
});

describe('the audit log under a flood of rejected sign-ins', () => {
  test('one row per name and minute for back-off rejections; the next row counts the ones left out', async () => {
    await withPortal({}, async (portal) => {
      for (let i = 0; i < 5; i++) await new Browser(portal).signIn('ghost', 'wrong');
      portal.clock.advance(100);
      const before = auditRows(portal, '1 = 1').length;
      for (let i = 0; i < 40; i++) assert.equal((await new Browser(portal).signIn('ghost', 'wrong')).statusCode, 429);
      const rows = auditRows(portal, `id > ${before}`);
      assert.equal(rows.length, 1, 'one row for 40 rejections');
      assert.equal(rows[0]!.detail, 'backoff');
      portal.clock.advance(61_000);
      await new Browser(portal).signIn('ghost', 'wrong'); // checked (the back-off is over): audited
      assert.equal((await new Browser(portal).signIn('ghost', 'wrong')).statusCode, 429);
      const next = auditRows(portal, `id > ${rows[0]!.id} AND detail LIKE 'backoff%'`);
      assert.equal(next.length, 1);
      assert.equal(next[0]!.detail, 'backoff; 39 more rejected unaudited since the last row');
    });
  });
});

describe('sessions', () => {
  test('a password reset ends every session of that admin', async () => {
    await withPortal({}, async (portal) => {
      const first = new Browser(portal);
      const second = new Browser(portal);
      await first.signIn();
      await second.signIn();
      assert.equal((await first.get('/certificates')).statusCode, 200);
      const reset = await portal.services.accounts.resetPassword(
        { username: TEST_ADMIN.username, password: 'a brand new password' },
        { name: 'cli' },
      );
      assert.ok(reset.ok);
      for (const browser of [first, second]) {
        const page = await browser.get('/certificates');
        assert.equal(page.statusCode, 303);
        assert.match(String(page.headers.location), /^\/login/);
      }
    });
  });

  test('the sessions table holds the SHA-256 of each session id, never the id', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const cookie = decodeURIComponent(browser.cookies.get('enroll_session')!);
      const id = cookie.slice(0, cookie.lastIndexOf('.'));
      const rows = portal.db.prepare('SELECT * FROM sessions').all() as Array<Record<string, unknown>>;
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows).includes(id), 'the raw id is not stored');
      assert.equal(rows[0]!.id_sha256, createHash('sha256').update(id).digest('hex'));
      assert.equal(rows[0]!.admin, TEST_ADMIN.username);
      assert.equal((await browser.get('/certificates')).statusCode, 200, 'the cookie still works');
    });
  });
});
