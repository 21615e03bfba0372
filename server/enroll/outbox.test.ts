// The outbox is the one place a bundle (a private key, passphrase-protected) is kept on disk: a
// message goes when its certificate is revoked (or replaced), and after OUTBOX_RETENTION_DAYS.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Browser, withPortal, type TestPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { createMailer, type Mailer } from '../mail/transport.js';

const DAY = 86400_000;
const outboxOf = (portal: TestPortal) => readdirSync(path.join(portal.dataDir, 'outbox')).sort();
const serialOf = (portal: TestPortal, id: number) =>
  portal.db.prepare('SELECT serial FROM certificates WHERE id = ?').pluck().get(id) as string;

async function signedIn(portal: TestPortal) {
  const browser = new Browser(portal);
  await browser.signIn();
  return browser;
}

describe('outbox retention', () => {
  test("revoking or replacing a certificate removes its message from the outbox; others' stay", async () => {
    await withPortal({}, async (portal) => {
      const browser = await signedIn(portal);
      const alice = await browser.issue({ username: 'alice', email: 'alice@example.org', days: '30' });
      const bob = await browser.issue({ username: 'bob', email: 'bob@example.org', days: '30' });
      const carol = await browser.issue({ username: 'carol', email: 'carol@example.org', days: '30' });
      const before = outboxOf(portal);
      assert.equal(before.length, 3);
      const aliceMessage = before.find((name) => name.includes(serialOf(portal, alice.id)))!;
      assert.ok(aliceMessage, 'the message is named by its certificate');

      const revoked = await browser.submit(`/certificates/${alice.id}`, `/certificates/${alice.id}/revoke`, {
        reason: 'keyCompromise',
      });
      assert.equal(revoked.statusCode, 303);
      assert.deepEqual(
        outboxOf(portal),
        before.filter((name) => name !== aliceMessage),
      );
      assert.equal((await browser.get(`/outbox/${aliceMessage}`)).statusCode, 404);

      const replaced = await browser.submit(`/certificates/${bob.id}`, `/certificates/${bob.id}/replace`, {});
      assert.equal(replaced.statusCode, 303);
      // The new bundle is in the outbox: bob's old certificate (and its message) stay until it is forwarded.
      assert.equal(outboxOf(portal).length, 3);
      const newBob = Number(/\/certificates\/(\d+)\//.exec(String(replaced.headers.location))![1]);
      await browser.submit(`/certificates/${newBob}`, `/certificates/${newBob}/forwarded`, {});
      const after = outboxOf(portal);
      assert.equal(after.length, 2, after.join(', '));
      assert.ok(!after.some((name) => name.includes(serialOf(portal, bob.id))), "bob's old bundle is gone");
      assert.ok(
        after.some((name) => name.includes(serialOf(portal, carol.id))),
        "carol's stays",
      );
    });
  });

  test('a certificate revoked while its message is being written leaves no bundle in the outbox', async () => {
    const dataDir = tempDir();
    const real = createMailer(undefined, path.join(dataDir, 'outbox'));
    let revokeDuringSend: (() => Promise<unknown>) | undefined;
    const mailer: Mailer = {
      kind: 'outbox',
      async send(message, label) {
        await revokeDuringSend?.(); // the revoke's removal runs before the file exists
        return real.send(message, label);
      },
      close: () => real.close(),
    };
    await withPortal({ dataDir, deps: { mailer } }, async (portal) => {
      const { enrollment } = portal.services;
      const actor = { name: 'admin', ip: '127.0.0.1' };
      revokeDuringSend = async () => {
        revokeDuringSend = undefined;
        const id = portal.db.prepare('SELECT max(id) FROM certificates').pluck().get() as number;
        assert.ok((await enrollment.revoke(id, 'keyCompromise', actor)).ok);
      };
      await enrollment.issue(
        {
          username: 'alice',
          email: 'alice@example.org',
          device: 'phone',
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          changeEmail: false,
        },
        actor,
      );
      assert.equal(portal.db.prepare('SELECT status FROM certificates').pluck().get(), 'revoked');
      assert.deepEqual(outboxOf(portal), [], 'no bundle of a revoked certificate on disk');
    });
  });

  test('a message older than OUTBOX_RETENTION_DAYS is pruned by the daily job (injected clock); a younger one stays', async () => {
    await withPortal({ env: { OUTBOX_RETENTION_DAYS: '30' } }, async (portal) => {
      const browser = await signedIn(portal);
      await browser.issue({ username: 'dave', email: 'dave@example.org', days: '90' });
      assert.equal(outboxOf(portal).length, 1);
      portal.clock.advance(29 * DAY);
      portal.services.enrollment.pruneOutbox();
      assert.equal(outboxOf(portal).length, 1, 'kept within the retention');
      portal.clock.advance(2 * DAY);
      portal.services.enrollment.pruneOutbox();
      assert.deepEqual(outboxOf(portal), [], 'removed after 30 days');
      assert.equal(
        portal.db
          .prepare("SELECT detail FROM audit_log WHERE action = 'outbox-prune' AND outcome = 'success'")
          .pluck()
          .get(),
        '1 message older than 30 days removed',
      );
    });
  });

  test('at start, messages of an earlier version (named by time only) are pruned by age', async () => {
    const dataDir = tempDir();
    const outbox = path.join(dataDir, 'outbox');
    mkdirSync(outbox);
    const old = path.join(outbox, '2026-01-01T00-00-00-000Z-abc123.eml');
    const recent = path.join(outbox, '2026-11-20T00-00-00-000Z-def456.eml');
    for (const file of [old, recent]) writeFileSync(file, 'From: x\n\nbody\n');
    utimesSync(old, new Date(Date.now() - 31 * DAY), new Date(Date.now() - 31 * DAY));
    await withPortal({ dataDir }, async (portal) => {
      assert.deepEqual(outboxOf(portal), [path.basename(recent)]);
    });
  });

  test('the Outbox page lists each message by recipient, certificate and time, not by its file name', async () => {
    await withPortal({}, async (portal) => {
      const browser = await signedIn(portal);
      const { id } = await browser.issue({
        username: 'alice',
        email: 'alice@example.org',
        device: 'tablet',
        days: '30',
      });
      const [name] = outboxOf(portal);
      const page = (await browser.get('/outbox')).body;
      const row = page.slice(page.indexOf('<tbody>'), page.indexOf('</tbody>'));
      assert.match(row, /<td>alice@example\.org<\/td>/, 'the recipient');
      assert.match(row, new RegExp(`<a href="/certificates/${id}">alice \\(tablet\\)</a>`), 'the certificate, linked');
      const written = /<time datetime="([^"]+)">(\d{4}-\d\d-\d\d \d\d:\d\d) UTC<\/time>/.exec(row);
      assert.ok(written, 'the time it was written');
      assert.equal(written[1]!.replace('T', ' ').slice(0, 16), written[2]);
      assert.ok(Math.abs(Date.parse(written[1]!) - portal.clock.now().getTime()) < 60_000, written[1]);
      // The file name is the download link's target, never text a person reads.
      const text = row.replace(/<[^>]*>/g, ' ');
      assert.ok(!text.includes(name!), `${name} shown as text`);
      assert.ok(!text.includes(name!.replace(/\.eml$/, '')), 'nor its stem');
      assert.match(row, new RegExp(`href="/outbox/${name!.replace(/\./g, '\\.')}" download`));
    });
  });

  test('the Outbox page states the rule', async () => {
    await withPortal({ env: { OUTBOX_RETENTION_DAYS: '7' } }, async (portal) => {
      const page = await (await signedIn(portal)).get('/outbox');
      assert.match(page.body, /removed when its certificate is revoked or replaced, and 7 days after it was written/);
    });
  });
});
