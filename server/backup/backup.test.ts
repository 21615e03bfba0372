// Backups, restore and crash safety: losing or killing the portal must never lose a certificate.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tar from 'tar';
import { openDatabase } from '../db/database.js';
import { isValidCrl } from '../pki/crl.js';
import { projectRoot } from '../paths.js';
import { Browser, startTestPortal, tempDir } from '../testing/harness.js';
import { signedInClient, waitUntilHealthy } from '../testing/http-client.js';
import { freePort } from '../testing/mosquitto.js';
import { Scratch, openssl } from '../testing/openssl.js';
import { seedCertificates } from '../testing/seed.js';
import { TestSmtpServer } from '../testing/smtp.js';
import { BackupError, createBackup, restoreBackup } from './archive.js';

const DAY = 86400_000;
const serials = (file: string, where = '1') => {
  const db = openDatabase(file);
  try {
    return db.prepare(`SELECT serial FROM certificates WHERE ${where} ORDER BY serial`).pluck().all() as string[];
  } finally {
    db.close();
  }
};

async function makeBackup() {
  const portal = await startTestPortal();
  const browser = new Browser(portal);
  await browser.signIn();
  await browser.issue({ username: 'jjolie', email: 'j@example.org', device: 'phone', days: '30' });
  const out = path.join(tempDir(), 'backup.tar.gz');
  await createBackup(portal.db, portal.dataDir, out, new Date());
  await portal.close();
  return out;
}

describe('backup and restore', () => {
  test('a backup taken while issues run restores into a portal with the same CA, certificates, admins and CRL', async () => {
    const portal = await startTestPortal();
    const browser = new Browser(portal);
    await browser.signIn();
    const first = await browser.issue({ username: 'alice', email: 'alice@example.org', device: 'phone', days: '30' });
    await browser.submit(`/certificates/${first.id}`, `/certificates/${first.id}/revoke`, { reason: 'keyCompromise' });
    const out = path.join(tempDir(), 'enroll.tar.gz');
    const burst = Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        browser.issue({ username: `user${i}`, email: `u${i}@example.org`, days: '30' }),
      ),
    );
    const result = await createBackup(portal.db, portal.dataDir, out, new Date());
    await burst;
    const original = portal.db.prepare('SELECT serial FROM certificates').pluck().all() as string[];
    await portal.close();

    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.ok(result.manifest.counts.certificates >= 1);
    const target = path.join(tempDir(), 'restored');
    await restoreBackup(out, target, { force: false });
    const restored = await startTestPortal({ dataDir: target, withAdmin: false });
    try {
      assert.equal(readFileSync(path.join(target, 'ca.crt'), 'utf8'), restored.ca.certPem);
      assert.equal(restored.ca.certPem, portal.ca.certPem, 'same CA');
      const listed = serials(path.join(target, 'enroll.db'));
      assert.equal(listed.length, result.manifest.counts.certificates);
      for (const serial of listed) assert.ok(original.includes(serial), serial);
      const integrity = restored.db.pragma('integrity_check', { simple: true });
      assert.equal(integrity, 'ok');
      assert.equal((await new Browser(restored).signIn()).statusCode, 303, 'the admin from the backup signs in');
      const crl = await openssl([
        'crl',
        '-in',
        path.join(target, 'crl.pem'),
        '-CAfile',
        new Scratch().file('ca.crt', restored.ca.certPem),
        '-noout',
        '-text',
      ]);
      assert.match(crl.stderr + crl.stdout, /verify OK/);
      const revoked = serials(path.join(target, 'enroll.db'), "status = 'revoked'");
      assert.deepEqual(revoked.length, 1);
      assert.match(crl.stdout, new RegExp(`Serial Number: ${revoked[0]!.toUpperCase()}`));
    } finally {
      await restored.close();
    }
  });

  const damaged: Array<[string, (file: string) => void, RegExp]> = [
    [
      'a corrupted archive',
      (file) => {
        const bytes = readFileSync(file);
        for (let i = 200; i < 260; i++) bytes[i] = bytes[i]! ^ 0xff;
        writeFileSync(file, bytes);
      },
      /damaged/,
    ],
    [
      'a truncated archive',
      (file) => writeFileSync(file, readFileSync(file).subarray(0, Math.floor(statSync(file).size / 2))),
      /damaged|not a backup/,
    ],
    ['not an archive at all', (file) => writeFileSync(file, 'hello'), /damaged|not a backup/],
  ];
  for (const [name, damage, message] of damaged) {
    test(`${name} is refused and changes nothing`, async () => {
      const file = await makeBackup();
      damage(file);
      const target = path.join(tempDir(), 'target');
      await assert.rejects(
        restoreBackup(file, target, { force: false }),
        (error: Error) => error instanceof BackupError && message.test(error.message),
      );
      assert.equal(existsSync(target), false);
    });
  }

  test('a manifest whose hash does not match is refused', async () => {
    const file = await makeBackup();
    const dir = tempDir();
    await tar.extract({ file, cwd: dir });
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.files[0].sha256 = '0'.repeat(64);
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await tar.create({ gzip: true, file, cwd: dir }, ['manifest.json', 'enroll.db', 'ca.crt', 'ca.key']);
    await assert.rejects(
      restoreBackup(file, path.join(tempDir(), 'target'), { force: false }),
      /enroll.db does not match the SHA-256 in the manifest/,
    );
  });

  test('a non-empty target is refused unless --force, and left as it was', async () => {
    const file = await makeBackup();
    const target = tempDir();
    writeFileSync(path.join(target, 'something'), 'mine');
    await assert.rejects(restoreBackup(file, target, { force: false }), /is not empty/);
    assert.deepEqual(readdirSync(target), ['something']);
    await restoreBackup(file, target, { force: true });
    assert.ok(existsSync(path.join(target, 'enroll.db')));
    assert.equal(statSync(path.join(target, 'ca.key')).mode & 0o777, 0o600);
  });

  test('scheduled backups: written on schedule, the newest kept, audited, shown on the page', async () => {
    const backupDir = path.join(tempDir(), 'backups');
    const portal = await startTestPortal({
      env: { BACKUP_DIR: backupDir, BACKUP_KEEP: '2', BACKUP_INTERVAL_HOURS: '24' },
    });
    try {
      const backups = portal.services.backups!;
      assert.equal((await backups.runIfDue())?.outcome, 'success');
      assert.equal(await backups.runIfDue(), undefined, 'not due again within the interval');
      for (let i = 0; i < 2; i++) {
        portal.clock.advance(DAY);
        assert.equal((await backups.runIfDue())?.outcome, 'success');
      }
      const files = readdirSync(backupDir);
      assert.equal(files.length, 2, 'the newest two kept');
      for (const file of files) assert.equal(statSync(path.join(backupDir, file)).mode & 0o777, 0o600);
      assert.equal(
        portal.db
          .prepare("SELECT count(*) FROM audit_log WHERE action = 'backup' AND outcome = 'success'")
          .pluck()
          .get(),
        3,
      );
      const browser = new Browser(portal);
      await browser.signIn();
      const page = await browser.get('/backups');
      assert.match(page.body, /every 24 hours, the newest 2 kept/);
      const newest = files.sort().at(-1)!;
      assert.match(page.body, new RegExp(newest.replace(/\./g, '\\.')));
      const download = await browser.get(`/backups/${newest}`);
      assert.equal(download.statusCode, 200);
      assert.equal(download.rawPayload.length, statSync(path.join(backupDir, newest)).size);
      assert.equal((await new Browser(portal).get(`/backups/${newest}`)).statusCode, 303, 'admins only');
    } finally {
      await portal.close();
    }
  });
});

describe('crash safety', () => {
  test('SIGKILL in the middle of a burst of issues: the database is intact, nothing pending stays active, every mailed certificate is listed', async () => {
    const smtp = await TestSmtpServer.start();
    const dataDir = tempDir();
    const port = await freePort();
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      SMTP_URL: smtp.url,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'correct horse battery',
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'server/main.ts')], {
      env,
      stdio: 'ignore',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitUntilHealthy(base);
      const admin = await signedInClient(base, { username: 'admin', password: 'correct horse battery' });
      const burst = Array.from({ length: 12 }, (_, i) => admin.issue(`crash${i}`).catch(() => undefined));
      await new Promise((resolve) => setTimeout(resolve, 400));
      child.kill('SIGKILL');
      await Promise.all(burst);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const mailed = smtp.messages.map((m) => m.to[0]!.split('@')[0]!);
    await smtp.close();

    const restarted = await startTestPortal({ dataDir, withAdmin: false });
    try {
      assert.equal(restarted.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(
        restarted.db
          .prepare("SELECT count(*) FROM certificates WHERE status = 'active' AND delivery = 'pending'")
          .pluck()
          .get(),
        0,
      );
      const listed = restarted.db
        .prepare('SELECT u.username FROM certificates c JOIN users u ON u.id = c.user_id')
        .pluck()
        .all() as string[];
      for (const username of mailed) assert.ok(listed.includes(username), `${username} got mail and is listed`);
      assert.equal(isValidCrl(readFileSync(path.join(dataDir, 'crl.pem'), 'utf8'), restarted.ca), true);
    } finally {
      await restarted.close();
    }
  });

  test('killed while publishing the CRL, crl.pem is always the old or the new complete CRL', async () => {
    const dataDir = tempDir();
    const seeded = await startTestPortal({ dataDir });
    seedCertificates(seeded.db, { count: 30_000, now: new Date(), revoked: 1 });
    const { ca } = seeded;
    await seeded.close(); // the folder stays: it was passed in
    for (let round = 0; round < 6; round++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(projectRoot, 'server/testing/crl-publish-loop.ts')],
        { env: { ...process.env, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      assert.equal(isValidCrl(readFileSync(path.join(dataDir, 'crl.pem'), 'utf8'), ca), true, `round ${round}`);
    }
  });
});

describe('time limits on the outside world', () => {
  test('a mail server that accepts and never answers: the admin gets an error within the limit, nothing undelivered stays active', async () => {
    const silent = createServer(() => {
      /* accept, then say nothing */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const portal = await startTestPortal({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } });
    try {
      const browser = new Browser(portal);
      await browser.signIn();
      const started = Date.now();
      const response = await browser.submit('/certificates/new', '/certificates', {
        username: 'patient',
        email: 'p@example.org',
        days: '30',
      });
      const elapsed = Date.now() - started;
      assert.equal(response.statusCode, 502);
      assert.ok(elapsed < 16_000, `answered after ${elapsed} ms`);
      assert.match(response.body, /The mail server said/);
      assert.equal(portal.db.prepare("SELECT count(*) FROM certificates WHERE status = 'active'").pluck().get(), 0);
    } finally {
      await portal.close();
      silent.close();
    }
  });
});
