import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeFileAtomic, writeFileAtomicWith } from './files.js';
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
