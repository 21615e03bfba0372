// DATA_DIR's modes on a folder that exists already (made by an older version, by hand, or under a
// strict umask): opening it gives the broker's files 0644 and the secrets 0600, leaves files where
// they are, and keeps the folder's setgid bit and what the admin granted others. And a restore that
// a crash interrupted: finished on opening, or the start refused.
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { dataFiles, openDataDir } from './data-dir.js';
import { replaceFilesTogether } from './files.js';
import { tempDir } from './testing/temp-dir.js';

const modeOf = (file: string) => (statSync(file).mode & 0o7777).toString(8);

test('an existing folder with the wrong modes gets those of DESIGN.md, its files unmoved', () => {
  const dir = tempDir();
  chmodSync(dir, 0o700);
  const files = dataFiles(dir);
  writeFileSync(files.caCert, 'cert', { mode: 0o600 });
  writeFileSync(files.crl, 'crl', { mode: 0o600 });
  writeFileSync(files.caKey, 'key', { mode: 0o644 });
  const inode = statSync(files.crl).ino;
  openDataDir(dir).close();
  assert.deepEqual(
    { dir: modeOf(dir), caCert: modeOf(files.caCert), crl: modeOf(files.crl), caKey: modeOf(files.caKey) },
    { dir: '750', caCert: '644', crl: '644', caKey: '600' },
  );
  assert.equal(modeOf(files.database), '600');
  assert.equal(statSync(files.crl).ino, inode, 'crl.pem is the same file: a reloading broker keeps reading it');
  assert.equal(readFileSync(files.crl, 'utf8'), 'crl');
});

test("the folder keeps its setgid bit and others' read access, but loses group and world write", () => {
  const dir = path.join(tempDir(), 'data');
  openDataDir(dir).close();
  chmodSync(dir, 0o2777);
  openDataDir(dir).close();
  assert.equal(modeOf(dir), '2755');
});

test('a restore that a crash stopped halfway is finished before the database opens or the CA is read', () => {
  // The archive's side: a migrated database with a mark, and its CA.
  const archive = tempDir();
  const restored = openDataDir(archive);
  restored.exec('CREATE TABLE restored_mark (x)');
  restored.close();
  const dir = tempDir();
  const files = dataFiles(dir);
  openDataDir(dir).close();
  writeFileSync(files.caCert, 'old cert');
  writeFileSync(files.caKey, 'old key');
  const replacements = [
    { file: files.database, mode: 0o600, write: (to: string) => copyFileSync(path.join(archive, 'enroll.db'), to) },
    { file: files.caCert, mode: 0o644, write: (to: string) => writeFileSync(to, 'new cert') },
    { file: files.caKey, mode: 0o600, write: (to: string) => writeFileSync(to, 'new key') },
  ];
  // Three renames: the database and both CA files moved aside, none of the new ones in yet. Opened as
  // it is, the folder would get an empty database, and the CA store a new CA.
  replaceFilesTogether(replacements, [`${files.database}-wal`, `${files.database}-shm`], {
    journal: files.replaceJournal,
    crashAfterSteps: 3,
  });
  assert.equal(existsSync(files.caKey), false);
  const db = openDataDir(dir);
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'restored_mark'").pluck().get(), 1);
  db.close();
  assert.equal(readFileSync(files.caCert, 'utf8'), 'new cert');
  assert.equal(readFileSync(files.caKey, 'utf8'), 'new key');
  assert.deepEqual(
    readdirSync(dir).filter((name) => name.includes('.replaced') || name.startsWith('.')),
    [],
    'nothing aside, no temporary, no journal',
  );
});

test('old files moved aside with no journal to finish from stop the start, and nothing is created', () => {
  const dir = tempDir();
  const files = dataFiles(dir);
  writeFileSync(`${files.caKey}.replaced`, 'the only CA key');
  writeFileSync(`${files.database}.replaced`, 'the only database');
  assert.throws(
    () => openDataDir(dir),
    (error: Error) =>
      error.name === 'StartupError' &&
      /interrupted restore left enroll\.db\.replaced, ca\.key\.replaced/.test(error.message),
  );
  assert.deepEqual(readdirSync(dir).sort(), ['ca.key.replaced', 'enroll.db.replaced']);
});

test("a restore's copies left by a process that died before its journal are removed; a running one's stay", () => {
  const dir = tempDir();
  const files = dataFiles(dir);
  openDataDir(dir).close();
  const dead = 2 ** 22 + 12345; // above Linux's pid_max: no such process
  const strays = [`.ca.key.${dead}.1764300000000.tmp`, `.enroll.db.${dead}.1764300000000.tmp`];
  const kept = [`.ca.key.${process.pid}.1764300000000.tmp`, `.crl.pem.${dead}.1764300000000.tmp`, 'notes.txt'];
  for (const name of [...strays, ...kept]) writeFileSync(path.join(dir, name), 'copy');
  // A running process's number, but two days old (pid 1 in a container always runs): gone too.
  const stale = `.ca.crt.1.1764100000000.tmp`;
  writeFileSync(path.join(dir, stale), 'copy');
  utimesSync(path.join(dir, stale), new Date(Date.now() - 2 * 86400_000), new Date(Date.now() - 2 * 86400_000));
  strays.push(stale);
  openDataDir(dir).close();
  const left = readdirSync(dir);
  for (const name of strays) assert.ok(!left.includes(name), `${name} removed`);
  for (const name of kept) assert.ok(left.includes(name), `${name} kept`);
  assert.ok(existsSync(files.database));
});
