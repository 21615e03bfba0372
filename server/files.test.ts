import assert from 'node:assert/strict';
import fs, { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { finishInterruptedReplace, replaceFilesTogether, writeFileAtomic, writeFileAtomicWith } from './files.js';
import { tempDir } from './testing/temp-dir.js';

describe('atomic file writes', () => {
  test('replace the content with the given mode and leave no temporary file', async () => {
    const dir = tempDir('enroll-files-');
    const file = path.join(dir, 'crl.pem');
    writeFileSync(file, 'old', { mode: 0o644 });
    writeFileAtomic(file, 'new', 0o600);
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await writeFileAtomicWith(path.join(dir, 'archive'), 0o600, async (temporary) =>
      writeFileSync(temporary, 'streamed'),
    );
    assert.equal(readFileSync(path.join(dir, 'archive'), 'utf8'), 'streamed');
    assert.equal(statSync(path.join(dir, 'archive')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['archive', 'crl.pem']);
  });

  test('a writer that fails leaves the old content and no temporary file', async () => {
    const dir = tempDir('enroll-files-');
    const file = path.join(dir, 'backup.tar.gz');
    writeFileSync(file, 'previous');
    await assert.rejects(
      writeFileAtomicWith(file, 0o600, async (temporary) => {
        writeFileSync(temporary, 'half an arch');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.equal(readFileSync(file, 'utf8'), 'previous');
    assert.deepEqual(readdirSync(dir), ['backup.tar.gz']);
  });
});

describe('several files replaced together (a restore)', () => {
  /** A folder with enroll.db, its -wal, ca.crt and ca.key, each holding "old <name>". */
  function folder() {
    const dir = tempDir('enroll-files-');
    for (const name of ['enroll.db', 'enroll.db-wal', 'ca.crt', 'ca.key'])
      writeFileSync(path.join(dir, name), `old ${name}`);
    const replacements = ['enroll.db', 'ca.crt', 'ca.key'].map((name) => ({
      file: path.join(dir, name),
      mode: name === 'ca.crt' ? 0o644 : 0o600,
      write: (temporary: string) => writeFileSync(temporary, `new ${name}`),
    }));
    const contents = () =>
      Object.fromEntries(
        readdirSync(dir)
          .sort()
          .map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]),
      );
    return { dir, replacements, contents };
  }
  const before = {
    'ca.crt': 'old ca.crt',
    'ca.key': 'old ca.key',
    'enroll.db': 'old enroll.db',
    'enroll.db-wal': 'old enroll.db-wal',
  };

  test('all replaced, the removed gone, modes set, nothing left beside them', () => {
    const { dir, replacements, contents } = folder();
    replaceFilesTogether(replacements, [path.join(dir, 'enroll.db-wal'), path.join(dir, 'crl.pem')]);
    assert.deepEqual(contents(), { 'ca.crt': 'new ca.crt', 'ca.key': 'new ca.key', 'enroll.db': 'new enroll.db' });
    assert.equal(statSync(path.join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dir, 'ca.crt')).mode & 0o777, 0o644);
  });

  test('a write that fails (a full disk) replaces nothing and leaves no temporary file', () => {
    const { dir, replacements, contents } = folder();
    replacements[2]!.write = () => {
      throw new Error('ENOSPC: no space left on device');
    };
    assert.throws(() => replaceFilesTogether(replacements, [path.join(dir, 'enroll.db-wal')]), /ENOSPC/);
    assert.deepEqual(contents(), before);
  });

  test('a rename that fails in the middle of the swap puts every old file back', (t) => {
    const { dir, replacements, contents } = folder();
    const rename = fs.renameSync;
    let calls = 0;
    // The sixth rename is the second file moved into place (four moved aside, then enroll.db in).
    t.mock.method(fs, 'renameSync', (from: fs.PathLike, to: fs.PathLike) => {
      if (++calls === 6) throw new Error('EIO: i/o error, rename');
      rename(from, to);
    });
    assert.throws(() => replaceFilesTogether(replacements, [path.join(dir, 'enroll.db-wal')]), /EIO/);
    assert.deepEqual(contents(), before, 'the old database, its log and the old CA, nothing new, nothing aside');
  });

  // Four files moved aside (enroll.db, ca.crt, ca.key, the -wal), three moved in: seven renames.
  const RENAMES = 7;
  const after = { 'ca.crt': 'new ca.crt', 'ca.key': 'new ca.key', 'enroll.db': 'new enroll.db' };

  test('a crash after any rename of the swap is finished from the journal, never left half done', () => {
    for (let steps = 0; steps <= RENAMES; steps++) {
      const { dir, replacements, contents } = folder();
      const journal = path.join(dir, '.restore-in-progress.json');
      const remove = [path.join(dir, 'enroll.db-wal'), path.join(dir, 'crl.pem')];
      replaceFilesTogether(replacements, remove, { journal, crashAfterSteps: steps });
      const crashed = contents();
      assert.ok('.restore-in-progress.json' in crashed, `after ${steps} renames: the journal is there`);
      assert.equal(finishInterruptedReplace(journal), true);
      assert.deepEqual(contents(), after, `after ${steps} renames: finished`);
      assert.equal(finishInterruptedReplace(journal), false, 'nothing left to finish');
    }
  });

  test('a swap that completes, or fails and is undone, leaves no journal behind', (t) => {
    const done = folder();
    const journal = path.join(done.dir, '.restore-in-progress.json');
    replaceFilesTogether(done.replacements, [path.join(done.dir, 'enroll.db-wal')], { journal });
    assert.deepEqual(done.contents(), after);

    const failed = folder();
    const failedJournal = path.join(failed.dir, '.restore-in-progress.json');
    const rename = fs.renameSync;
    let calls = 0;
    t.mock.method(fs, 'renameSync', (from: fs.PathLike, to: fs.PathLike) => {
      if (++calls === 6) throw new Error('EIO: i/o error, rename');
      rename(from, to);
    });
    assert.throws(
      () =>
        replaceFilesTogether(failed.replacements, [path.join(failed.dir, 'enroll.db-wal')], { journal: failedJournal }),
      /EIO/,
    );
    assert.deepEqual(failed.contents(), before, 'the old files back, and no journal to "finish" them from');
  });

  test('a journal that names files outside its folder is refused, and a swap outside it is not journaled', () => {
    const { dir, replacements } = folder();
    const journal = path.join(dir, '.restore-in-progress.json');
    writeFileSync(journal, JSON.stringify({ moves: [{ file: '../ca.key', temporary: 'x' }], remove: [] }));
    assert.throws(() => finishInterruptedReplace(journal), /not a journal/);
    assert.throws(
      () => replaceFilesTogether(replacements, [], { journal: path.join(tempDir('enroll-files-'), 'journal') }),
      /is not beside/,
    );
  });
});
