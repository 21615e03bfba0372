// Revocation against the real peers: the portal's CRL read by openssl and by Mosquitto after a
// reload through BROKER_RELOAD_COMMAND (a shell), and reload commands that fail or hang.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { Browser, startTestPortal, withPortal, type TestPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { Mosquitto } from '../testing/mosquitto.js';
import { Scratch, openssl } from '../testing/openssl.js';
import { serverFiles } from '../testing/pki.js';
import { CRL_RENEW_AFTER_MS, runReloadCommand } from './crl-publisher.js';

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
  test('a revoked and an unrevoked certificate of one user against Mosquitto, reloaded through BROKER_RELOAD_COMMAND', async () => {
    const pidFile = path.join(tempDir(), 'mosquitto.pid');
    const portal = await startTestPortal({
      env: { BROKER_RELOAD_COMMAND: `kill -HUP "$(cat ${pidFile})"` },
      minter: 'threads',
    });
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
        const p12 = scratch.file(
          `${name}.p12`,
          mail.attachments.find((a) => a.filename === `alice-${name}.p12`)!.content,
        );
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
      const text = await crlText(portal);
      assert.match(text.stderr + text.stdout, /verify OK/);
      assert.match(
        text.stdout,
        new RegExp(`Serial Number: ${serialOf(portal, phone.id).toUpperCase()}[\\s\\S]*Key Compromise`),
      );
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

  test('a failing reload command is reported to the admin and audited by its exit status, not its output', async () => {
    const portal = await startTestPortal({ env: { BROKER_RELOAD_COMMAND: 'echo "no such broker" >&2; exit 3' } });
    try {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'bob', 'phone');
      await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, { reason: 'unspecified' });
      const page = await browser.get(`/certificates/${id}`);
      assert.match(page.body, /flash-error[^>]*>The broker reload command failed \(exit status 3\)/);
      assert.equal(
        portal.db.prepare("SELECT detail FROM audit_log WHERE action = 'broker-reload'").pluck().get(),
        'exit status 3',
      );
      assert.doesNotMatch(page.body + portal.logs.join('\n'), /no such broker/);
    } finally {
      await portal.close();
    }
  });

  test('the reload command gets PATH, HOME and LANG only: a secret it echoes is in no audit row, flash or log', async () => {
    const secret = `passphrase-${Date.now()}-never-shown`;
    const seen = path.join(tempDir(), 'env.txt');
    const saved = { CA_KEY_PASSPHRASE: process.env.CA_KEY_PASSPHRASE, SMTP_URL: process.env.SMTP_URL };
    // What the portal's own process holds: the reload command must not inherit it.
    process.env.CA_KEY_PASSPHRASE = secret;
    process.env.SMTP_URL = `smtp://user:${secret}@mail.example.org`;
    const portal = await startTestPortal({
      env: {
        CA_KEY_PASSPHRASE: secret,
        BROKER_RELOAD_COMMAND: `echo "$CA_KEY_PASSPHRASE $SMTP_URL"; echo "$CA_KEY_PASSPHRASE" >&2; env > ${seen}`,
      },
    });
    try {
      const browser = new Browser(portal);
      await browser.signIn();
      const { id } = await issue(browser, 'carol', 'phone');
      const revoked = await browser.submit(`/certificates/${id}`, `/certificates/${id}/revoke`, {
        reason: 'unspecified',
      });
      const page = await browser.get(String(revoked.headers.location));
      assert.match(page.body, /The broker was asked to re-read the CRL \(exit status 0\)/);
      const audit = portal.db.prepare('SELECT * FROM audit_log').all();
      assert.equal(
        portal.db.prepare("SELECT detail FROM audit_log WHERE action = 'broker-reload' ORDER BY id DESC").pluck().get(),
        'exit status 0',
      );
      for (const [where, text] of [
        ['audit_log', JSON.stringify(audit)],
        ['the page', page.body],
        ['the log', portal.logs.join('\n')],
      ] as const)
        assert.ok(!text.includes(secret), `the secret is in ${where}`);
      const names = readFileSync(seen, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=')[0]!)
        // What the shell sets itself, and NODE_V8_COVERAGE, which Node passes to every child process
        // while coverage is collected (npm run test:coverage): not the portal's doing.
        .filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD', 'NODE_V8_COVERAGE'].includes(name))
        .sort();
      assert.deepEqual(names, ['HOME', 'LANG', 'PATH']);
    } finally {
      await portal.close();
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });

  test('a reload command that hangs is killed after its limit', async () => {
    const started = Date.now();
    const outcome = await runReloadCommand('sleep 30', 300);
    assert.equal(outcome.ok, false);
    assert.match(outcome.message, /killed after 0.3 s/);
    assert.ok(Date.now() - started < 15_000, 'killed at its limit, long before sleep 30 ends');
  });
});

// Runs the reload command (a shell): an integration test.
describe('/healthz and the broker reload', () => {
  test('/healthz is not ok while renewals fail, crl.pem is gone, the broker reload fails, or the CA is in its last month', async () => {
    // The reload succeeds once this file exists: failing at first, as without the sudo rule.
    const allowed = path.join(tempDir(), 'reload-allowed');
    await withPortal({ env: { BROKER_RELOAD_COMMAND: `test -f ${allowed}` } }, async (portal) => {
      const { enrollment } = portal.services;
      const health = async () => {
        const response = await portal.app.inject({ method: 'GET', url: '/healthz' });
        return response.json<{ status: string; checks: Record<string, string>; brokerReload?: { error: string } }>();
      };
      // The start's publication ran the reload command, which failed: the broker may read an old CRL.
      let body = await health();
      assert.equal(body.checks.crl, 'degraded');
      assert.match(body.brokerReload!.error, /exit status 1/);
      const browser = new Browser(portal);
      await browser.signIn();
      assert.match((await browser.get('/broker')).body, /data-testid="reload-failure"/);
      // Run again every hour while it fails, without a row an hour in the audit log.
      const reloadRows = (outcome: string) =>
        portal.db
          .prepare("SELECT count(*) FROM audit_log WHERE action = 'broker-reload' AND outcome = ?")
          .pluck()
          .get(outcome);
      const failures = reloadRows('failure');
      for (let hour = 0; hour < 3; hour++) {
        portal.clock.advance(3600_000);
        assert.equal(await enrollment.renewCrlIfAging(), undefined, 'the CRL is still fresh');
      }
      assert.equal(reloadRows('failure'), failures);
      assert.equal((await health()).checks.crl, 'degraded', 'still failing');
      // Allowed now: the next hour's run succeeds, is audited, and the CRL is ok again.
      writeFileSync(allowed, '');
      portal.clock.advance(3600_000);
      assert.equal(await enrollment.renewCrlIfAging(), undefined);
      assert.equal(reloadRows('success'), 1);
      body = await health();
      assert.equal(body.checks.crl, 'ok');
      assert.equal(body.brokerReload, undefined);
      assert.doesNotMatch((await browser.get('/broker')).body, /data-testid="reload-failure"/);

      // crl.pem replaced by a folder: renewals fail and are retried; the file is not where Mosquitto reads it.
      const crlFile = path.join(portal.dataDir, 'crl.pem');
      rmSync(crlFile);
      mkdirSync(crlFile);
      portal.clock.advance(CRL_RENEW_AFTER_MS + 1000);
      const renewal = await enrollment.renewCrlIfAging();
      assert.equal(renewal?.ok, false, 'the renewal failed');
      body = await health();
      assert.equal(body.checks.crl, 'failing', 'no crl.pem');
      rmSync(crlFile, { recursive: true });
      writeFileSync(crlFile, 'not a CRL');
      body = await health();
      assert.equal(body.checks.crl, 'degraded', 'a renewal awaits its retry');
      assert.ok((body as { crlPublication?: unknown }).crlPublication, 'the pending publication, alone');
      assert.equal(body.brokerReload, undefined);

      // The CA's last month.
      portal.clock.current = new Date(Date.parse(portal.ca.x509.validTo) - 20 * DAY);
      assert.equal((await health()).checks.ca, 'degraded');
    });
  });
});
