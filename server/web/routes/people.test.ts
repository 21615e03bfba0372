// The person page: every device of a person with its state, the address changed without issuing,
// all devices revoked at once, and the person deleted (certificates revoked, address erased,
// serials kept in the CRL, the audit log kept); each change asks first where it cannot be undone.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../../testing/harness.js';
import { readCrl } from '../../testing/pki.js';
import { presenceRepository } from '../../db/presence.js';

const crlOf = (portal: TestPortal) => readCrl(readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8'));

const rows = (portal: TestPortal, username: string) =>
  portal.db
    .prepare(
      'SELECT c.device, c.status, c.revocation_reason FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = ? ORDER BY c.id',
    )
    .all(username) as Array<{ device: string | null; status: string; revocation_reason: string | null }>;

async function alice(use: (portal: TestPortal, browser: Browser, ids: number[]) => Promise<void>) {
  await withPortal({}, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    const ids: number[] = [];
    for (const device of ['phone', 'tablet'])
      ids.push((await browser.issue({ username: 'alice', email: 'alice@example.org', device, days: '30' })).id);
    await browser.issue({ username: 'bob', email: 'bob@example.org', device: 'phone', days: '30' });
    await use(portal, browser, ids);
  });
}

/** A mailed pickup link for the person's device "pixel", made by the admin. */
const invitePixel = (portal: TestPortal, username: string, email: string) =>
  portal.services.enrollment.invitations.create(
    {
      username,
      email,
      device: 'pixel',
      days: 30,
      keyBits: 2048,
      format: 'compatible',
      kind: 'mail',
      changeEmail: false,
    },
    { name: 'admin', ip: '127.0.0.1' },
  );

async function confirmAndPost(browser: Browser, confirmUrl: string, action: string, fields: Record<string, string>) {
  const confirm = await browser.get(confirmUrl);
  assert.equal(confirm.statusCode, 200, confirm.body.slice(0, 500));
  const done = await browser.post(action, { _csrf: csrfTokenOf(confirm.body), ...fields });
  return { confirm, done };
}

describe('the person page', () => {
  test('lists every device with its state; the list links each username to it', async () => {
    await alice(async (portal, browser, [phone]) => {
      await browser.submit(`/certificates/${phone}/revoke?reason=keyCompromise`, `/certificates/${phone}/revoke`, {
        reason: 'keyCompromise',
      });
      const page = await browser.get('/people/alice');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<h1>alice<\/h1>/);
      assert.match(page.body, /alice@example.org/);
      assert.match(page.body, /phone[\s\S]*revoked[\s\S]*tablet[\s\S]*active/);
      assert.match(page.body, /2 certificates/);
      assert.doesNotMatch(page.body, /bob/);
      const list = await browser.get('/certificates');
      assert.match(list.body, /href="\/people\/alice"/);
      assert.equal((await browser.get('/people/nobody')).statusCode, 404);
      assert.equal((await browser.get('/people/Not%20a%20name')).statusCode, 404);
    });
  });

  test('changes the address without issuing anything, audited', async () => {
    await alice(async (portal, browser) => {
      const bad = await browser.submit('/people/alice', '/people/alice/email', { email: 'not an address' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /Enter a valid email address/);
      const done = await browser.submit('/people/alice', '/people/alice/email', { email: 'alice@new.example' });
      assert.equal(done.statusCode, 303);
      assert.equal(
        portal.db.prepare("SELECT email FROM users WHERE username = 'alice'").pluck().get(),
        'alice@new.example',
      );
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 3, 'nothing issued');
      assert.equal(
        portal.db
          .prepare("SELECT detail FROM audit_log WHERE action = 'email-change' AND subject = 'user:alice'")
          .pluck()
          .get(),
        'alice@example.org → alice@new.example',
      );
      assert.match((await browser.get('/people/alice')).body, /The address is now alice@new\.example\. Nothing was/);
    });
  });

  test('a new address cancels the pickup links mailed to the old one, and the page says so', async () => {
    await alice(async (portal, browser) => {
      assert.ok((await invitePixel(portal, 'alice', 'alice@example.org')).ok);
      await browser.submit('/people/alice', '/people/alice/email', { email: 'alice@new.example' });
      const page = await browser.get('/people/alice');
      assert.match(page.body, /1 pickup link mailed to the old address was cancelled/);
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
    });
  });

  test('revokes all of a person’s devices at once, after a confirmation page; one CRL', async () => {
    await alice(async (portal, browser) => {
      const crlBefore = crlOf(portal).crlNumber;
      const { confirm, done } = await confirmAndPost(
        browser,
        '/people/alice/revoke-all?reason=keyCompromise',
        '/people/alice/revoke-all',
        { reason: 'keyCompromise' },
      );
      assert.match(confirm.body, /Revoke all 2 certificates of alice\?/);
      assert.match(confirm.body, /phone[\s\S]*tablet/);
      assert.equal(done.statusCode, 303);
      assert.deepEqual(
        rows(portal, 'alice').map((r) => [r.status, r.revocation_reason]),
        [
          ['revoked', 'keyCompromise'],
          ['revoked', 'keyCompromise'],
        ],
      );
      assert.equal(rows(portal, 'bob')[0]!.status, 'active');
      assert.equal(crlOf(portal).crlNumber, crlBefore + 1n, 'one new CRL for both');
      // Without a broker link the admin is told the phones stay on (with one: revocation.int.test.ts).
      const page = await browser.get(String(done.headers.location));
      assert.match(page.body, /Phones already connected stay connected until they reconnect or the broker restarts\./);
    });
  });

  for (const [action, page, fields, notice] of [
    ['revoke all', '/people/alice/revoke-all?reason=superseded', { reason: 'superseded' }, /2 certificates revoked\./],
    ['delete', '/people/alice/delete', {}, /alice is deleted and 2 certificates revoked\./],
  ] as const)
    test(`${action} clicked twice: acts once, and the page tells what the first click did`, async () => {
      await alice(async (portal, browser) => {
        const confirm = await browser.get(page);
        const submission = /name="submission" value="([^"]+)"/.exec(confirm.body)?.[1];
        assert.ok(submission, 'the form carries its submission id');
        const action = page.replace(/\?.*/, '');
        const body = { _csrf: csrfTokenOf(confirm.body), ...fields, submission };
        // The session's last-seen time is due: both requests save their session, the second last.
        portal.clock.advance(61_000);
        const [first, second] = await Promise.all([browser.post(action, body), browser.post(action, body)]);
        assert.deepEqual([first.statusCode, second.statusCode], [303, 303]);
        const shown = await browser.get(String(second.headers.location));
        assert.match(shown.body, notice);
        assert.doesNotMatch(shown.body, /Nothing was active|already deleted/);
        assert.equal(
          portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'revoke'").pluck().get(),
          2,
          'each certificate revoked once',
        );
      });
    });

  test('deletes a person: certificates revoked, address erased, serials in the CRL, the audit log kept', async () => {
    await alice(async (portal, browser) => {
      const serials = portal.db
        .prepare("SELECT serial FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = 'alice'")
        .pluck()
        .all() as string[];
      const auditBefore = portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;
      // When her devices were last seen on the broker is hers too, and bob's stays.
      const seen = portal.db.prepare(
        "INSERT INTO device_presence (user_id, device, last_message_at) SELECT id, 'phone', '2026-01-01T00:00:00.000Z' FROM users WHERE username = ?",
      );
      seen.run('alice');
      seen.run('bob');
      const { confirm, done } = await confirmAndPost(browser, '/people/alice/delete', '/people/alice/delete', {});
      assert.match(confirm.body, /Delete alice\?/);
      assert.match(confirm.body, /<button type="submit" class="danger">Delete person<\/button>/);
      assert.equal(done.statusCode, 303);
      assert.deepEqual(
        rows(portal, 'alice').map((r) => r.status),
        ['revoked', 'revoked'],
      );
      const user = portal.db.prepare("SELECT email, deleted_at FROM users WHERE username = 'alice'").get() as {
        email: string;
        deleted_at: string | null;
      };
      assert.equal(user.email, '', 'the address is erased');
      assert.deepEqual(
        portal.db.prepare('SELECT u.username FROM device_presence p JOIN users u ON u.id = p.user_id').pluck().all(),
        ['bob'],
        'her last-seen times are erased',
      );
      // Times the presence recorder still held for her are not written back.
      const aliceId = portal.db.prepare("SELECT id FROM users WHERE username = 'alice'").pluck().get() as number;
      presenceRepository(portal.db).write([
        { userId: aliceId, device: 'phone', lastMessageAt: '2026-01-02T00:00:00.000Z', lastWillAt: null },
      ]);
      assert.equal(portal.db.prepare('SELECT count(*) FROM device_presence WHERE user_id = ?').pluck().get(aliceId), 0);
      assert.ok(user.deleted_at);
      const crl = crlOf(portal).entries.map((entry) => entry.serial);
      for (const serial of serials) assert.ok(crl.includes(serial), `serial ${serial} in the CRL`);
      assert.ok((portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number) > auditBefore);
      assert.equal(portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'person-delete'").pluck().get(), 1);
      const outbox = readdirSync(path.join(portal.dataDir, 'outbox'));
      assert.ok(!outbox.some((name) => serials.some((serial) => name.includes(serial))), 'her bundles are gone');
      const page = await browser.get('/people/alice');
      assert.match(page.body, /deleted/);
      assert.doesNotMatch(page.body, /alice@example.org/);
      // The name can be given to someone again: a new person, a new address.
      const again = await browser.issue({ username: 'alice', email: 'alice2@example.org', days: '30' });
      assert.ok(again.passphrase);
    });
  });

  test('revoke all also cancels the person’s open pickup links, and the confirmation page says so', async () => {
    await alice(async (portal, browser) => {
      assert.ok((await invitePixel(portal, 'alice', 'alice@example.org')).ok);
      assert.ok((await invitePixel(portal, 'bob', 'bob@example.org')).ok);
      const states = () =>
        portal.db
          .prepare('SELECT u.username, i.state FROM invitations i JOIN users u ON u.id = i.user_id ORDER BY i.id')
          .all();
      assert.match((await browser.get('/people/alice/delete')).body, /1 open pickup link is cancelled too/);
      const { confirm } = await confirmAndPost(
        browser,
        '/people/alice/revoke-all?reason=keyCompromise',
        '/people/alice/revoke-all',
        { reason: 'keyCompromise' },
      );
      assert.match(confirm.body, /1 open pickup link is cancelled too/);
      assert.deepEqual(states(), [
        { username: 'alice', state: 'cancelled' },
        { username: 'bob', state: 'open' },
      ]);
      assert.equal(
        portal.db
          .prepare(
            "SELECT count(*) FROM audit_log WHERE action = 'invite-cancel' AND detail = 'alice (pixel): all devices revoked'",
          )
          .pluck()
          .get(),
        1,
      );
    });
  });

  test('deleting a person erases every address they had from their audit rows, and only from theirs', async () => {
    await alice(async (portal, browser, [phone]) => {
      const { enrollment } = portal.services;
      const admin = { name: 'admin', ip: '127.0.0.1' };
      // Someone else whose address contains hers: their rows must stay as they were.
      await browser.issue({ username: 'joalice', email: 'joalice@example.org', device: 'phone', days: '30' });
      assert.ok((await enrollment.markForwarded(phone!, admin)).ok, 'forwarded: "to alice@example.org"');
      await browser.submit('/people/alice', '/people/alice/email', { email: 'alice@new.example' });
      const invited = await invitePixel(portal, 'alice', 'alice@new.example');
      assert.ok(invited.ok, JSON.stringify(invited));
      const all = () =>
        portal.db.prepare('SELECT * FROM audit_log ORDER BY id').all() as Array<Record<string, unknown>>;
      const hers = (subject: unknown) =>
        subject === 'user:alice' ||
        portal.db
          .prepare(
            `SELECT 1 FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = 'alice' AND 'certificate:' || c.id = ?
             UNION ALL
             SELECT 1 FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.username = 'alice' AND 'invitation:' || i.id = ?`,
          )
          .get(subject, subject) !== undefined;
      const address = /(?<![\w.+-])alice@(example\.org|new\.example)/;
      const before = all();
      const mentioning = before.filter((row) => hers(row.subject) && address.test(String(row.detail)));
      // Mails of both certificates, the forward, the address change and the pickup link's mail.
      assert.ok(mentioning.length >= 5, JSON.stringify(mentioning.map((row) => row.detail)));
      const others = before.filter((row) => !hers(row.subject));
      assert.ok(
        others.some((row) => String(row.detail).includes('joalice@example.org')),
        'joalice has mail rows',
      );

      const { done } = await confirmAndPost(browser, '/people/alice/delete', '/people/alice/delete', {});
      assert.equal(done.statusCode, 303);

      const after = all();
      const byId = new Map(after.map((row) => [row.id, row]));
      for (const row of others) assert.deepEqual(byId.get(row.id), row, `another person's row ${String(row.id)}`);
      for (const row of after)
        assert.doesNotMatch(
          String(row.detail),
          address,
          `row ${String(row.id)} (${String(row.action)}) still names her`,
        );
      for (const row of mentioning) {
        const now = byId.get(row.id)!;
        assert.match(String(now.detail), /\[address erased\]/);
        const { detail: _before, ...rest } = row;
        const { detail: _after, ...restNow } = now;
        assert.deepEqual(restNow, rest, 'only the detail changes');
      }
      assert.equal(
        byId.get(mentioning.find((row) => row.action === 'email-change')!.id)!.detail,
        '[address erased] → [address erased]',
      );
      const deletion = after.find((row) => row.action === 'person-delete')!;
      assert.match(String(deletion.detail), new RegExp(`address erased, also from ${mentioning.length} audit rows`));
      assert.equal(portal.db.prepare("SELECT count(*) FROM settings WHERE key = 'audit_erasing'").pluck().get(), 0);
      assert.throws(
        () => portal.db.prepare("UPDATE audit_log SET detail = '[address erased]' WHERE subject = 'user:alice'").run(),
        /append-only/,
        'the door is closed again',
      );
      const audit = (await browser.get('/audit')).body;
      assert.match(audit, /\[address erased\]/);
      assert.doesNotMatch(audit, address);
      assert.match(audit, /joalice@example\.org/);
    });
  });
});
