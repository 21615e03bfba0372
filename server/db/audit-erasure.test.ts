// The audit log's one change (migrations/011_audit_erasure.sql): a deleted person's addresses in
// the detail of their own rows, while the `audit_erasing` setting names that person inside the
// deletion's transaction. Everything else stays refused, and the door cannot be left open.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, withPortal, type TestPortal } from '../testing/harness.js';
import { AUDIT_DETAIL_LIMIT, auditRepository } from './audit.js';

const MARKER = '[address erased]';

async function twoPeople(use: (portal: TestPortal) => Promise<void>) {
  await withPortal({}, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    await browser.issue({ username: 'ann', email: 'ann@x.org', device: 'phone', days: '30' });
    await browser.issue({ username: 'joann', email: 'joann@x.org', device: 'phone', days: '30' });
    await use(portal);
  });
}

const mailRowOf = (portal: TestPortal, username: string) =>
  portal.db
    .prepare(
      `SELECT a.* FROM audit_log a JOIN certificates c ON a.subject = 'certificate:' || c.id
       JOIN users u ON u.id = c.user_id WHERE u.username = ? AND a.action = 'mail'`,
    )
    .get(username) as { id: number; detail: string };

describe('erasing addresses from the audit log', () => {
  test('a plain update of the log is refused, the detail included', async () => {
    await twoPeople(async (portal) => {
      const row = mailRowOf(portal, 'ann');
      assert.throws(
        () => portal.db.prepare('UPDATE audit_log SET detail = ? WHERE id = ?').run(MARKER, row.id),
        /append-only/,
      );
      assert.equal(mailRowOf(portal, 'ann').detail, row.detail);
    });
  });

  test('the door opens only for a deleted person, and only for the detail of their own rows', async () => {
    await twoPeople(async (portal) => {
      const db = portal.db;
      const open = db.prepare("INSERT INTO settings (key, value) VALUES ('audit_erasing', ?)");
      assert.throws(() => open.run('ann'), /deleted person/, 'ann is not deleted');
      assert.throws(() => open.run('nobody'), /deleted person/);
      db.prepare("UPDATE users SET email = '', deleted_at = '2026-01-01T00:00:00.000Z' WHERE username = 'ann'").run();
      db.transaction(() => {
        open.run('ann');
        assert.throws(
          () => db.prepare("UPDATE settings SET value = 'joann' WHERE key = 'audit_erasing'").run(),
          /deleted person/,
        );
        const ann = mailRowOf(portal, 'ann');
        const joann = mailRowOf(portal, 'joann');
        const update = (column: string, value: string, id: number) =>
          db.prepare(`UPDATE audit_log SET ${column} = ? WHERE id = ?`).run(value, id);
        for (const column of ['at', 'actor', 'action', 'subject', 'outcome', 'ip'])
          assert.throws(() => update(column, 'x', ann.id), /append-only/, `${column} stays`);
        assert.throws(
          () => db.prepare('UPDATE audit_log SET detail = ?, actor = ? WHERE id = ?').run(MARKER, 'x', ann.id),
          /append-only/,
        );
        assert.throws(() => update('detail', 'anything else', ann.id), /append-only/, 'only the marker replaces');
        assert.throws(() => update('detail', MARKER, joann.id), /append-only/, "another person's row");
        assert.throws(
          () =>
            db.prepare("INSERT INTO audit_log (at, actor, action, outcome) VALUES ('x', 'x', 'x', 'success')").run(),
          /audit_erasing/,
          'no audit row is written while the door is open: the transaction closes it before it records',
        );
        update('detail', ann.detail.replace('ann@x.org', MARKER), ann.id);
        db.prepare("DELETE FROM settings WHERE key = 'audit_erasing'").run();
      })();
      assert.match(mailRowOf(portal, 'ann').detail, /^to \[address erased\]: /);
      assert.match(mailRowOf(portal, 'joann').detail, /^to joann@x\.org: /);
      assert.throws(
        () => db.prepare('UPDATE audit_log SET detail = ? WHERE id = ?').run(MARKER, mailRowOf(portal, 'ann').id),
        /append-only/,
      );
    });
  });

  test("a person's deletion erases their address, not one that contains it", async () => {
    await twoPeople(async (portal) => {
      const joann = portal.db.prepare("SELECT * FROM audit_log WHERE detail LIKE '%joann@x.org%' ORDER BY id").all();
      assert.ok(joann.length > 0);
      assert.ok((await portal.services.enrollment.people.remove('ann', { name: 'admin', ip: '127.0.0.1' })).ok);
      assert.match(mailRowOf(portal, 'ann').detail, /^to \[address erased\]: /);
      assert.deepEqual(
        portal.db.prepare("SELECT * FROM audit_log WHERE detail LIKE '%joann@x.org%' ORDER BY id").all(),
        joann,
      );
      assert.equal(
        portal.db
          .prepare("SELECT count(*) FROM audit_log WHERE detail LIKE '%ann@x.org%' AND detail NOT LIKE '%joann@x.org%'")
          .pluck()
          .get(),
        0,
      );
    });
  });

  test('a former address with an apostrophe or other signs an address may hold is erased whole', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const former = "mary.o'neil+phone@x.org";
      await browser.issue({ username: 'mary', email: former, device: 'phone', days: '30' });
      await browser.submit('/people/mary', '/people/mary/email', { email: 'mary@y.org' });
      const admin = { name: 'admin', ip: '127.0.0.1' };
      assert.ok((await portal.services.enrollment.people.remove('mary', admin)).ok);
      const details = portal.db.prepare('SELECT detail FROM audit_log').pluck().all() as string[];
      for (const detail of details) {
        assert.ok(!detail?.includes('x.org') && !detail?.includes('y.org'), `left in: ${detail}`);
        assert.ok(!detail?.includes("mary.o'"), `a piece left in: ${detail}`);
      }
    });
  });

  test('a detail cut at its length limit never ends inside an address', async () => {
    await withPortal({}, async (portal) => {
      const audit = auditRepository(portal.db);
      const limit = AUDIT_DETAIL_LIMIT;
      /** `head`, padded with y to `length` characters. */
      const padded = (head: string, length: number) => head + 'y'.repeat(length - head.length);
      const refusal = padded('to ann@x.org: 550 refused ', limit - 6);
      for (const [detail, expected] of [
        // A mail server's refusal naming the address again where the limit falls: the address goes whole.
        [`${refusal} ann@x.org refused again`, `${refusal}…`],
        [`${refusal}:<ann@x.org> again`, `${refusal}:<…`],
        // Text without an @ is cut at the limit, spaces or not.
        [padded('to ann@x.org: ', limit + 100), `${padded('to ann@x.org: ', limit)}…`],
        // Never half of a character outside the BMP.
        [`${padded('', limit - 1)}😀 end`, `${padded('', limit - 1)}…`],
        ['to ann@x.org: 250 ok', 'to ann@x.org: 250 ok'],
      ] as const) {
        audit.record(
          { actor: 'admin', action: 'mail', subject: 'certificate:1', outcome: 'failure', detail },
          new Date(),
        );
        const stored = portal.db.prepare('SELECT detail FROM audit_log ORDER BY id DESC LIMIT 1').pluck().get();
        assert.equal(stored, expected);
      }
    });
  });
});
