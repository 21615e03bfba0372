// Backups and restore, in-process: an online backup taken during a burst of issues restores into
// a working portal; damaged or tampered archives and occupied targets are refused; the schedule.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sign } from '@fastify/cookie';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import { dataFiles, openDataDir } from '../data-dir.js';
import { openDatabase } from '../db/database.js';
import { replaceFilesTogether } from '../files.js';
import { isValidCrl } from '../pki/crl.js';
import { Browser, csrfTokenOf, startTestPortal, TEST_ADMIN, withPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { readCrl } from '../testing/pki.js';
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

/** The archive's members in a folder of their own. */
async function unpack(file: string) {
  const dir = tempDir();
  await tar.extract({ file, cwd: dir });
  return dir;
}

function rows(file: string, sql: string) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as Array<Record<string, string>>;
  } finally {
    db.close();
  }
}

describe('backup and restore', () => {
  test('a backup holds no session and no session secret: a cookie forged from its contents is refused', async () => {
    await withPortal({}, async (portal) => {
      const admins = [new Browser(portal), new Browser(portal), new Browser(portal)];
      for (const admin of admins) assert.equal((await admin.signIn()).statusCode, 303);
      const secret = portal.services.accounts.sessionSecret();
      const liveIds = portal.db.prepare('SELECT id_sha256 FROM sessions').pluck().all() as string[];
      assert.equal(liveIds.length, 3);
      const out = path.join(tempDir(), 'backup.tar.gz');
      await createBackup(portal.db, portal.dataDir, out, new Date());

      const database = path.join(await unpack(out), 'enroll.db');
      // The attack: every stored value as the signing secret, every stored session id signed with it.
      const secrets = rows(database, 'SELECT value FROM settings').map((row) => row.value!);
      const ids = rows(database, 'SELECT id_sha256 FROM sessions').map((row) => row.id_sha256!);
      let accepted = 0;
      for (const candidate of secrets)
        for (const id of ids) {
          const response = await portal.app.inject({
            method: 'GET',
            url: '/certificates',
            cookies: { enroll_session: sign(id, candidate) },
          });
          if (response.statusCode === 200) accepted++;
        }
      assert.equal(accepted, 0, `${accepted} of ${liveIds.length} forged cookies accepted`);
      assert.deepEqual(rows(database, 'SELECT * FROM sessions'), []);
      assert.deepEqual(
        rows(database, "SELECT * FROM settings WHERE key IN ('session_secret', 'known_device_secret')"),
        [],
      );
      // Deleted rows can linger in free pages: the file itself holds neither the secret nor an id.
      const bytes = readFileSync(database);
      for (const needle of [secret, ...liveIds])
        assert.equal(bytes.includes(needle), false, `${needle} is in the file`);
      // ... while the live cookies still work: nothing was taken from the running portal.
      assert.equal((await admins[0]!.get('/certificates')).statusCode, 200);
    });
  });

  test('a restore drops sessions and the session secret an older archive holds; the portal makes a new secret', async () => {
    const file = await makeBackup();
    // An archive as an earlier version wrote it: with a session and the secret that signs its cookie.
    const dir = await unpack(file);
    const old = new Database(path.join(dir, 'enroll.db'));
    old.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('session_secret', 'the-old-secret')").run();
    old
      .prepare('INSERT INTO sessions (id_sha256, data, expires_at) VALUES (\'old-session\', \'{"admin":"admin"}\', ?)')
      .run(Date.now() + 3600_000);
    old.close();
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.files[0].sha256 = createHash('sha256')
      .update(readFileSync(path.join(dir, 'enroll.db')))
      .digest('hex');
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await tar.create({ gzip: true, file, cwd: dir }, ['manifest.json', 'enroll.db', 'ca.crt', 'ca.key']);

    const target = path.join(tempDir(), 'restored');
    await restoreBackup(file, target, { force: false });
    assert.deepEqual(rows(path.join(target, 'enroll.db'), 'SELECT * FROM sessions'), []);
    assert.deepEqual(rows(path.join(target, 'enroll.db'), "SELECT * FROM settings WHERE key = 'session_secret'"), []);
    await withPortal({ dataDir: target, withAdmin: false }, async (restored) => {
      const secret = restored.services.accounts.sessionSecret();
      assert.notEqual(secret, 'the-old-secret');
      const forged = await restored.app.inject({
        method: 'GET',
        url: '/certificates',
        cookies: { enroll_session: sign('old-session', 'the-old-secret') },
      });
      assert.equal(forged.statusCode, 303, 'the old cookie leads to sign-in');
    });
  });

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
      const crl = readFileSync(path.join(target, 'crl.pem'), 'utf8');
      assert.equal(isValidCrl(crl, restored.ca), true, 'the restored portal published a CRL of the same CA');
      // alice's revocation, and any certificate of the burst that the backup caught before its mail
      // went out: the restored portal revokes those at its start, as after a crash.
      const db = path.join(target, 'enroll.db');
      assert.equal(serials(db, "status = 'revoked' AND revocation_reason = 'keyCompromise'").length, 1);
      assert.deepEqual(serials(db, "delivery = 'pending'"), []);
      assert.deepEqual(
        serials(db, "status = 'revoked' AND revocation_reason NOT IN ('keyCompromise', 'cessationOfOperation')"),
        [],
      );
      assert.deepEqual(
        readCrl(crl)
          .entries.map((entry) => entry.serial)
          .sort(),
        serials(db, "status = 'revoked'"),
        'the CRL lists every revoked certificate',
      );
    } finally {
      await restored.close();
    }
  });

  test('a pickup link open in the backup and used after it cannot be used again once restored', async () => {
    const testId = (html: string, id: string) => new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];
    const portal = await startTestPortal({ env: { PUBLIC_URL: 'http://enroll.example.org' } });
    const admin = new Browser(portal);
    await admin.signIn();
    const invite = async (username: string) => {
      const created = await admin.submit('/certificates/new', '/certificates', {
        username,
        email: `${username}@example.org`,
        device: 'phone',
        days: '30',
        delivery: 'link',
      });
      const screen = await admin.get(String(created.headers.location));
      return { path: new URL(testId(screen.body, 'pickup-link')!).pathname, code: testId(screen.body, 'pickup-code')! };
    };
    const redeem = async (browser: Browser, link: { path: string; code: string }) => {
      const page = await browser.get(link.path);
      return browser.post(link.path, { _csrf: csrfTokenOf(page.body), code: link.code });
    };
    const used = await invite('rider1');
    const unused = await invite('rider2');
    const minting = await invite('rider3');
    // rider3's link was being redeemed as the backup ran (its certificate not made yet): the next
    // start would open it again.
    portal.db
      .prepare(
        "UPDATE invitations SET state = 'redeemed' WHERE user_id = (SELECT id FROM users WHERE username = 'rider3')",
      )
      .run();
    const out = path.join(tempDir(), 'enroll.tar.gz');
    await createBackup(portal.db, portal.dataDir, out, new Date());
    assert.equal((await redeem(new Browser(portal), used)).statusCode, 303, 'redeemed after the backup');
    await portal.close();

    const target = path.join(tempDir(), 'restored');
    const restoredManifest = await restoreBackup(out, target, { force: false });
    assert.equal(restoredManifest.cancelledInvitations, 3, 'the restore says how many links it cancelled');
    assert.deepEqual(restoredManifest.admins, [TEST_ADMIN.username], 'and who can sign in');
    await withPortal({ dataDir: target, withAdmin: false }, async (restored) => {
      const phone = new Browser(restored);
      for (const link of [used, unused, minting]) {
        const page = await phone.get(link.path);
        assert.match(page.body, /This pickup link does not work/, 'no redeem button');
        // The POST a page left open before the restore would send.
        const csrf = csrfTokenOf((await phone.get('/login')).body);
        const again = await phone.post(link.path, { _csrf: csrf, code: link.code });
        assert.equal(again.statusCode, 404, 'not redeemed');
        assert.match(again.body, /This pickup link does not work/);
      }
      assert.equal(
        restored.db
          .prepare(
            "SELECT count(*) FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username LIKE 'rider%'",
          )
          .pluck()
          .get(),
        0,
        'nothing minted from the restored links',
      );
      assert.deepEqual(restored.db.prepare('SELECT state, count(*) AS n FROM invitations GROUP BY state').all(), [
        { state: 'cancelled', n: 3 },
      ]);
      const audited = restored.db
        .prepare("SELECT detail FROM audit_log WHERE action = 'invite-cancel' AND actor = 'system'")
        .pluck()
        .all() as string[];
      assert.equal(audited.length, 3);
      assert.match(audited[0]!, /restore/);
    });
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

  test('a restore into a folder where an earlier restore crashed halfway: the new one wins, also after the next start', async () => {
    const file = await makeBackup();
    const target = tempDir();
    const files = dataFiles(target);
    openDataDir(target).close();
    writeFileSync(files.caCert, 'current cert');
    writeFileSync(files.caKey, 'current key');
    // The crashed restore: its CA and an empty database staged, the current ones moved aside, its journal left.
    const stale = tempDir();
    openDataDir(stale).close();
    replaceFilesTogether(
      [
        {
          file: files.database,
          mode: 0o600,
          write: (to) => writeFileSync(to, readFileSync(path.join(stale, 'enroll.db'))),
        },
        { file: files.caCert, mode: 0o644, write: (to) => writeFileSync(to, 'stale cert') },
        { file: files.caKey, mode: 0o600, write: (to) => writeFileSync(to, 'stale key') },
      ],
      [],
      { journal: files.replaceJournal, crashAfterSteps: 2 },
    );
    await restoreBackup(file, target, { force: true });
    const restoredCert = readFileSync(files.caCert, 'utf8');
    assert.match(restoredCert, /BEGIN CERTIFICATE/);
    assert.deepEqual(
      readdirSync(target).filter((name) => name.startsWith('.') || name.endsWith('.replaced')),
      [],
      'no journal, temporary or old file left',
    );
    openDataDir(target).close(); // the next start
    assert.equal(readFileSync(files.caCert, 'utf8'), restoredCert);
    assert.deepEqual(serials(files.database).length, 1, "the archive's certificate");
  });

  test('old files left aside with no journal stop the start; restoring again with --force clears them', async () => {
    const file = await makeBackup();
    const target = tempDir();
    const files = dataFiles(target);
    // A failed swap whose undo a crash cut short: the old database and CA key aside, nothing in their place.
    writeFileSync(`${files.database}.replaced`, 'old database');
    writeFileSync(`${files.caKey}.replaced`, 'old key');
    assert.throws(() => openDataDir(target), /Run the restore again \(with --force\)/);
    await restoreBackup(file, target, { force: true });
    assert.deepEqual(
      readdirSync(target).filter((name) => name.endsWith('.replaced')),
      [],
    );
    openDataDir(target).close(); // starts
    assert.equal(serials(files.database).length, 1);
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
      assert.match(page.body, new RegExp(`href="/backups/${newest.replace(/\./g, '\\.')}"`));
    } finally {
      await portal.close();
    }
  });

  test('a clock that once ran ahead: the new backup is kept, and the schedule is not stuck until that future', async () => {
    const backupDir = path.join(tempDir(), 'backups');
    const portal = await startTestPortal({
      env: { BACKUP_DIR: backupDir, BACKUP_KEEP: '2', BACKUP_INTERVAL_HOURS: '24' },
    });
    try {
      const backups = portal.services.backups!;
      // Made while the clock said 2099: two archives, and the last run recorded then.
      portal.clock.advance(73 * 365 * DAY);
      for (let i = 0; i < 2; i++) {
        assert.equal((await backups.run('system')).outcome, 'success');
        portal.clock.advance(DAY);
      }
      portal.clock.current = new Date(); // the clock put right
      const made = await backups.runIfDue();
      assert.equal(made?.outcome, 'success', 'due: a last run in the future is no reason to wait');
      assert.ok(readdirSync(backupDir).includes(made.file!), 'the archive just written is kept');
      assert.equal(readdirSync(backupDir).length, 2);
      // The next real one pushes out the future-dated ones: only real archives are kept.
      portal.clock.advance(DAY);
      const next = await backups.runIfDue();
      assert.deepEqual(readdirSync(backupDir).sort(), [made.file!, next!.file!].sort());
    } finally {
      await portal.close();
    }
  });

  test("downloading a backup asks for the admin's password again; a wrong one is refused and audited", async () => {
    const backupDir = path.join(tempDir(), 'backups');
    await withPortal({ env: { BACKUP_DIR: backupDir } }, async (portal) => {
      const last = await portal.services.backups!.run('system');
      const name = last.file!;
      const url = `/backups/${name}`;
      const browser = new Browser(portal);
      await browser.signIn();

      const form = await browser.get(url);
      assert.equal(form.statusCode, 200);
      assert.match(String(form.headers['content-type']), /^text\/html/, 'a page, not the archive');
      assert.match(form.body, /<label for="f-password">Password<\/label>/);
      assert.match(form.body, /<button type="submit"[^>]*>Download backup<\/button>/);
      assert.match(form.body, new RegExp(`<form method="post" action="${url.replace(/\./g, '\\.')}"`));

      const wrong = await browser.submit(url, url, { password: 'not the password' });
      assert.equal(wrong.statusCode, 401);
      assert.match(String(wrong.headers['content-type']), /^text\/html/);
      assert.match(wrong.body, /The password is wrong/);
      assert.match(wrong.body, /<button type="submit"[^>]*>Download backup<\/button>/);
      const empty = await browser.submit(url, url, { password: '' });
      assert.equal(empty.statusCode, 401);

      const right = await browser.submit(url, url, { password: TEST_ADMIN.password });
      assert.equal(right.statusCode, 200);
      assert.equal(right.headers['content-type'], 'application/gzip');
      assert.equal(right.rawPayload.length, statSync(path.join(backupDir, name)).size);

      const audit = portal.db
        .prepare("SELECT actor, subject, outcome FROM audit_log WHERE action = 'password-confirm' ORDER BY id")
        .all();
      assert.deepEqual(audit, [
        { actor: 'admin', subject: `backup:${name}`, outcome: 'failure' },
        { actor: 'admin', subject: `backup:${name}`, outcome: 'failure' },
        { actor: 'admin', subject: `backup:${name}`, outcome: 'success' },
      ]);
      const withoutToken = await browser.post(url, { password: TEST_ADMIN.password });
      assert.equal(withoutToken.statusCode, 403, 'the form needs its CSRF token');
      assert.equal((await new Browser(portal).get(url)).statusCode, 303, 'admins only');
    });
  });

  test("the backup form's count of wrong passwords starts again after a session's lifetime, a password reset or a deletion", async () => {
    await withPortal({}, async (portal) => {
      const { accounts } = portal.services;
      const actor = { name: 'cli' };
      const typos = async (admin: string, count: number) => {
        const answers: string[] = [];
        for (let i = 0; i < count; i++) {
          const outcome = await accounts.confirmPassword(admin, `typo ${i}`, { subject: 'backup:x', ip: '127.0.0.1' });
          answers.push(outcome.ok ? 'ok' : outcome.reason);
        }
        return answers;
      };
      const four = ['wrong-password', 'wrong-password', 'wrong-password', 'wrong-password'];
      assert.deepEqual(await typos('admin', 4), four);
      portal.clock.advance(9 * 3600_000); // longer than any session lives
      assert.deepEqual(await typos('admin', 4), four);
      const reset = await accounts.resetPassword({ username: 'admin', password: 'a brand new passphrase 42' }, actor);
      assert.ok(reset.ok);
      assert.deepEqual(await typos('admin', 4), four);
      assert.deepEqual(await typos('admin', 1), ['sessions-ended'], 'the fifth in a row');

      assert.ok((await accounts.createAdmin({ username: 'bob', password: 'bobs own long passphrase' }, actor)).ok);
      assert.deepEqual(await typos('bob', 4), four);
      assert.ok(accounts.deleteAdmin('bob', actor).ok);
      assert.ok((await accounts.createAdmin({ username: 'bob', password: 'a new bobs passphrase' }, actor)).ok);
      assert.deepEqual(await typos('bob', 4), four, 'a new admin of that name starts with none');
    });
  });

  test('a session in the wrong hands cannot guess the password: five wrong ones end every session of that admin', async () => {
    const backupDir = path.join(tempDir(), 'backups');
    await withPortal({ env: { BACKUP_DIR: backupDir } }, async (portal) => {
      const name = (await portal.services.backups!.run('system')).file!;
      const url = `/backups/${name}`;
      const thief = new Browser(portal);
      await thief.signIn();
      const owner = new Browser(portal); // the admin's own browser elsewhere
      await owner.signIn();
      const form = await thief.get(url);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
      // Guesses sent at once are checked one at a time: only one runs, the others are turned away.
      const burst = await Promise.all(
        Array.from({ length: 3 }, (_, i) => thief.post(url, { _csrf: csrf, password: `guess ${i}` })),
      );
      assert.deepEqual(burst.map((r) => r.statusCode).sort(), [401, 429, 429]);
      for (let i = 0; i < 3; i++)
        assert.equal((await thief.post(url, { _csrf: csrf, password: `guess ${i + 3}` })).statusCode, 401);
      const fifth = await thief.post(url, { _csrf: csrf, password: 'guess 6' });
      assert.equal(fifth.statusCode, 303);
      assert.equal(fifth.headers.location, '/login');
      // Signed out, in every browser: the right password now gets nothing but the sign-in page.
      const after = await thief.post(url, { _csrf: csrf, password: TEST_ADMIN.password });
      assert.notEqual(after.headers['content-type'], 'application/gzip');
      assert.equal((await owner.get('/certificates')).statusCode, 303, "the admin's other session ended too");
      assert.equal(
        portal.db
          .prepare("SELECT count(*) FROM audit_log WHERE action = 'sessions-ended' AND subject = 'admin'")
          .pluck()
          .get(),
        1,
      );
      // Signing in again starts a fresh count: four typos in one session, four in the next, and the
      // admin is still signed in.
      for (let session = 0; session < 2; session++) {
        const typist = new Browser(portal);
        await typist.signIn();
        const again = await typist.get(url);
        const token = /name="_csrf" value="([^"]+)"/.exec(again.body)![1]!;
        for (let i = 0; i < 4; i++)
          assert.equal((await typist.post(url, { _csrf: token, password: `typo ${i}` })).statusCode, 401);
      }
      await owner.signIn();
      const page = await owner.get(url);
      const right = await owner.post(url, {
        _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!,
        password: TEST_ADMIN.password,
      });
      assert.equal(right.headers['content-type'], 'application/gzip');
    });
  });
});
