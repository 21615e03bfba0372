// The use cases' own guarantees, whatever the entry point: rules checked by the use case itself,
// a failed CRL publication that leaves the revocation standing and is retried, a replace that
// races a revoke, and a portal that builds without side effects.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDataDir } from '../data-dir.js';
import type { Mailer } from '../mail/transport.js';
import { createServices } from '../services.js';
import { Browser, withPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { testCa } from '../testing/pki.js';
import { children, readElement } from '../pki/der.js';
import type { IssueRequest, Recorded } from './issue.js';
import { MemoryMailer } from '../testing/mailer.js';
import type { Minter } from './minter.js';

/** The serials (lower-case hex, no leading zero byte) a PEM CRL lists, read with our DER reader. */
function crlSerials(pem: string): string[] {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const tbs = children(readElement(der))[0]!;
  const revoked = children(tbs)
    .slice(4)
    .find((element) => element.tag === 0x30);
  return revoked ? children(revoked).map((entry) => children(entry)[0]!.value.toString('hex').replace(/^00/, '')) : [];
}

const request: IssueRequest = {
  username: 'alice',
  email: 'alice@example.org',
  device: null,
  days: 30,
  keyBits: 2048,
  format: 'compatible',
  changeEmail: false,
};
const actor = { name: 'admin', ip: '127.0.0.1' };

/** A minter that must not be used: any call is a test failure. */
const forbiddenMinter: Minter = {
  start: () => undefined,
  mint: () => Promise.reject(new Error('nothing may be signed for this request')),
  close: async () => undefined,
};

async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the issue use case checks the rules itself', () => {
  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['an upper-case username', { username: 'Alice' }, 'username'],
    ['a username with a topic wildcard', { username: 'a+b' }, 'username'],
    ['a username with a slash', { username: 'a/b' }, 'username'],
    ['an empty username', { username: '' }, 'username'],
    ['a device with a space', { device: 'my phone' }, 'device'],
    ['an address with a line break', { email: 'a@example.org\r\nBcc: x@example.org' }, 'email'],
    ['zero days', { days: 0 }, 'days'],
    ['more than 3650 days', { days: 3651 }, 'days'],
    ['an odd key size', { keyBits: 1024 }, 'keyBits'],
    ['a short typed passphrase', { passphrase: 'short' }, 'passphrase'],
  ];
  for (const [name, change, field] of invalid) {
    test(`${name}: invalid, nothing signed, no row, no mail`, async () => {
      await withPortal({ deps: { minter: forbiddenMinter } }, async (portal) => {
        const recorded: unknown[] = [];
        const outcome = await portal.services.enrollment.issue({ ...request, ...change }, actor, (r) =>
          recorded.push(r),
        );
        assert.deepEqual(recorded, [], 'nothing recorded to announce');
        assert.equal(outcome.ok, false);
        assert.equal(!outcome.ok && outcome.reason, 'invalid');
        assert.ok(!outcome.ok && outcome.reason === 'invalid' && outcome.issues[field], JSON.stringify(outcome));
        assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0);
        assert.equal(portal.db.prepare('SELECT count(*) FROM users').pluck().get(), 0);
        assert.deepEqual(readdirSync(path.join(portal.dataDir, 'outbox')), []);
      });
    });
  }
});

describe('the issue use case announces the recorded certificate before the mail goes', () => {
  test('once, with the passphrase and bundle the outcome then carries, while the row is pending and no mail went', async () => {
    const mailer = new MemoryMailer();
    await withPortal({ deps: { mailer } }, async (portal) => {
      const seen: Array<{ recorded: Recorded; delivery: unknown; mails: number }> = [];
      const outcome = await portal.services.enrollment.issue(request, actor, (recorded) =>
        seen.push({
          recorded,
          delivery: portal.db
            .prepare('SELECT delivery FROM certificates WHERE id = ?')
            .pluck()
            .get(recorded.certificateId),
          mails: mailer.messages.length,
        }),
      );
      assert.ok(outcome.ok);
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0]!.recorded, {
        certificateId: outcome.certificateId,
        passphrase: outcome.passphrase,
        pkcs12: outcome.pkcs12,
      });
      assert.deepEqual([seen[0]!.delivery, seen[0]!.mails], ['pending', 0]);
      assert.equal(mailer.messages.length, 1);
    });
  });
});

describe('a broker certificate', () => {
  test('ends no later than the CA, and is refused when the CA ends within a day', async () => {
    await withPortal({}, async (portal) => {
      const { serverCertificates } = portal.services.enrollment;
      const caEnds = Date.parse(portal.ca.x509.validTo);
      portal.clock.current = new Date(caEnds - 30.5 * 86400_000);
      const issued = await serverCertificates.issue({ hosts: ['mqtt.example.org'], ips: [], days: 825 }, actor);
      assert.ok(issued.ok, JSON.stringify(issued));
      assert.ok(issued.notAfter.getTime() <= caEnds, `${issued.notAfter.toISOString()} is after the CA's end`);
      assert.ok(Date.parse(new X509Certificate(issued.certPem).validTo) <= caEnds);
      portal.clock.current = new Date(caEnds - 3600_000);
      const late = await serverCertificates.issue({ hosts: ['mqtt.example.org'], ips: [], days: 825 }, actor);
      assert.equal(late.ok ? 'issued' : late.reason, 'invalid');
      assert.equal(portal.db.prepare('SELECT count(*) FROM server_certificates').pluck().get(), 1);
    });
  });
});

describe('/healthz when the database fails a read', () => {
  test('answers 503 with its JSON, the database and the CRL failing, not an error page', async () => {
    await withPortal({}, async (portal) => {
      portal.db.exec('ALTER TABLE settings RENAME TO settings_away'); // the CRL's next update lives there
      try {
        const response = await portal.app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(response.statusCode, 503);
        const health = response.json();
        assert.equal(health.status, 'failing');
        assert.equal(health.checks.database, 'failing');
        assert.equal(health.checks.crl, 'failing');
        assert.equal(response.headers['cache-control'], 'no-store');
      } finally {
        portal.db.exec('ALTER TABLE settings_away RENAME TO settings');
      }
    });
  });
});

describe('a CRL that cannot be published after a revoke', () => {
  test('the revocation stands, the page says so, /healthz is not ok, and a retry publishes it', async () => {
    await withPortal({ deps: { crlRetryFirstMs: 50 } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'bob', email: 'bob@example.org', days: '30' });
      const serial = portal.db.prepare('SELECT serial FROM certificates WHERE id = ?').pluck().get(id) as string;
      // crl.pem replaced by a folder: the atomic rename onto it fails, as a full or read-only disk would.
      const crlFile = path.join(portal.dataDir, 'crl.pem');
      rmSync(crlFile);
      mkdirSync(crlFile);

      const revoked = await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, {
        reason: 'keyCompromise',
      });
      assert.equal(revoked.statusCode, 303, 'not a 500');
      const page = (await browser.get(`/certificates/${id}`)).body;
      assert.match(page, /Certificate revoked\./);
      assert.match(page, /The CRL could not be published/);
      assert.equal(
        portal.db.prepare('SELECT status FROM certificates WHERE id = ?').pluck().get(id),
        'revoked',
        'the revocation stands',
      );
      const health = (await portal.app.inject({ method: 'GET', url: '/healthz' })).json();
      // A folder stands where the broker reads crl.pem (Mosquitto would not start): failing, not
      // only degraded (a full disk, which keeps the old file, is degraded: revocation.test.ts).
      assert.equal(health.status, 'failing');
      assert.equal(health.checks.crl, 'failing');
      assert.ok(health.crlPublication?.error);
      assert.match((await browser.get('/broker')).body, /CRL publication failed/);

      rmSync(crlFile, { recursive: true });
      await until(() => existsSync(crlFile), 'the retried publication');
      await until(
        () => (portal.services.enrollment.health().status as string) === 'ok',
        '/healthz to recover after the retry',
      );
      const serials = crlSerials(portal.services.enrollment.crl().pem);
      assert.ok(serials.includes(serial.toLowerCase().replace(/^00/, '')), 'the revoked serial is in the new CRL');
    });
  });
});

describe('a replace that races a revoke', () => {
  test('the new passphrase is still shown, and the old certificate ends revoked', async () => {
    let revokeDuringMail: (() => Promise<void>) | undefined;
    const mailer: Mailer = {
      kind: 'smtp',
      async send() {
        await revokeDuringMail?.();
        return { messageId: 'x', response: '250 accepted' };
      },
      close: () => undefined,
    };
    await withPortal({ deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await browser.issue({ username: 'carol', email: 'carol@example.org', days: '30' });
      revokeDuringMail = async () => {
        revokeDuringMail = undefined;
        const outcome = await portal.services.enrollment.revoke(id, 'keyCompromise', { name: 'other-admin' });
        assert.ok(outcome.ok, 'the other admin revoked the old certificate while the new mail was sent');
      };
      const replaced = await browser.submit(`/certificates/${id}`, `/certificates/${id}/replace`, {});
      assert.equal(replaced.statusCode, 303);
      const location = String(replaced.headers.location);
      assert.match(location, /\/issued\?ticket=/);
      const result = await browser.get(location);
      assert.match(result.body, /data-testid="passphrase">[^<]{10,}</, 'the new passphrase is shown');
      assert.match(result.body, /had been revoked meanwhile/);
      assert.equal(portal.db.prepare('SELECT status FROM certificates WHERE id = ?').pluck().get(id), 'revoked');
    });
  });
});

describe('building the portal', () => {
  test('makes no CRL, admin, timer or thread until start; start does the start-up work', async () => {
    const dataDir = tempDir();
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'long enough password',
    });
    const db = openDataDir(dataDir);
    const { ca } = await testCa();
    let started = 0;
    const minter: Minter = { ...forbiddenMinter, start: () => void started++ };
    const services = createServices(config, {
      db,
      ca,
      caKeyEncrypted: false,
      minter,
      passwordCost: { log2N: 10, r: 8, p: 1 },
    });
    const app = await buildApp(config, services);
    try {
      await app.ready();
      assert.equal(existsSync(path.join(dataDir, 'crl.pem')), false, 'no CRL published by building');
      assert.equal(db.prepare('SELECT count(*) FROM admins').pluck().get(), 0, 'no admin created by building');
      assert.equal(db.prepare('SELECT count(*) FROM audit_log').pluck().get(), 0, 'nothing audited by building');
      assert.equal(started, 0, 'no minting thread started by building');
      await services.start(app.log);
      assert.equal(existsSync(path.join(dataDir, 'crl.pem')), true);
      assert.equal(db.prepare('SELECT count(*) FROM admins').pluck().get(), 1);
      assert.equal(started, 1);
    } finally {
      await app.close();
      await services.stop();
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
