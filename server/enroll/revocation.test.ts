// Revocation at the portal's level, in-process: the CRL on disk, freshness, safety of publication,
// replacement, and certificates left pending by a crash. The CRL is read with testing/pki.ts's
// reader here; revocation.int.test.ts has openssl and Mosquitto read it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { certificatesRepository } from '../db/certificates.js';
import { usersRepository } from '../db/users.js';
import { isValidCrl } from '../pki/crl.js';
import { Browser, startTestPortal, withPortal, type TestPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { inProcessMinter } from '../testing/minter.js';
import { connectionRefused, MemoryMailer } from '../testing/mailer.js';
import { readCrl, testCa } from '../testing/pki.js';
import { CRL_RENEW_AFTER_MS, CrlPublicationError, CrlPublisher } from './crl-publisher.js';
import { auditRepository } from '../db/audit.js';
import { settingsRepository } from '../db/settings.js';
import { openDataDir } from '../data-dir.js';

const DAY = 86400_000;

async function issue(browser: Browser, username: string, device: string) {
  const { id, passphrase } = await browser.issue({ username, email: `${username}@example.org`, device, days: '30' });
  return { id, passphrase: passphrase! };
}

/** crl.pem as published: checked the way publication checks it, then read. */
function publishedCrl(portal: TestPortal) {
  const pem = readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8');
  assert.ok(isValidCrl(pem, portal.ca), 'crl.pem is signed by the CA and well-formed');
  return readCrl(pem);
}

/** A certificate row as a crash leaves it: recorded (pending delivery), with nothing signed behind it. */
function insertCertificate(db: TestPortal['db'], username: string, serial: string): number {
  const user = usersRepository(db).create(username, `${username}@example.org`, new Date());
  return certificatesRepository(db).insert({
    user_id: user.id,
    serial,
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
}

const serialOf = (portal: TestPortal, id: number) =>
  portal.db.prepare('SELECT serial FROM certificates WHERE id = ?').pluck().get(id) as string;

describe('revocation', () => {
  test('revoking publishes a CRL that names the serial and reason; the page and audit log say so', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'jjolie', 'phone');
      assert.deepEqual(publishedCrl(portal).entries, [], 'nothing revoked yet');
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
      const crl = publishedCrl(portal);
      assert.deepEqual(crl.entries, [{ serial: serialOf(portal, id), reason: 'keyCompromise' }]);
      assert.equal(String(crl.crlNumber), settingsRepository(portal.db).get('crl_number'));
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
});

describe('CRL freshness and safety', () => {
  test('the CRL is renewed once a day old (injected clock); /healthz degrades near nextUpdate', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const crl = {
        refreshIfAging: enrollment.renewCrlIfAging,
        get nextUpdate() {
          return new Date(enrollment.health().crlNextUpdate!);
        },
      };
      const number = () => settingsRepository(portal.db).get('crl_number');
      const first = number();
      portal.clock.advance(CRL_RENEW_AFTER_MS / 2);
      assert.equal(await crl.refreshIfAging(), undefined, 'still fresh');
      portal.clock.advance(CRL_RENEW_AFTER_MS);
      const renewed = await crl.refreshIfAging();
      assert.ok(renewed);
      assert.notEqual(number(), first);
      assert.equal(crl.nextUpdate.getTime(), portal.clock.now().getTime() + 30 * DAY);
      const published = publishedCrl(portal);
      assert.equal(String(published.crlNumber), number());
      assert.equal(published.nextUpdate.getTime(), Math.floor(crl.nextUpdate.getTime() / 1000) * 1000);

      const health = async () => {
        const response = await portal.app.inject({ method: 'GET', url: '/healthz' });
        return {
          status: response.statusCode,
          body: response.json<{ status: string; checks: Record<string, string> }>(),
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
        revokedMark: () => '',
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
    const mailer = new MemoryMailer();
    await withPortal({ deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'carol', 'phone');
      const response = await browser.submit(`/certificates/${id}`, `/certificates/${id}/replace`, {});
      assert.equal(response.statusCode, 303);
      const issued = await browser.get(String(response.headers.location));
      assert.match(issued.body, /data-testid="passphrase"/);
      assert.match(issued.body, /revoked as superseded/);
      assert.equal(mailer.messages.length, 2, 'the first bundle and its replacement');
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
      assert.deepEqual(
        publishedCrl(portal).entries.map((entry) => entry.reason),
        ['superseded'],
      );

      mailer.failWith = connectionRefused();
      const newId = rows[1]!.id as number;
      const count = () => portal.db.prepare('SELECT count(*) FROM certificates').pluck().get() as number;
      const before = count();
      const failed = await browser.submit(`/certificates/${newId}`, `/certificates/${newId}/replace`, {});
      // A POST that created something answers with a redirect: a reload of the page shows the
      // failure again and issues nothing.
      assert.equal(failed.statusCode, 303);
      const location = String(failed.headers.location);
      assert.match(location, new RegExp(`^/certificates/${newId}/replace-failed\\?ticket=[A-Za-z0-9_-]+$`));
      for (let reload = 0; reload < 2; reload++) {
        const page = await browser.get(location);
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /stays active/);
      }
      assert.equal(count(), before + 1, 'one failed replacement recorded, nothing issued by the reloads');
      assert.equal(portal.db.prepare('SELECT status FROM certificates WHERE id = ?').pluck().get(newId), 'active');
    });
  });

  test('a compromised key is revoked even when its replacement fails: the mail refused, or the CA too close to its end', async () => {
    const mailer = new MemoryMailer();
    await withPortal({ deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const status = (id: number) =>
        portal.db.prepare('SELECT status, revocation_reason FROM certificates WHERE id = ?').get(id);
      const { id } = await issue(browser, 'carol', 'phone');
      mailer.failWith = connectionRefused();
      const failed = await browser.submit(
        `/certificates/${id}/replace?reason=keyCompromise`,
        `/certificates/${id}/replace`,
        { reason: 'keyCompromise' },
      );
      assert.equal(failed.statusCode, 303);
      assert.deepEqual(status(id), { status: 'revoked', revocation_reason: 'keyCompromise' });
      const page = await browser.get(String(failed.headers.location));
      assert.match(page.body, /The mail could not be sent/);
      assert.doesNotMatch(page.body, /stays active/, 'the page does not say the compromised one stays active');
      assert.match(
        page.body,
        new RegExp(
          `serial ${String(portal.db.prepare('SELECT serial FROM certificates WHERE id = ?').pluck().get(id))}\\) is revoked because its key is compromised`,
        ),
      );
      assert.ok(
        publishedCrl(portal).entries.some((entry) => entry.reason === 'keyCompromise'),
        'in the published CRL',
      );

      // A failure before anything is minted (the CA ends in less than a day): revoked all the same.
      mailer.failWith = undefined;
      const { id: second } = await issue(browser, 'dave', 'phone');
      portal.clock.current = new Date(Date.parse(portal.ca.x509.validTo) - 3600_000);
      const routine = await portal.services.enrollment.replace(second, { name: 'admin', ip: '127.0.0.1' });
      assert.equal(routine.ok ? 'issued' : routine.reason, 'outlives-ca', 'the CA is the reason, not a bad form');
      assert.deepEqual(status(second), { status: 'active', revocation_reason: null }, 'a routine replace keeps it');
      const outcome = await portal.services.enrollment.replace(
        second,
        { name: 'admin', ip: '127.0.0.1' },
        'keyCompromise',
      );
      assert.equal(outcome.ok ? 'issued' : outcome.reason, 'outlives-ca');
      assert.deepEqual(status(second), { status: 'revoked', revocation_reason: 'keyCompromise' });
    });
  });

  test('a compromised key is revoked even when making its replacement throws (a minting thread gone)', async () => {
    const { ca } = await testCa();
    const real = inProcessMinter(ca);
    let broken = false;
    const minter = {
      ...real,
      mint: (request: Parameters<typeof real.mint>[0]) =>
        broken ? Promise.reject(new Error('the minting thread exited')) : real.mint(request),
    };
    await withPortal({ deps: { minter } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'carol', 'phone');
      broken = true;
      await assert.rejects(
        portal.services.enrollment.replace(id, { name: 'admin', ip: '127.0.0.1' }, 'keyCompromise'),
        /minting thread exited/,
      );
      assert.equal(portal.db.prepare('SELECT status FROM certificates WHERE id = ?').pluck().get(id), 'revoked');
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
      assert.equal(
        Date.parse(new X509Certificate(replacement.pem).validTo),
        Date.parse(replacement.not_after) - (Date.parse(replacement.not_after) % 1000),
        'the certificate itself says so',
      );
    });
  });

  test('a certificate left pending by a crash is revoked at the next start and listed in the CRL', async () => {
    const dataDir = tempDir();
    const first = await startTestPortal({ dataDir });
    const pendingId = insertCertificate(first.db, 'dave', '1234abcd');
    await first.close();
    const second = await startTestPortal({ dataDir });
    try {
      const row = second.db
        .prepare('SELECT status, delivery, revocation_reason FROM certificates WHERE id = ?')
        .get(pendingId);
      assert.deepEqual(row, { status: 'revoked', delivery: 'failed', revocation_reason: 'cessationOfOperation' });
      assert.deepEqual(publishedCrl(second).entries, [{ serial: '1234abcd', reason: 'cessationOfOperation' }]);
      assert.ok(second.logs.some((line) => line.includes('Revoked 1 certificate left undelivered')));
    } finally {
      await second.close();
    }
  });
  describe('the start keeps a current CRL and republishes one that is not', () => {
    const crlFile = (dir: string) => path.join(dir, 'crl.pem');
    const crlPublications = (portal: TestPortal) =>
      portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'crl-publish'").pluck().get() as number;

    // One data folder whose first start published a CRL listing one revoked certificate, made
    // once; each test starts on a copy of it (the WAL is checkpointed when the portal closes).
    let original: { dataDir: string; pem: string } | undefined;
    async function settled() {
      if (!original) {
        const dataDir = tempDir();
        const first = await startTestPortal({ dataDir });
        const browser = new Browser(first);
        await browser.signIn();
        const { id } = await issue(browser, 'erin', 'phone');
        const revoked = await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, {
          reason: 'keyCompromise',
        });
        assert.equal(revoked.statusCode, 303);
        await first.close();
        original = { dataDir, pem: readFileSync(crlFile(dataDir), 'utf8') };
      }
      const dataDir = tempDir();
      cpSync(original.dataDir, dataDir, { recursive: true });
      return { dataDir, pem: original.pem };
    }

    test('nothing changed: the same file, number and no publication; the log says it was kept', async () => {
      const { dataDir, pem } = await settled();
      const second = await startTestPortal({ dataDir });
      try {
        const before = crlPublications(second);
        assert.equal(readFileSync(crlFile(dataDir), 'utf8'), pem, 'crl.pem is byte for byte the same');
        assert.equal(crlPublications(second), before, 'no publication was audited by this start');
        assert.ok(second.logs.some((line) => /CRL \d+ in .* is current; kept/.test(line)));
        assert.equal(publishedCrl(second).entries.length, 1);
      } finally {
        await second.close();
      }
    });

    const changes: [string, (dataDir: string, db: TestPortal['db']) => void, number][] = [
      [
        'a revocation committed but never published (a crash in between)',
        (_dir, db) => {
          const id = insertCertificate(db, 'frank', '5678ef01');
          db.prepare("UPDATE certificates SET delivery = 'sent' WHERE id = ?").run(id);
          certificatesRepository(db).revoke(id, new Date(), 'keyCompromise', 'admin');
        },
        2,
      ],
      ['crl.pem removed', (dir) => rmSync(crlFile(dir)), 1],
      ['crl.pem replaced by another file', (dir) => writeFileSync(crlFile(dir), 'not the published CRL\n'), 1],
      [
        'a CRL older than a day',
        (_dir, db) => {
          const old = new Date(Date.now() - CRL_RENEW_AFTER_MS - 60_000).toISOString();
          settingsRepository(db).put('crl_this_update', old);
        },
        1,
      ],
    ];
    for (const [what, change, entries] of changes)
      test(`${what}: the start publishes a new CRL`, async () => {
        const { dataDir, pem } = await settled();
        const db = openDataDir(dataDir);
        change(dataDir, db);
        db.close();
        const second = await startTestPortal({ dataDir });
        try {
          const published = readFileSync(crlFile(dataDir), 'utf8');
          assert.notEqual(published, pem);
          assert.equal(publishedCrl(second).entries.length, entries);
          assert.ok(second.logs.some((line) => /Published CRL \d+ with/.test(line)));
        } finally {
          await second.close();
        }
      });
  });
});
