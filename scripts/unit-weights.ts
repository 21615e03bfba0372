// Measures what each file of the unit tier costs and writes server/testing/unit-weights.ts, the
// table the tier deals its files to its two shares by (server/testing/unit-tier.ts). Run it after
// adding a unit test file, or when one became much cheaper or dearer (unit-tier.test.ts fails
// while the table and the files differ):
//
//   node --import tsx scripts/unit-weights.ts
//
// Each file runs alone, as `node --import tsx --test <file>` with its temporary files in /dev/shm as
// in the tier, and its cost is the CPU time (user and system, the test process and its children,
// from /proc/self/stat) less that of a file with one empty test: loading Node's test runner and tsx,
// which a share pays once. CPU time, not wall time, because the machine running this is likely
// shared with other work. Linux only, like the measurements it replaces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../server/paths.js';
import { unitTestFiles } from '../server/testing/unit-tier.js';

/** CPU seconds that this process's waited-for children have used so far (cutime + cstime). */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: cutime and cstime are fields 16 and 17.
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture Node runs on
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

const scratch = mkdtempSync(path.join('/dev/shm', 'enroll-unit-weights-'));

function cpuOf(file: string): number {
  const before = childrenCpu();
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', file], {
    cwd: projectRoot,
    env: { ...process.env, TMPDIR: scratch },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`${file} failed (status ${run.status}); fix it before measuring`);
  return childrenCpu() - before;
}

try {
  const empty = path.join(scratch, 'empty.test.ts');
  writeFileSync(empty, "import { test } from 'node:test';\ntest('nothing', () => {});\n");
  const baseline = Math.min(cpuOf(empty), cpuOf(empty));
  const rows: string[] = [];
  for (const file of unitTestFiles()) {
    const weight = Math.max(0.1, cpuOf(path.join('server', file)) - baseline);
    rows.push(`  '${file}': ${weight.toFixed(1)},`);
    console.log(rows.at(-1));
  }
  const table = path.join(projectRoot, 'server', 'testing', 'unit-weights.ts');
  const header = readFileSync(table, 'utf8').split('export const')[0];
  writeFileSync(table, `${header}export const UNIT_TEST_WEIGHTS: Record<string, number> = {\n${rows.join('\n')}\n};\n`);
  console.log(`Wrote ${path.relative(projectRoot, table)} (baseline ${baseline.toFixed(2)} s per process)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
