// Revoke and Replace ask first: the detail page's forms lead to a confirmation page that names the
// person and the device (no browser confirm(), which test tools and some browsers dismiss silently).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../../testing/harness.js';
import { MemoryMailer } from '../../testing/mailer.js';

const status = (portal: TestPortal, id: number) =>
  portal.db.prepare('SELECT status FROM certificates WHERE id = ?').pluck().get(id);

describe('confirmation pages', () => {
  test('Revoke: the detail page asks for a reason, the confirmation page names person and device, then revokes', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({
        username: 'alice',
        email: 'alice@example.org',
        device: 'phone',
        days: '30',
      });
      const detail = await browser.get(`/certificates/${id}`);
      assert.match(detail.body, new RegExp(`<form method="get" action="/certificates/${id}/revoke"`));
      assert.doesNotMatch(detail.body, new RegExp(`method="post" action="/certificates/${id}/revoke"`));

      const confirm = await browser.get(`/certificates/${id}/revoke?reason=keyCompromise`);
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, /<h1>Revoke the certificate of alice \(phone\)\?<\/h1>/);
      assert.match(confirm.body, /Key compromise/);
      assert.match(confirm.body, /<input type="hidden" name="reason" value="keyCompromise">/);
      assert.match(confirm.body, /<button type="submit" class="danger">Revoke certificate<\/button>/);
      // Without a broker link nothing disconnects the phone: the page must not promise it.
      assert.match(confirm.body, /Phones already connected stay connected until they reconnect/);
      assert.doesNotMatch(confirm.body, /disconnects/);
      assert.equal(status(portal, id), 'active', 'asking changes nothing');

      const done = await browser.post(`/certificates/${id}/revoke`, {
        _csrf: csrfTokenOf(confirm.body),
        reason: 'keyCompromise',
      });
      assert.equal(done.statusCode, 303);
      assert.equal(status(portal, id), 'revoked');
      // A revoked certificate has nothing left to confirm.
      assert.equal((await browser.get(`/certificates/${id}/revoke?reason=keyCompromise`)).statusCode, 303);
      assert.equal((await browser.get(`/certificates/${id}/revoke?reason=nonsense`)).statusCode, 303);
    });
  });

  test('Revoke clicked twice: the page says it was revoked, not that it already was; one revocation', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'erin', email: 'erin@example.org', device: 'phone', days: '30' });
      const confirm = await browser.get(`/certificates/${id}/revoke?reason=superseded`);
      const submission = /name="submission" value="([^"]+)"/.exec(confirm.body)?.[1];
      assert.ok(submission, 'the form carries its submission id');
      const fields = { _csrf: csrfTokenOf(confirm.body), reason: 'superseded', submission };
      // The session's last-seen time is due: both requests save their session, the second last.
      portal.clock.advance(61_000);
      const [first, second] = await Promise.all([
        browser.post(`/certificates/${id}/revoke`, fields),
        browser.post(`/certificates/${id}/revoke`, fields),
      ]);
      assert.deepEqual([first.statusCode, second.statusCode], [303, 303]);
      assert.equal(second.headers.location, first.headers.location);
      // The browser follows the second answer only.
      const page = await browser.get(String(second.headers.location));
      assert.match(page.body, /Certificate revoked\./);
      assert.doesNotMatch(page.body, /already revoked/);
      assert.equal(
        portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'revoke'").pluck().get(),
        1,
        'revoked once',
      );
    });
  });

  test('Revoke sent again after the first answer: its notices once, not twice', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'hal', email: 'hal@example.org', device: 'phone', days: '30' });
      const confirm = await browser.get(`/certificates/${id}/revoke?reason=superseded`);
      const submission = /name="submission" value="([^"]+)"/.exec(confirm.body)![1]!;
      const fields = { _csrf: csrfTokenOf(confirm.body), reason: 'superseded', submission };
      await browser.post(`/certificates/${id}/revoke`, fields);
      const again = await browser.post(`/certificates/${id}/revoke`, fields); // a resend after a slow answer
      const page = await browser.get(String(again.headers.location));
      assert.equal(page.body.match(/Certificate revoked\./g)?.length, 1, 'shown once');
    });
  });

  test('Replace: the confirmation page names person, device and address, then replaces', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'bob', email: 'bob@example.org', device: 'tablet', days: '30' });
      const detail = await browser.get(`/certificates/${id}`);
      assert.match(detail.body, new RegExp(`<form method="get" action="/certificates/${id}/replace"`));
      const confirm = await browser.get(`/certificates/${id}/replace?reason=superseded`);
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, /<h1>Replace the certificate of bob \(tablet\)\?<\/h1>/);
      assert.match(confirm.body, /bob@example.org/);
      assert.match(confirm.body, /<button type="submit" class="primary">Replace certificate<\/button>/);
      const done = await browser.post(`/certificates/${id}/replace`, {
        _csrf: csrfTokenOf(confirm.body),
        reason: 'superseded',
      });
      assert.equal(done.statusCode, 303);
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 2);
    });
  });

  test('Replace clicked twice: both answers lead to the new passphrase, one certificate made', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({
        username: 'carol',
        email: 'carol@example.org',
        device: 'pixel',
        days: '30',
      });
      const confirm = await browser.get(`/certificates/${id}/replace?reason=superseded`);
      const submission = /name="submission" value="([^"]+)"/.exec(confirm.body)?.[1];
      assert.ok(submission, 'the form carries its submission id');
      const fields = { _csrf: csrfTokenOf(confirm.body), reason: 'superseded', submission };
      // The session's last-seen time is due: both requests save their session, the second last.
      portal.clock.advance(61_000);
      const [first, second] = await Promise.all([
        browser.post(`/certificates/${id}/replace`, fields),
        browser.post(`/certificates/${id}/replace`, fields),
      ]);
      assert.equal(first.statusCode, 303);
      assert.equal(second.statusCode, 303);
      assert.match(String(second.headers.location), /^\/certificates\/\d+\/issued\?ticket=/);
      assert.equal(second.headers.location, first.headers.location, 'the second click shows what the first made');
      const page = await browser.get(String(second.headers.location));
      assert.match(page.body, /data-testid="passphrase">[^<]+</);
      assert.match(page.body, /stays active until you mark the new one forwarded/, "the first answer's notice");
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 2);
    });
  });

  test('a Replace whose mail failed can be sent again from the same page', async () => {
    const mailer = new MemoryMailer();
    await withPortal({ deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'dave', email: 'dave@example.org', device: 'pixel', days: '30' });
      const confirm = await browser.get(`/certificates/${id}/replace?reason=superseded`);
      const fields = {
        _csrf: csrfTokenOf(confirm.body),
        reason: 'superseded',
        submission: /name="submission" value="([^"]+)"/.exec(confirm.body)![1]!,
      };
      mailer.failWith = new Error('connect ECONNREFUSED 127.0.0.1:25');
      const failed = await browser.post(`/certificates/${id}/replace`, fields);
      assert.match(String(failed.headers.location), /replace-failed/);
      mailer.failWith = undefined;
      const again = await browser.post(`/certificates/${id}/replace`, fields);
      assert.match(String(again.headers.location), /^\/certificates\/\d+\/issued\?ticket=/, 'the second try ran');
    });
  });
});
