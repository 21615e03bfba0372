// A bad setting stops the real start-up (server/main.ts, as its own process) with one line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { compiledFile } from './testing/compiled.js';
import { tempDir } from './testing/temp-dir.js';

describe('configuration at start-up', () => {
  test('a bad setting stops start-up with one line naming it', async () => {
    const run = promisify(execFile);
    await assert.rejects(
      // server/main.ts, compiled once (testing/compiled.ts) rather than through the tsx command's two processes
      run(process.execPath, [compiledFile('server/main.ts')], {
        env: { ...process.env, PORT: 'eighty', DATA_DIR: tempDir() },
      }),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.equal(error.stderr.trim(), 'Configuration error: PORT: must be a whole number between 1 and 65535');
        return true;
      },
    );
  });
});
