// The admin commands, run as a user runs them: a child process against a DATA_DIR.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DEFAULT_COST } from './accounts/password.js';
import { createBackup } from './backup/archive.js';
import { openDataDir } from './data-dir.js';
import { loadOrCreateCa } from './enroll/ca-store.js';
import { exportCaKey } from './pki/ca.js';
import { projectRoot } from './paths.js';
import { compiledFile } from './testing/compiled.js';
import { tempDir } from './testing/temp-dir.js';
import { Scratch, openssl } from './testing/openssl.js';
import { readCrl, testCa } from './testing/pki.js';
import { startTestPortal, type TestPortal } from './testing/harness.js';
import { MemoryMailer } from './testing/mailer.js';

const run = promisify(execFile);

async function admin(dataDir: string, args: string[], input?: string, env: Record<string, string> = {}) {
  // What `npm run admin` runs (server/cli.ts), compiled once per test process instead of through tsx
  // at every command (testing/compiled.ts).
  const child = run(process.execPath, [compiledFile('server/cli.ts'), ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATA_DIR: dataDir, ...env },
  });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  } else {
    child.child.stdin!.end();
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

// Each test has data folders of its own, so they run side by side.
/** A DATA_DIR with a database and the test CA, so a command does not spend seconds making an RSA 4096 CA. */
async function dataDirWithTestCa() {
  const dataDir = tempDir();
  openDataDir(dataDir).close();
  const { ca } = await testCa();
  writeFileSync(path.join(dataDir, 'ca.key'), exportCaKey(ca.key), { mode: 0o600 });
  writeFileSync(path.join(dataDir, 'ca.crt'), ca.certPem);
  return dataDir;
}

describe('admin commands', { concurrency: true }, () => {
  test('create-admin and reset-password read the password from stdin', async () => {
    const dataDir = tempDir();
    const created = await admin(dataDir, ['create-admin', 'alice'], 'a long enough password\n');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Admin alice created/);
    const db = openDataDir(dataDir);
    try {
      const stored = db.prepare("SELECT password_hash FROM admins WHERE username = 'alice'").pluck().get() as string;
      assert.deepEqual(
        stored.split('$').slice(1, 4).map(Number),
        [DEFAULT_COST.log2N, DEFAULT_COST.r, DEFAULT_COST.p],
        'the production scrypt cost',
      );
    } finally {
      db.close();
    }
    const duplicate = await admin(dataDir, ['create-admin', 'alice'], 'a long enough password\n');
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /already exists/);
    const short = await admin(dataDir, ['create-admin', 'bob'], 'short\n');
    assert.equal(short.code, 1);
    assert.equal(short.stderr.trim(), 'Use at least 12 characters');
    const reset = await admin(dataDir, ['reset-password', 'alice'], 'another long password\n');
    assert.equal(reset.code, 0, reset.stderr);
    const unknown = await admin(dataDir, ['reset-password', 'nobody'], 'another long password\n');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No admin named nobody/);
  });

  test('import-ca adopts a generate-CA.sh style CA; the portal then loads it', async () => {
    const scratch = new Scratch();
    // generate-CA.sh's profile (SHA-512, no keyUsage) with a 2048-bit key: adopting it does not depend
    // on the size, and pki/ca.int.test.ts checks such a CA at the script's 4096 bits.
    const made = await openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha512',
      '-days',
      '3650',
      '-keyout',
      scratch.path('ca.key'),
      '-out',
      scratch.path('ca.crt'),
      '-subj',
      '/CN=An MQTT broker/O=OwnTracks.org/OU=generate-CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    assert.ok(made.ok, made.stderr);
    const dataDir = tempDir();
    const imported = await admin(dataDir, [
      'import-ca',
      '--cert',
      scratch.path('ca.crt'),
      '--key',
      scratch.path('ca.key'),
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported CA "CN=An MQTT broker/);
    assert.equal(statSync(path.join(dataDir, 'ca.key')).mode & 0o777, 0o600);
    const { ca, created } = await loadOrCreateCa(dataDir, {
      commonName: 'unused',
      serverNames: { hosts: [], ips: [] },
      passphrase: undefined,
      now: new Date(),
    });
    assert.equal(created, false);
    assert.equal(ca.certPem, readFileSync(scratch.path('ca.crt'), 'utf8'));
  });

  test('import-ca refuses a key that does not match, and a non-CA, changing nothing', async () => {
    const scratch = new Scratch();
    /** A self-signed certificate and its key, `name`.crt and `name`.key, with these extensions. */
    const selfSigned = (name: string, ...extensions: string[]) =>
      openssl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '30',
        '-keyout',
        scratch.path(`${name}.key`),
        '-out',
        scratch.path(`${name}.crt`),
        '-subj',
        `/CN=${name.toUpperCase()}`,
        ...extensions.flatMap((extension) => ['-addext', extension]),
      ]);
    await selfSigned('a', 'basicConstraints=critical,CA:TRUE');
    await selfSigned('b', 'basicConstraints=critical,CA:FALSE');
    const dataDir = tempDir();
    const mismatch = await admin(dataDir, [
      'import-ca',
      '--cert',
      scratch.path('a.crt'),
      '--key',
      scratch.path('b.key'),
    ]);
    assert.equal(mismatch.code, 1);
    assert.equal(mismatch.stderr.trim(), 'CA key does not match the CA certificate');
    const notCa = await admin(dataDir, ['import-ca', '--cert', scratch.path('b.crt'), '--key', scratch.path('b.key')]);
    assert.equal(notCa.code, 1);
    assert.match(notCa.stderr, /is not a CA/);
    // A CA whose key usage leaves out CRL signing: every CRL it signs would lock every phone out
    // (OpenSSL, and so Mosquitto's crlfile, refuses such a CRL).
    await selfSigned('c', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign');
    const noCrlSign = await admin(dataDir, [
      'import-ca',
      '--cert',
      scratch.path('c.crt'),
      '--key',
      scratch.path('c.key'),
    ]);
    assert.equal(noCrlSign.code, 1);
    assert.match(noCrlSign.stderr, /key usage does not include cRLSign/);
    assert.throws(() => statSync(path.join(dataDir, 'ca.crt')), /ENOENT/);
  });

  test('backup warns about an unencrypted CA key and writes mode 0600; restore refuses a non-empty folder', async () => {
    const dataDir = await dataDirWithTestCa();
    const out = path.join(tempDir(), 'backup.tar.gz');
    const backup = await admin(dataDir, ['backup', '--out', out]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /WARNING: the archive holds the CA key UNENCRYPTED/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    // Never into DATA_DIR: the archive would take the CA certificate's place.
    const caCert = readFileSync(path.join(dataDir, 'ca.crt'), 'utf8');
    const intoDataDir = await admin(dataDir, ['backup', '--out', path.join(dataDir, 'ca.crt')]);
    assert.equal(intoDataDir.code, 1);
    assert.match(intoDataDir.stderr, /is inside DATA_DIR/);
    assert.equal(readFileSync(path.join(dataDir, 'ca.crt'), 'utf8'), caCert);
    // The same folder through a symlink, and a name that only starts with two dots.
    const link = path.join(tempDir(), 'datalink');
    symlinkSync(dataDir, link);
    for (const sneaky of [path.join(link, 'ca.crt'), path.join(dataDir, '..x.tar.gz')]) {
      const refusedToo = await admin(dataDir, ['backup', '--out', sneaky]);
      assert.equal(refusedToo.code, 1, sneaky);
      assert.match(refusedToo.stderr, /is inside DATA_DIR/);
    }
    assert.equal(readFileSync(path.join(dataDir, 'ca.crt'), 'utf8'), caCert);
    const noFolder = await admin(dataDir, ['backup', '--out', path.join(tempDir(), 'missing', 'b.tar.gz')]);
    assert.equal(noFolder.code, 1);
    assert.match(noFolder.stderr.trim(), /does not exist$/);
    const aFile = path.join(tempDir(), 'a-file');
    writeFileSync(aFile, '');
    const intoAFile = await admin(tempDir(), ['restore', out, '--data-dir', aFile, '--force']);
    assert.equal(intoAFile.code, 1);
    assert.match(intoAFile.stderr.trim(), /is a file, not a folder/);
    const refused = await admin(tempDir(), ['restore', out, '--data-dir', dataDir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not empty/);
    const target = path.join(tempDir(), 'fresh');
    const restored = await admin(tempDir(), ['restore', out, '--data-dir', target]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /Restored the backup of .* into .*fresh/);
    assert.match(restored.stdout, /No admin can sign in: create one with create-admin, or open the setup link/);
    assert.equal(readFileSync(path.join(target, 'ca.crt'), 'utf8'), readFileSync(path.join(dataDir, 'ca.crt'), 'utf8'));
  });

  test('a restore keeps what was revoked after the backup: the phones stay out, CRL numbers only go up', async () => {
    const dataDir = tempDir();
    const enrollment = (portal: TestPortal) => portal.services.enrollment;
    const issue = async (portal: TestPortal, username: string) => {
      const issued = await enrollment(portal).issue(
        {
          username,
          email: `${username}@example.org`,
          device: 'phone',
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          changeEmail: false,
        },
        { name: 'admin' },
      );
      if (!issued.ok) throw new Error(JSON.stringify(issued));
      return issued;
    };
    const archive = path.join(tempDir(), 'backup.tar.gz');
    const portal = await startTestPortal({ dataDir, deps: { mailer: new MemoryMailer() } });
    let revokedSerials: string[];
    try {
      const alice = await issue(portal, 'alice');
      const backup = await admin(dataDir, ['backup', '--out', archive]);
      assert.equal(backup.code, 0, backup.stderr);
      // After the backup: alice's phone is stolen; carol is enrolled, and her phone lost too.
      assert.ok((await enrollment(portal).revoke(alice.certificateId, 'keyCompromise', { name: 'admin' })).ok);
      const carol = await issue(portal, 'carol');
      assert.ok((await enrollment(portal).revoke(carol.certificateId, 'keyCompromise', { name: 'admin' })).ok);
      revokedSerials = [alice.serial, carol.serial];
    } finally {
      await portal.close();
    }
    const before = readCrl(readFileSync(path.join(dataDir, 'crl.pem'), 'utf8'));
    assert.deepEqual(
      before.entries.map((entry) => entry.serial),
      revokedSerials,
    );

    const restored = await admin(tempDir(), ['restore', archive, '--data-dir', dataDir, '--force']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stdout,
      new RegExp(
        `Kept from the CRL it replaced \\(CRL ${before.crlNumber}; .*1 certificate\\(s\\) revoked after the backup, and 1 revoked serial\\(s\\) the backup does not know`,
      ),
    );
    // Until the portal starts, the broker keeps reading the CRL it had.
    assert.deepEqual(readCrl(readFileSync(path.join(dataDir, 'crl.pem'), 'utf8')), before);

    const again = await startTestPortal({ dataDir, deps: { mailer: new MemoryMailer() } });
    try {
      assert.deepEqual(
        again.db
          .prepare('SELECT status, revocation_reason, revoked_by FROM certificates WHERE serial = ?')
          .get(revokedSerials[0]),
        { status: 'revoked', revocation_reason: 'keyCompromise', revoked_by: 'restore' },
      );
      assert.equal(
        again.db.prepare('SELECT count(*) FROM certificates WHERE serial = ?').pluck().get(revokedSerials[1]),
        0,
      );
      const after = readCrl(readFileSync(path.join(dataDir, 'crl.pem'), 'utf8'));
      assert.deepEqual(after.entries.map((entry) => entry.serial).sort(), [...revokedSerials].sort());
      assert.ok(after.crlNumber > before.crlNumber, `CRL ${after.crlNumber} after ${before.crlNumber}`);
    } finally {
      await again.close();
    }
  });

  test("restore refuses a newer version's backup before it replaces anything", async () => {
    const newer = await dataDirWithTestCa();
    const db = openDataDir(newer);
    db.prepare(
      "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (999, 'from_the_future', 'x', 'now')",
    ).run();
    const out = path.join(tempDir(), 'newer.tar.gz');
    await createBackup(db, newer, out, new Date()); // as that newer version's own backup made it
    db.close();
    const working = await dataDirWithTestCa();
    const before = readFileSync(path.join(working, 'enroll.db'));
    const refused = await admin(tempDir(), ['restore', out, '--data-dir', working, '--force']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /This backup comes from a newer version of the portal.*migration 999 \(from_the_future\)/,
    );
    assert.deepEqual(readFileSync(path.join(working, 'enroll.db')), before, 'the working folder is untouched');
    // A folder without a database: said plainly, and nothing made in it.
    const empty = tempDir();
    const nothing = await admin(empty, ['backup', '--out', path.join(tempDir(), 'nothing.tar.gz')]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /holds no portal database \(enroll\.db\): nothing to back up/);
    assert.deepEqual(readdirSync(empty), []);
    // Nor does backup read such a folder (it would not start either).
    const backup = await admin(newer, ['backup', '--out', path.join(tempDir(), 'again.tar.gz')]);
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /migration 999 \(from_the_future\) that this version does not know/);
  });

  test('server-cert writes a key (0600) and a certificate for the broker, and records it', async () => {
    const dataDir = tempDir(); // no CA yet: the command makes one, constrained to CA_SERVER_NAMES
    const out = path.join(tempDir(), 'broker');
    // The CA is made by this first command, name-constrained to these names (and loopback).
    const result = await admin(
      dataDir,
      ['server-cert', '--host', 'mqtt.example.org', '--ip', '192.0.2.10', '--out', out],
      undefined,
      { CA_SERVER_NAMES: 'mqtt.example.org,192.0.2.10' },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(statSync(path.join(out, 'server.key')).mode & 0o777, 0o600);
    assert.ok(
      result.stdout.includes(`sudo chgrp mosquitto ${path.join(out, 'server.key')} && sudo chmod 0640`),
      'says how Mosquitto gets to read the key',
    );
    const verified = await openssl([
      'verify',
      '-CAfile',
      path.join(out, 'ca.crt'),
      '-purpose',
      'sslserver',
      path.join(out, 'server.crt'),
    ]);
    assert.ok(verified.ok, verified.stderr);
    const db = openDataDir(dataDir);
    try {
      assert.equal(db.prepare('SELECT names FROM server_certificates').pluck().get(), 'mqtt.example.org, 192.0.2.10');
    } finally {
      db.close();
    }
    // An --out that cannot take the key: refused before anything is signed or recorded.
    const blocker = path.join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    const unwritable = await admin(dataDir, [
      'server-cert',
      '--host',
      'mqtt.example.org',
      '--out',
      path.join(blocker, 'sub'),
    ]);
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr.trim(), /^--out .*: no folder the key can be written to \(ENOTDIR\)$/);
    const rows = openDataDir(dataDir);
    try {
      assert.equal(rows.prepare('SELECT count(*) FROM server_certificates').pluck().get(), 1, 'nothing signed');
    } finally {
      rows.close();
    }
    const days = await admin(dataDir, ['server-cert', '--host', 'mqtt.example.org', '--days', 'abc', '--out', out]);
    assert.equal(days.code, 1);
    assert.doesNotMatch(days.stderr, /NaN|Invalid input/);
    const bad = await admin(dataDir, ['server-cert', '--ip', '300.1.1.1', '--out', out]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Not an IP address: 300.1.1.1/);
    const outside = await admin(dataDir, ['server-cert', '--host', 'evil.example', '--out', out]);
    assert.equal(outside.code, 1);
    assert.match(
      outside.stderr,
      /evil\.example is outside what this CA may sign for \(localhost, mqtt\.example\.org, 127\.0\.0\.1, ::1, 192\.0\.2\.10\)/,
    );
  });

  test('disable-admin, enable-admin, delete-admin and end-sessions: one line each, the last admin kept', async () => {
    const dataDir = tempDir();
    const db = openDataDir(dataDir);
    const at = new Date().toISOString();
    for (const name of ['alice', 'bob'])
      db.prepare('INSERT INTO admins (username, password_hash, created_at) VALUES (?, ?, ?)').run(name, 'x', at);
    const session = db.prepare('INSERT INTO sessions (id_sha256, admin, data, expires_at) VALUES (?, ?, ?, ?)');
    const sessionsOf = (name: string) =>
      db.prepare('SELECT count(*) FROM sessions WHERE admin = ?').pluck().get(name) as number;
    ['a1', 'a2'].forEach((id) => session.run(id, 'alice', '{}', Date.now() + 60_000));
    session.run('b1', 'bob', '{}', Date.now() + 60_000);
    try {
      const expect = async (args: string[], code: number, line: string) => {
        const result = await admin(dataDir, args);
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
        assert.equal((code === 0 ? result.stdout : result.stderr).trim(), line);
      };
      await expect(['disable-admin', 'Alice'], 0, 'Admin alice disabled; 2 session(s) ended.');
      assert.equal(sessionsOf('alice'), 0);
      assert.ok(db.prepare("SELECT disabled_at FROM admins WHERE username = 'alice'").pluck().get());
      const last = 'bob is the last enabled admin; refusing to disable it (create or enable another admin first)';
      await expect(['disable-admin', 'bob'], 1, last);
      await expect(['delete-admin', 'bob'], 1, last.replace('disable', 'delete'));
      await expect(['enable-admin', 'alice'], 0, 'Admin alice enabled.');
      await expect(['end-sessions', 'bob'], 0, '1 session(s) ended for bob.');
      session.run('a3', 'alice', '{}', Date.now() + 60_000);
      await expect(['end-sessions'], 0, '1 session(s) ended.');
      await expect(['delete-admin', 'alice'], 0, 'Admin alice deleted; 0 session(s) ended.');
      await expect(['disable-admin', 'nobody'], 1, 'No admin named nobody');
      const audited = db
        .prepare("SELECT action || ' ' || coalesce(subject, '-') FROM audit_log WHERE actor = 'cli' ORDER BY id")
        .pluck()
        .all();
      assert.deepEqual(audited, [
        'admin-disabled alice',
        'admin-enabled alice',
        'sessions-ended bob',
        'sessions-ended -',
        'admin-deleted alice',
      ]);
    } finally {
      db.close();
    }
  });

  test('prune-audit removes rows older than AUDIT_RETENTION_DAYS and audits it; unset, it refuses', async () => {
    const dataDir = tempDir();
    const db = openDataDir(dataDir);
    const insert = db.prepare("INSERT INTO audit_log (at, actor, action, outcome) VALUES (?, 'old', 'x', 'success')");
    for (const daysAgo of [40, 40, 40, 10]) insert.run(new Date(Date.now() - daysAgo * 86400_000).toISOString());
    try {
      const unset = await admin(dataDir, ['prune-audit']);
      assert.equal(unset.code, 1);
      assert.equal(
        unset.stderr.trim(),
        'AUDIT_RETENTION_DAYS is not set: the audit log is kept for ever, nothing to prune',
      );
      const pruned = await admin(dataDir, ['prune-audit'], undefined, { AUDIT_RETENTION_DAYS: '30' });
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.match(pruned.stdout, /^Removed 3 audit row\(s\) older than \d{4}-\d\d-\d\dT/);
      assert.deepEqual(db.prepare('SELECT actor, action FROM audit_log ORDER BY id').all(), [
        { actor: 'old', action: 'x' },
        { actor: 'cli', action: 'audit-pruned' },
      ]);
    } finally {
      db.close();
    }
  });
});
