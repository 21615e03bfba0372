// The Accounts use cases behind the admin commands: disable, enable, delete an admin, end sessions,
// and audit retention, each an outcome with its audit row; and the database's own guard on the log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, startTestPortal, TEST_ADMIN, withPortal, type TestPortal } from '../testing/harness.js';

const cli = { name: 'cli' };

async function signedIn(portal: TestPortal, username = TEST_ADMIN.username, password = TEST_ADMIN.password) {
  const browser = new Browser(portal);
  assert.equal((await browser.signIn(username, password)).statusCode, 303);
  assert.equal((await browser.get('/certificates')).statusCode, 200);
  return browser;
}

async function signedOut(browser: Browser) {
  const page = await browser.get('/certificates');
  assert.equal(page.statusCode, 303);
  assert.match(String(page.headers.location), /^\/login/);
}

const lastAudit = (portal: TestPortal) =>
  portal.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT 1').get() as Record<string, string>;

async function withTwoAdmins(use: (portal: TestPortal) => Promise<void>) {
  await withPortal({}, async (portal) => {
    const created = await portal.services.accounts.createAdmin(
      { username: 'robin', password: 'robin has a password' },
      cli,
    );
    assert.ok(created.ok);
    await use(portal);
  });
}

describe('disabling and enabling an admin', () => {
  test('a disabled admin is signed out, and signing in answers as a wrong password does, audited', async () => {
    await withTwoAdmins(async (portal) => {
      const robin = await signedIn(portal, 'robin', 'robin has a password');
      const admin = await signedIn(portal);
      const disabled = portal.services.accounts.disableAdmin('Robin', cli);
      assert.deepEqual(disabled, { ok: true, username: 'robin', sessionsEnded: 1 });
      assert.deepEqual(
        [lastAudit(portal).action, lastAudit(portal).subject, lastAudit(portal).actor],
        ['admin-disabled', 'robin', 'cli'],
      );
      await signedOut(robin);
      assert.equal((await admin.get('/certificates')).statusCode, 200, 'other admins stay signed in');
      const refused = await new Browser(portal).signIn('robin', 'robin has a password');
      const wrong = await new Browser(portal).signIn(TEST_ADMIN.username, 'not it');
      assert.equal(refused.statusCode, 401);
      assert.equal(
        refused.body.replace(/robin/g, 'NAME').replace(/name="_csrf" value="[^"]+"/, ''),
        wrong.body.replace(/admin/g, 'NAME').replace(/name="_csrf" value="[^"]+"/, ''),
        'the same page',
      );
      assert.deepEqual([lastAudit(portal).action, lastAudit(portal).detail], ['sign-in', 'invalid']);
      const audited = portal.db
        .prepare("SELECT detail FROM audit_log WHERE action = 'sign-in' AND actor = 'robin' ORDER BY id DESC")
        .pluck()
        .get();
      assert.equal(audited, 'disabled');

      assert.deepEqual(portal.services.accounts.enableAdmin('robin', cli), { ok: true, username: 'robin' });
      assert.equal(lastAudit(portal).action, 'admin-enabled');
      await signedIn(portal, 'robin', 'robin has a password');
    });
  });

  test('the last enabled admin can be neither disabled nor deleted; unknown names are said so', async () => {
    await withTwoAdmins(async (portal) => {
      const { accounts } = portal.services;
      assert.ok(accounts.disableAdmin('robin', cli).ok);
      const before = lastAudit(portal).id;
      assert.deepEqual(accounts.disableAdmin(TEST_ADMIN.username, cli), { ok: false, reason: 'last-admin' });
      assert.deepEqual(accounts.deleteAdmin(TEST_ADMIN.username, cli), { ok: false, reason: 'last-admin' });
      assert.equal(lastAudit(portal).id, before, 'a refusal changes nothing');
      assert.deepEqual(accounts.disableAdmin('nobody', cli), { ok: false, reason: 'unknown' });
      assert.deepEqual(accounts.enableAdmin('nobody', cli), { ok: false, reason: 'unknown' });
      assert.deepEqual(accounts.deleteAdmin('nobody', cli), { ok: false, reason: 'unknown' });
      assert.deepEqual(accounts.endSessions('nobody', cli), { ok: false, reason: 'unknown' });
      // A disabled admin can be deleted, even when only one admin is enabled.
      assert.deepEqual(accounts.deleteAdmin('robin', cli), { ok: true, username: 'robin', sessionsEnded: 0 });
    });
  });
});

describe('deleting an admin and ending sessions', () => {
  test('a deleted admin is signed out and cannot sign in; their audit rows stay', async () => {
    await withTwoAdmins(async (portal) => {
      const robin = await signedIn(portal, 'robin', 'robin has a password');
      assert.deepEqual(portal.services.accounts.deleteAdmin('robin', cli), {
        ok: true,
        username: 'robin',
        sessionsEnded: 1,
      });
      assert.equal(lastAudit(portal).action, 'admin-deleted');
      await signedOut(robin);
      assert.equal((await new Browser(portal).signIn('robin', 'robin has a password')).statusCode, 401);
      assert.ok(
        (portal.db.prepare("SELECT count(*) FROM audit_log WHERE actor = 'robin'").pluck().get()! as number) > 0,
      );
    });
  });

  test('end-sessions signs one admin out everywhere, or everyone', async () => {
    await withTwoAdmins(async (portal) => {
      const [a1, a2, robin] = [
        await signedIn(portal),
        await signedIn(portal),
        await signedIn(portal, 'robin', 'robin has a password'),
      ];
      assert.deepEqual(portal.services.accounts.endSessions(TEST_ADMIN.username, cli), { ok: true, sessionsEnded: 2 });
      assert.deepEqual([lastAudit(portal).action, lastAudit(portal).subject], ['sessions-ended', TEST_ADMIN.username]);
      await signedOut(a1);
      await signedOut(a2);
      assert.equal((await robin.get('/certificates')).statusCode, 200);
      const again = await signedIn(portal);
      assert.deepEqual(portal.services.accounts.endSessions(undefined, cli), { ok: true, sessionsEnded: 2 });
      assert.equal(lastAudit(portal).subject, null);
      await signedOut(robin);
      await signedOut(again);
    });
  });
});

describe('audit retention', () => {
  const insertOld = (portal: TestPortal, daysAgo: number, count: number) => {
    const insert = portal.db.prepare(
      "INSERT INTO audit_log (at, actor, action, outcome) VALUES (?, 'old', 'sign-in', 'failure')",
    );
    const at = new Date(portal.clock.now().getTime() - daysAgo * 86400_000).toISOString();
    for (let i = 0; i < count; i++) insert.run(at);
  };
  const count = (portal: TestPortal) => portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;

  test('without AUDIT_RETENTION_DAYS nothing is pruned', async () => {
    await withPortal({}, async (portal) => {
      insertOld(portal, 4000, 3);
      const before = count(portal);
      assert.deepEqual(portal.services.accounts.pruneAudit(cli), { ok: false, reason: 'no-retention' });
      assert.equal(count(portal), before);
    });
  });

  test('rows older than the retention go, newer ones stay, and the prune is audited', async () => {
    await withPortal({ env: { AUDIT_RETENTION_DAYS: '30' } }, async (portal) => {
      insertOld(portal, 31, 5);
      insertOld(portal, 29, 2);
      const before = count(portal);
      const pruned = portal.services.accounts.pruneAudit(cli);
      assert.ok(pruned.ok);
      assert.equal(pruned.removed, 5);
      assert.equal(count(portal), before - 5 + 1);
      const row = lastAudit(portal);
      assert.equal(row.action, 'audit-pruned');
      assert.match(
        String(row.detail),
        /^5 row\(s\) older than \d{4}-\d\d-\d\dT[\d:.]+Z removed \(AUDIT_RETENTION_DAYS=30\)$/,
      );
      assert.equal(portal.db.prepare("SELECT value FROM settings WHERE key = 'audit_prune_before'").get(), undefined);
    });
  });

  test('the daily job prunes at start', async () => {
    // A portal whose database already holds old rows when it starts.
    await withPortal({}, async (first) => {
      insertOld(first, 400, 4);
      const portal = await startTestPortal({ dataDir: first.dataDir, env: { AUDIT_RETENTION_DAYS: '365' } });
      try {
        assert.equal(portal.db.prepare("SELECT count(*) FROM audit_log WHERE actor = 'old'").pluck().get(), 0);
        assert.match(String(lastAudit(portal).detail), /^4 row\(s\) older than/);
        assert.equal(lastAudit(portal).actor, 'system');
      } finally {
        await portal.close();
      }
    });
  });

  test('the database refuses any other deletion or change of the log', async () => {
    await withPortal({}, async (portal) => {
      insertOld(portal, 4000, 1);
      const db = portal.db;
      assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/);
      assert.throws(() => db.prepare("UPDATE audit_log SET actor = 'x'").run(), /append-only/);
      const tomorrow = new Date(Date.now() + 86400_000).toISOString();
      assert.throws(
        () => db.prepare("INSERT INTO settings (key, value) VALUES ('audit_prune_before', ?)").run(tomorrow),
        /at least a day ago/,
      );
      db.prepare("INSERT INTO settings (key, value) VALUES ('audit_prune_before', '2000-01-01T00:00:00.000Z')").run();
      assert.throws(
        () => db.prepare("UPDATE settings SET value = ? WHERE key = 'audit_prune_before'").run(tomorrow),
        /at least a day ago/,
      );
      assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/, 'recent rows stay');
      assert.throws(
        () => db.prepare("DELETE FROM audit_log WHERE actor = 'old'").run(),
        /append-only/,
        'a row newer than the cutoff',
      );
    });
  });
});
