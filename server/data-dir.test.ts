// DATA_DIR's modes on a folder that exists already (made by an older version, by hand, or under a
// strict umask): opening it gives the broker's files 0644 and the secrets 0600, leaves files where
// they are, and keeps the folder's setgid bit and what the admin granted others.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { dataFiles, openDataDir } from './data-dir.js';
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
