// The person page: every device of a person with its state, the address changed without issuing,
// all devices revoked at once, and the person deleted (certificates revoked, address erased,
// serials kept in the CRL, the audit log kept); each change asks first where it cannot be undone.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../../testing/harness.js';
import { readCrl } from '../../testing/pki.js';

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
    });
  });

  test('deletes a person: certificates revoked, address erased, serials in the CRL, the audit log kept', async () => {
    await alice(async (portal, browser) => {
      const serials = portal.db
        .prepare("SELECT serial FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = 'alice'")
        .pluck()
        .all() as string[];
      const auditBefore = portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;
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
});
