// Revocation end to end at the portal's level: the CRL on disk, the broker reload, freshness,
// safety of publication, replacement, and certificates left pending by a crash.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { Browser, startTestPortal, withPortal, tempDir, type TestPortal } from '../testing/harness.js';
import { Mosquitto } from '../testing/mosquitto.js';
import { Scratch, openssl } from '../testing/openssl.js';
import { serverFiles } from '../testing/pki.js';
import { TestSmtpServer } from '../testing/smtp.js';
import { certificatesRepository } from '../db/certificates.js';
import { usersRepository } from '../db/users.js';
import { CRL_RENEW_AFTER_MS, CrlPublicationError, CrlPublisher, runReloadCommand } from './crl-publisher.js';
import { auditRepository } from '../db/audit.js';
import { settingsRepository } from '../db/settings.js';

const DAY = 86400_000;

async function issue(browser: Browser, username: string, device: string) {
  const { id, passphrase } = await browser.issue({ username, email: `${username}@example.org`, device, days: '30' });
  return { id, passphrase: passphrase! };
}

async function crlText(portal: TestPortal) {
  const scratch = new Scratch();
  return openssl([
    'crl',
    '-in',
    path.join(portal.dataDir, 'crl.pem'),
    '-CAfile',
    scratch.file('ca.crt', portal.ca.certPem),
    '-noout',
    '-text',
  ]);
}

const serialOf = (portal: TestPortal, id: number) =>
  portal.db.prepare('SELECT serial FROM certificates WHERE id = ?').pluck().get(id) as string;

describe('revocation', () => {
  test('revoking writes a CRL that openssl verifies and that names the serial; the page and audit log say so', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'jjolie', 'phone');
      const detail = await browser.get(`/certificates/${id}`);
      assert.match(detail.body, /<label for="f-reason">Reason<\/label>/);
      assert.match(detail.body, /<button type="submit" class="danger">Revoke certificate<\/button>/);
      const response = await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, {
        reason: 'keyCompromise',
      });
      assert.equal(response.statusCode, 303);
      const after = await browser.get(`/certificates/${id}`);
      assert.match(after.body, /Certificate revoked\. CRL \d+ published/);
      assert.match(after.body, /Phones already connected stay connected/);
      assert.match(after.body, /by admin, <time[^>]*>[^<]*<\/time>: Key compromise/);
      const text = await crlText(portal);
      assert.match(text.stderr + text.stdout, /verify OK/);
      assert.match(
        text.stdout,
        new RegExp(`Serial Number: ${serialOf(portal, id).toUpperCase()}[\\s\\S]*Key Compromise`),
      );
      assert.equal(
        portal.db
          .prepare("SELECT count(*) FROM audit_log WHERE action IN ('revoke', 'crl-publish') AND outcome = 'success'")
          .pluck()
          .get(),
        3,
        'start CRL, revoke, CRL',
      );

      const again = await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, { reason: 'superseded' });
      assert.equal(again.statusCode, 303);
      assert.equal(
        portal.db.prepare('SELECT revocation_reason FROM certificates WHERE id = ?').pluck().get(id),
        'keyCompromise',
      );
      const bad = await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, {
        reason: 'privilegeWithdrawn',
      });
      assert.equal(bad.statusCode, 400);
    });
  });

  test('a revoked and an unrevoked certificate of one user against Mosquitto, reloaded through BROKER_RELOAD_COMMAND', async () => {
    const pidFile = path.join(tempDir(), 'mosquitto.pid');
    const portal = await startTestPortal({ env: { BROKER_RELOAD_COMMAND: `kill -HUP "$(cat ${pidFile})"` } });
    const scratch = new Scratch();
    const broker = await Mosquitto.start(
      {
        caFile: path.join(portal.dataDir, 'ca.crt'),
        crlFile: path.join(portal.dataDir, 'crl.pem'),
        ...(await serverFiles(scratch, portal.ca)),
      },
      { pidFile },
    );
    try {
      const browser = new Browser(portal);
      await browser.signIn();
      const phone = await issue(browser, 'alice', 'phone');
      const tablet = await issue(browser, 'alice', 'tablet');
      const outbox = path.join(portal.dataDir, 'outbox');
      const identities = [];
      for (const [name, passphrase] of [
        ['phone', phone.passphrase],
        ['tablet', tablet.passphrase],
      ] as const) {
        const file = readdirSync(outbox)
          .map((f) => path.join(outbox, f))
          .find((f) => readFileSync(f, 'utf8').includes(`for ${name}`))!;
        const mail = await simpleParser(readFileSync(file));
        const p12 = scratch.file(`${name}.p12`, mail.attachments.find((a) => a.filename === 'alice.p12')!.content);
        await openssl([
          'pkcs12',
          '-in',
          p12,
          '-passin',
          `pass:${passphrase}`,
          '-clcerts',
          '-nokeys',
          '-out',
          scratch.path(`${name}.crt`),
        ]);
        await openssl([
          'pkcs12',
          '-in',
          p12,
          '-passin',
          `pass:${passphrase}`,
          '-nocerts',
          '-noenc',
          '-out',
          scratch.path(`${name}.key`),
        ]);
        identities.push({ certFile: scratch.path(`${name}.crt`), keyFile: scratch.path(`${name}.key`) });
      }
      const [phoneId, tabletId] = identities as [(typeof identities)[0], (typeof identities)[0]];
      assert.equal(await broker.publish(phoneId, 'owntracks/alice/phone', 'before'), true);

      await browser.submit(`/certificates/${phone.id}`, `/certificates/${phone.id}/revoke`, {
        reason: 'keyCompromise',
      });
      const page = await browser.get(`/certificates/${phone.id}`);
      assert.match(page.body, /The broker was asked to re-read the CRL/);
      let refused = false;
      for (let i = 0; i < 50 && !refused; i++) {
        refused = !(await broker.publish(phoneId, 'owntracks/alice/phone', 'after'));
        if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(refused, true, broker.output);
      assert.equal(await broker.publish(tabletId, 'owntracks/alice/tablet', 'still in'), true);
      assert.equal(
        portal.db
          .prepare("SELECT outcome FROM audit_log WHERE action = 'broker-reload' ORDER BY id DESC")
          .pluck()
          .get(),
        'success',
      );
    } finally {
      await broker.stop();
      await portal.close();
    }
  });

  test('a failing reload command is reported to the admin and audited, not swallowed', async () => {
    const portal = await startTestPortal({ env: { BROKER_RELOAD_COMMAND: 'echo "no such broker" >&2; exit 3' } });
    try {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'bob', 'phone');
      await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, { reason: 'unspecified' });
      const page = await browser.get(`/certificates/${id}`);
      assert.match(page.body, /flash-error[^>]*>The broker reload command failed \(exit status 3: no such broker\)/);
      assert.equal(
        portal.db.prepare("SELECT detail FROM audit_log WHERE action = 'broker-reload'").pluck().get(),
        'exit status 3: no such broker',
      );
    } finally {
      await portal.close();
    }
  });

  test('a reload command that hangs is killed after its limit', async () => {
    const started = Date.now();
    const outcome = await runReloadCommand('sleep 30', 300);
    assert.equal(outcome.ok, false);
    assert.match(outcome.message, /killed after 0.3 s/);
    assert.ok(Date.now() - started < 5000);
  });
});

describe('CRL freshness and safety', () => {
  test('the CRL is renewed once a day old (injected clock); /healthz degrades near nextUpdate', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const number = () => settingsRepository(portal.db).get('crl_number');
      const first = number();
      portal.clock.advance(CRL_RENEW_AFTER_MS / 2);
      assert.equal(await enrollment.renewCrlIfAging(), undefined, 'still fresh');
      portal.clock.advance(CRL_RENEW_AFTER_MS);
      const renewed = await enrollment.renewCrlIfAging();
      assert.ok(renewed);
      assert.notEqual(number(), first);
      assert.equal(Date.parse(enrollment.health().crlNextUpdate!), portal.clock.now().getTime() + 30 * DAY);
      const text = await crlText(portal);
      assert.match(text.stderr + text.stdout, /verify OK/);

      const health = async () => {
        const response = await portal.app.inject({ method: 'GET', url: '/healthz' });
        return {
          status: response.statusCode,
          body: response.json() as { status: string; checks: Record<string, string> },
        };
      };
      assert.deepEqual((await health()).body.checks, { database: 'ok', ca: 'ok', crl: 'ok' });
      portal.clock.advance(28 * DAY); // no renewal ran: nextUpdate is two days away
      assert.deepEqual(await health().then((h) => [h.status, h.body.status, h.body.checks.crl]), [
        200,
        'degraded',
        'degraded',
      ]);
      portal.clock.advance(3 * DAY);
      assert.deepEqual(await health().then((h) => [h.status, h.body.status]), [503, 'failing']);
    });
  });

  test('a CRL that fails verification never replaces the good one', async () => {
    await withPortal({}, async (portal) => {
      const good = readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8');
      const broken = new CrlPublisher({
        db: portal.db,
        ca: portal.ca,
        file: path.join(portal.dataDir, 'crl.pem'),
        settings: settingsRepository(portal.db),
        audit: auditRepository(portal.db),
        now: portal.clock.now,
        reloadCommand: undefined,
        revoked: () => [],
        build: () => good.replace(/[A-Z]/, 'x'), // a corrupted signature or structure
      });
      await assert.rejects(broken.publish('admin', 'test'), CrlPublicationError);
      assert.equal(readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8'), good);
      assert.equal(readdirSync(portal.dataDir).filter((f) => f.endsWith('.tmp')).length, 0);
      assert.equal(
        portal.db.prepare("SELECT outcome FROM audit_log WHERE action = 'crl-publish' ORDER BY id DESC").pluck().get(),
        'failure',
      );
    });
  });

  test('GET /crl.pem is public, with an ETag and Last-Modified; a matching If-None-Match gets 304', async () => {
    await withPortal({}, async (portal) => {
      const response = await portal.app.inject({ method: 'GET', url: '/crl.pem' });
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /^-----BEGIN X509 CRL-----/);
      assert.ok(response.headers['last-modified']);
      const cached = await portal.app.inject({
        method: 'GET',
        url: '/crl.pem',
        headers: { 'if-none-match': String(response.headers.etag) },
      });
      assert.equal(cached.statusCode, 304);
      const ca = await portal.app.inject({ method: 'GET', url: '/ca.crt' });
      assert.equal(ca.body, portal.ca.certPem);
      const otre = await portal.app.inject({ method: 'GET', url: '/ca.otre' });
      assert.ok(otre.rawPayload.equals(portal.ca.certDer));
    });
  });
});

describe('replacing and crash recovery', () => {
  test('replace issues and mails a new certificate, then supersedes the old one; if the mail fails the old one stays', async () => {
    const smtp = await TestSmtpServer.start();
    await withPortal({ env: { SMTP_URL: smtp.url } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'carol', 'phone');
      const response = await browser.submit(`/certificates/${id}`, `/certificates/${id}/replace`, {});
      assert.equal(response.statusCode, 303);
      const issued = await browser.get(String(response.headers.location));
      assert.match(issued.body, /data-testid="passphrase"/);
      assert.match(issued.body, /revoked as superseded/);
      await smtp.waitFor(2);
      const rows = portal.db
        .prepare('SELECT id, status, revocation_reason, device FROM certificates ORDER BY id')
        .all() as Array<Record<string, unknown>>;
      assert.deepEqual(
        rows.map((r) => [r.status, r.revocation_reason, r.device]),
        [
          ['revoked', 'superseded', 'phone'],
          ['active', null, 'phone'],
        ],
      );
      const revokedAt = portal.db.prepare('SELECT revoked_at FROM certificates WHERE id = ?').pluck().get(id) as string;
      const mailedAt = portal.db
        .prepare("SELECT at FROM audit_log WHERE action = 'mail' AND subject = ?")
        .pluck()
        .get(`certificate:${rows[1]!.id}`) as string;
      assert.ok(mailedAt <= revokedAt, 'superseded only after the new mail went out');

      await smtp.close();
      const newId = rows[1]!.id as number;
      const failed = await browser.submit(`/certificates/${newId}`, `/certificates/${newId}/replace`, {});
      assert.equal(failed.statusCode, 502);
      assert.match(failed.body, /stays active/);
      assert.equal(portal.db.prepare('SELECT status FROM certificates WHERE id = ?').pluck().get(newId), 'active');
    });
  });

  test('a replacement never outlives the CA: ten days before its expiry, a 30-day certificate is replaced by a 10-day one', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'erin', 'phone'); // 30 days
      const caExpires = Date.parse(portal.ca.x509.validTo);
      portal.clock.current = new Date(caExpires - 10.5 * DAY);
      const outcome = await portal.services.enrollment.replace(id, { name: 'admin', ip: '127.0.0.1' });
      assert.ok(outcome.ok, `replace failed: ${outcome.ok ? '' : outcome.reason}`);
      const replacement = portal.db
        .prepare('SELECT pem, not_before, not_after FROM certificates WHERE id = ?')
        .get(outcome.issued.certificateId) as { pem: string; not_before: string; not_after: string };
      assert.ok(Date.parse(replacement.not_after) <= caExpires, 'ends no later than the CA');
      assert.equal(Math.round((Date.parse(replacement.not_after) - Date.parse(replacement.not_before)) / DAY), 10);
      const scratch = new Scratch();
      const endDate = await openssl(['x509', '-noout', '-enddate', '-in', scratch.file('new.crt', replacement.pem)]);
      assert.equal(
        Date.parse(endDate.stdout.trim().replace('notAfter=', '')),
        Date.parse(replacement.not_after) - (Date.parse(replacement.not_after) % 1000),
      );
    });
  });

  test('a certificate left pending by a crash is revoked at the next start and listed in the CRL', async () => {
    const dataDir = tempDir();
    const first = await startTestPortal({ dataDir });
    const user = usersRepository(first.db).create('dave', 'dave@example.org', new Date());
    const pendingId = certificatesRepository(first.db).insert({
      user_id: user.id,
      serial: '1234abcd',
      device: 'phone',
      fingerprint_sha256: 'x',
      pem: 'x',
      key_bits: 2048,
      not_before: new Date().toISOString(),
      not_after: new Date(Date.now() + DAY).toISOString(),
      bundle_format: 'compatible',
      issued_by: 'admin',
      issued_at: new Date().toISOString(),
    });
    await first.close();
    const second = await startTestPortal({ dataDir });
    try {
      const row = second.db
        .prepare('SELECT status, delivery, revocation_reason FROM certificates WHERE id = ?')
        .get(pendingId);
      assert.deepEqual(row, { status: 'revoked', delivery: 'failed', revocation_reason: 'cessationOfOperation' });
      const text = await crlText(second);
      assert.match(text.stdout, /Serial Number: 1234ABCD/);
      assert.ok(second.logs.some((line) => line.includes('Revoked 1 certificate(s) left undelivered')));
    } finally {
      await second.close();
    }
  });
});
