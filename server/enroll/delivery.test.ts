// Delivery states (DESIGN.md): `sent` only when an SMTP server accepted the mail; mail written to
// the outbox is `outbox` until an admin marks it `forwarded`. A Replace whose new bundle went to the
// outbox revokes the old certificate only once the new one is forwarded (a bundle in the outbox
// has reached nobody), unless the old key is compromised.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../testing/harness.js';
import { MemoryMailer } from '../testing/mailer.js';
import { presenceRepository } from '../db/presence.js';

const row = (portal: TestPortal, id: number) =>
  portal.db.prepare('SELECT status, delivery, revocation_reason FROM certificates WHERE id = ?').get(id) as {
    status: string;
    delivery: string;
    revocation_reason: string | null;
  };

async function signedIn(portal: TestPortal) {
  const browser = new Browser(portal);
  await browser.signIn();
  return browser;
}

const replace = (browser: Browser, id: number, reason = 'superseded') =>
  browser.submit(`/certificates/${id}/replace?reason=${reason}`, `/certificates/${id}/replace`, { reason });

/** A message source that never speaks: presence is recorded (a broker link), the tests fill the store. */
const silent = { subscribe: () => undefined, unsubscribe: () => undefined };

/**
 * `username`'s phone, replaced into the outbox a minute after its issue; a minute later the old
 * phone, still on the broker with the old certificate, publishes on the device's topic
 * (`published` does it again at the clock's time). `neverConnected`: the list's filter.
 */
async function replacedWhileOldPhonePublishes(portal: TestPortal, browser: Browser, username: string) {
  const old = await browser.issue({ username, email: `${username}@example.org`, device: 'phone', days: '30' });
  portal.clock.advance(60_000);
  const replaced = await replace(browser, old.id);
  const newId = Number(/\/certificates\/(\d+)\//.exec(String(replaced.headers.location))![1]);
  portal.clock.advance(60_000);
  const userId = portal.db.prepare('SELECT user_id FROM certificates WHERE id = ?').pluck().get(old.id) as number;
  const published = () =>
    presenceRepository(portal.db).write([
      { userId, device: 'phone', lastMessageAt: portal.clock.now().toISOString(), lastWillAt: null },
    ]);
  published();
  const neverConnected = () =>
    portal.services.enrollment
      .list({
        search: '',
        status: 'all',
        expiringWithinDays: undefined,
        sort: 'issued',
        after: undefined,
        limit: 50,
        neverConnected: true,
      })
      .rows.map((row) => row.id);
  return { oldId: old.id, newId, published, neverConnected };
}

describe('delivery states', () => {
  test('mail written to the outbox is `outbox`, never called mailed or sent, until an admin marks it forwarded', async () => {
    await withPortal({}, async (portal) => {
      const browser = await signedIn(portal);
      const { id, page } = await browser.issue({ username: 'alice', email: 'alice@example.org', days: '30' });
      assert.equal(row(portal, id).delivery, 'outbox');
      assert.doesNotMatch(page.body, /was mailed/);
      assert.match(page.body, /written to the <a href="\/outbox">outbox<\/a>/);
      const detail = await browser.get(`/certificates/${id}`);
      assert.doesNotMatch(detail.body, /<dd>sent/);
      assert.match(detail.body, /In the outbox, not yet forwarded/);
      assert.match(detail.body, /<button type="submit">Mark as forwarded<\/button>/);
      const outbox = await browser.get('/outbox');
      assert.match(outbox.body, /Mark as forwarded/);

      const marked = await browser.submit(`/certificates/${id}`, `/certificates/${id}/forwarded`, {});
      assert.equal(marked.statusCode, 303);
      assert.equal(row(portal, id).delivery, 'forwarded');
      const audit = portal.db
        .prepare("SELECT actor, outcome FROM audit_log WHERE action = 'forward' AND subject = ?")
        .get(`certificate:${id}`);
      assert.deepEqual(audit, { actor: 'admin', outcome: 'success' });
      assert.match((await browser.get(`/certificates/${id}`)).body, /Forwarded/);
      // Only outbox mail can be marked, once.
      const again = await browser.submit(`/certificates/${id}`, `/certificates/${id}/forwarded`, {});
      assert.equal(again.statusCode, 303);
      assert.equal(
        portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'forward'").pluck().get(),
        1,
        'marked once',
      );
    });
  });

  for (const from of ['detail', 'outbox'] as const)
    test(`Mark as forwarded clicked twice on the ${from} page: marked once, and the page says so`, async () => {
      await withPortal({}, async (portal) => {
        const browser = await signedIn(portal);
        const { id } = await browser.issue({ username: 'fay', email: 'fay@example.org', days: '30' });
        const other = await browser.issue({ username: 'gus', email: 'gus@example.org', days: '30' });
        const page = await browser.get(from === 'outbox' ? '/outbox' : `/certificates/${id}`);
        const submission = /name="submission" value="([^"]+)"/.exec(page.body)?.[1];
        assert.ok(submission, 'the form carries its submission id');
        const body = { _csrf: csrfTokenOf(page.body), from, submission };
        portal.clock.advance(61_000); // the session's last-seen time is due: both requests save it
        const [, second] = await Promise.all([
          browser.post(`/certificates/${id}/forwarded`, body),
          browser.post(`/certificates/${id}/forwarded`, body),
        ]);
        const shown = await browser.get(String(second.headers.location));
        assert.match(shown.body, /Marked as forwarded\./);
        assert.doesNotMatch(shown.body, /Only mail in the outbox/);
        assert.equal(portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'forward'").pluck().get(), 1);
        if (from === 'outbox') {
          // The same page's form for another message is another submission.
          const marked = await browser.post(`/certificates/${other.id}/forwarded`, body);
          assert.equal(marked.statusCode, 303);
          assert.equal(row(portal, other.id).delivery, 'forwarded');
        }
      });
    });

  test('Replace into the outbox keeps the old certificate until the new one is forwarded', async () => {
    await withPortal({}, async (portal) => {
      const browser = await signedIn(portal);
      const old = await browser.issue({ username: 'bob', email: 'bob@example.org', device: 'phone', days: '30' });
      const replaced = await replace(browser, old.id);
      assert.equal(replaced.statusCode, 303);
      const newId = Number(/\/certificates\/(\d+)\//.exec(String(replaced.headers.location))![1]);
      assert.equal(row(portal, old.id).status, 'active', 'the old one stays while the new one sits in the outbox');
      assert.equal(row(portal, newId).delivery, 'outbox');
      const result = await browser.get(String(replaced.headers.location));
      assert.match(result.body, /stays active until you mark the new one forwarded/);

      await browser.submit(`/certificates/${newId}`, `/certificates/${newId}/forwarded`, {});
      assert.deepEqual(row(portal, old.id), { status: 'revoked', delivery: 'outbox', revocation_reason: 'superseded' });

      // A replacement revoked before it was forwarded cannot be marked, and its predecessor stays.
      const again = await replace(browser, newId);
      const newest = Number(/\/certificates\/(\d+)\//.exec(String(again.headers.location))![1]);
      await browser.submit(`/certificates/${newest}/revoke?reason=keyCompromise`, `/certificates/${newest}/revoke`, {
        reason: 'keyCompromise',
      });
      assert.doesNotMatch((await browser.get(`/certificates/${newest}`)).body, /Mark as forwarded/);
      await browser.submit(`/certificates/${newId}`, `/certificates/${newest}/forwarded`, {});
      assert.equal(row(portal, newest).delivery, 'outbox');
      assert.equal(row(portal, newId).status, 'active', 'the person still has only this one');
    });
  });

  test('a Replace waiting in the outbox is never connected while the phone it replaces publishes', async () => {
    await withPortal({ deps: { messageSource: silent } }, async (portal) => {
      const browser = await signedIn(portal);
      const { oldId, newId, published, neverConnected } = await replacedWhileOldPhonePublishes(portal, browser, 'bob');
      const enrollment = portal.services.enrollment;
      assert.equal(enrollment.certificate(oldId)!.presence.state, 'connected', 'the old one is the phone');
      assert.equal(enrollment.certificate(newId)!.presence.state, 'never', 'the new one is on no phone yet');
      assert.deepEqual(neverConnected(), [newId]);
      assert.equal(
        enrollment.people.find('bob')!.certificates.find((row) => row.id === newId)!.presence.state,
        'never',
        'the person page says the same',
      );

      // Forwarded a minute later: the old one is revoked. What the old phone sent before is not the new one's.
      portal.clock.advance(60_000);
      await browser.submit(`/certificates/${newId}`, `/certificates/${newId}/forwarded`, {});
      portal.clock.advance(60_000);
      assert.equal(enrollment.certificate(newId)!.presence.state, 'never', 'nothing since the old one ended');
      assert.deepEqual(neverConnected(), [newId]);
      // What publishes from now on is the new one.
      published();
      assert.equal(enrollment.certificate(newId)!.presence.state, 'connected');
      assert.deepEqual(neverConnected(), []);
    });
  });

  test('a Replace whose predecessor an admin revoked before the new bundle was forwarded: not connected by the old phone', async () => {
    await withPortal({ deps: { messageSource: silent } }, async (portal) => {
      const browser = await signedIn(portal);
      const { oldId, newId, neverConnected } = await replacedWhileOldPhonePublishes(portal, browser, 'carl');
      portal.clock.advance(60_000);
      await browser.submit(`/certificates/${oldId}/revoke?reason=superseded`, `/certificates/${oldId}/revoke`, {
        reason: 'superseded',
      });
      assert.equal(row(portal, newId).delivery, 'outbox', 'nobody has the new bundle');
      assert.equal(portal.services.enrollment.certificate(newId)!.presence.state, 'never');
      assert.deepEqual(neverConnected(), [newId]);
    });
  });

  test('Replace because the key is compromised revokes the old certificate at once, outbox or not', async () => {
    await withPortal({}, async (portal) => {
      const browser = await signedIn(portal);
      const old = await browser.issue({ username: 'carol', email: 'carol@example.org', days: '30' });
      const replaced = await replace(browser, old.id, 'keyCompromise');
      assert.equal(replaced.statusCode, 303);
      assert.deepEqual(row(portal, old.id), {
        status: 'revoked',
        delivery: 'outbox',
        revocation_reason: 'keyCompromise',
      });
    });
  });

  test('mail an SMTP server accepted is `sent`, and Replace revokes the old certificate at once', async () => {
    const mailer = new MemoryMailer();
    await withPortal({ deps: { mailer } }, async (portal) => {
      const browser = await signedIn(portal);
      const old = await browser.issue({ username: 'dave', email: 'dave@example.org', days: '30' });
      assert.equal(row(portal, old.id).delivery, 'sent');
      assert.match(old.page.body, /was mailed to/);
      await replace(browser, old.id);
      assert.deepEqual(row(portal, old.id), { status: 'revoked', delivery: 'sent', revocation_reason: 'superseded' });
      const marked = await browser.submit(`/certificates/${old.id}`, `/certificates/${old.id}/forwarded`, {});
      assert.equal(marked.statusCode, 303);
      assert.equal(row(portal, old.id).delivery, 'sent', 'sent mail is not marked forwarded');
    });
  });
});
