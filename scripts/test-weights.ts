// Measures what each file of a test tier costs and writes the table the tier deals its files to
// its processes by (server/testing/unit-tier.ts, server/testing/int-tier.ts). Run it after adding or
// removing a test file, or when one became much cheaper or dearer (unit-tier.test.ts fails while a
// table and the files differ):
//
//   node --import tsx scripts/test-weights.ts unit          # writes server/testing/unit-weights.ts
//   node --import tsx scripts/test-weights.ts integration   # writes server/testing/int-weights.ts
//
// Each file runs alone, as `node --import tsx --test <file>`, and its weight is what it took less
// what a file with one empty test takes (loading Node's test runner and tsx, which a share pays once):
//  - unit: CPU time (user and system, the test process and its children, from /proc/self/stat),
//    with its temporary files in /dev/shm as in the tier. CPU, not wall time: these files never
//    wait, and the machine running this is likely shared with other work;
//  - integration: wall time, under V8 coverage as in `npm test`. These files mostly wait (for
//    Mosquitto, a mail server, a child process, a timer), and a share takes as long as its files'
//    times added up. Measure on a quiet machine.
// Linux only, like the measurements it replaces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../server/paths.js';
import { intTestFiles } from '../server/testing/int-tier.js';
import { unitTestFiles } from '../server/testing/unit-tier.js';

const tier = process.argv[2];
if (tier !== 'unit' && tier !== 'integration') {
  console.error('usage: node --import tsx scripts/test-weights.ts unit|integration');
  process.exit(2);
}

/** CPU seconds that this process's waited-for children have used so far (cutime + cstime). */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: cutime and cstime are fields 16 and 17.
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture Node runs on
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

const scratch = mkdtempSync(path.join(tier === 'unit' ? '/dev/shm' : '/tmp', 'enroll-test-weights-'));

/** CPU seconds (unit) or wall seconds (integration) of one file run alone. */
function costOf(file: string): number {
  const cpuBefore = childrenCpu();
  const wallBefore = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', file], {
    cwd: projectRoot,
    env:
      tier === 'unit'
        ? { ...process.env, TMPDIR: scratch }
        : { ...process.env, NODE_V8_COVERAGE: path.join(scratch, 'coverage') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`${file} failed (status ${run.status}); fix it before measuring`);
  return tier === 'unit' ? childrenCpu() - cpuBefore : (performance.now() - wallBefore) / 1000;
}

try {
  const empty = path.join(scratch, 'empty.test.ts');
  writeFileSync(empty, "import { test } from 'node:test';\ntest('nothing', () => {});\n");
  const baseline = Math.min(costOf(empty), costOf(empty));
  const rows: string[] = [];
  for (const file of tier === 'unit' ? unitTestFiles() : intTestFiles()) {
    const weight = Math.max(0.1, costOf(path.join('server', file)) - baseline);
    rows.push(`  '${file}': ${weight.toFixed(1)},`);
    console.log(rows.at(-1));
  }
  const [name, constant] = tier === 'unit' ? ['unit-weights.ts', 'UNIT'] : ['int-weights.ts', 'INT'];
  const table = path.join(projectRoot, 'server', 'testing', name);
  const header = readFileSync(table, 'utf8').split('export const')[0];
  writeFileSync(
    table,
    `${header}export const ${constant}_TEST_WEIGHTS: Record<string, number> = {\n${rows.join('\n')}\n};\n`,
  );
  console.log(`Wrote ${path.relative(projectRoot, table)} (baseline ${baseline.toFixed(2)} s per process)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
