// The test harness's temporary folders go when the process that made them exits.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('the folders tempDir made are gone after the process exits, their files included', async () => {
  const module = new URL('./temp-dir.ts', import.meta.url).href;
  const script = `
    import { writeFileSync } from 'node:fs';
    const { tempDir } = await import(${JSON.stringify(module)});
    const dirs = [tempDir(), tempDir('enroll-other-')];
    writeFileSync(dirs[0] + '/ca.key', 'a test key');
    console.log(JSON.stringify(dirs));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  const dirs = JSON.parse(stdout) as string[];
  assert.equal(dirs.length, 2);
  for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} was removed`);
});
