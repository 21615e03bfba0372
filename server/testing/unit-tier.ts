// The unit tier (`npm run test:unit`): every *.test.ts that is not an *.int.test.ts, in two
// processes (one per core) that each load the application once. A process per test file spent
// about 2 s of CPU on loading modules through tsx, most of the tier's time.
//
// It also holds the tier to its definition: child processes, listening or connecting sockets and
// worker threads throw, so a test that needs openssl, Mosquitto, an SMTP server, the minter's
// threads or the CLI fails at once with a message that says where it belongs. tsx's own esbuild
// service is the one process (and worker thread) allowed.
//
// The files are dealt to the shares by their measured cost (unit-weights.ts), not by their size:
// a short file that starts many portals cost more than a long one of pure functions, and the
// tier took as long as its heavier share. Each share keeps its temporary files (every portal's
// DATA_DIR) in memory where the machine has room for them (see tempRoot below).
import childProcess from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import workerThreads from 'node:worker_threads';
import { dealShares, serverDir, testFiles, type Share } from './shares.js';
import { UNIT_TEST_WEIGHTS } from './unit-weights.js';

const refuse = (what: string) => {
  throw new Error(`${what} in the unit tier: move this test to a *.int.test.ts file`);
};

function enforceUnitTier() {
  const processes = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    const original = processes[name]!;
    processes[name] = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string' && /esbuild/.test(args[0])) return original.apply(this, args);
      return refuse(`${name}(${String(args[0])})`);
    };
  }
  net.Server.prototype.listen = function () {
    return refuse('A listening socket');
  };
  net.Socket.prototype.connect = function () {
    return refuse('A network connection');
  };
  // esbuild's transformSync (tsx compiling a file that is first required at test time, with a cold
  // cache) runs on a worker thread of its own: the one worker allowed, like its process above.
  const OriginalWorker = workerThreads.Worker;
  function GuardedWorker(...args: ConstructorParameters<typeof OriginalWorker>) {
    if (/[\\/]esbuild[\\/]/.test(new Error().stack ?? '')) return new OriginalWorker(...args);
    return refuse('A worker thread');
  }
  (workerThreads as { Worker: unknown }).Worker = GuardedWorker;
  syncBuiltinESMExports();
}

/** The unit tier's files, relative to server/ with forward slashes, as unit-weights.ts names them. */
export function unitTestFiles(): string[] {
  return testFiles((file) => file.endsWith('.test.ts') && !file.endsWith('.int.test.ts'));
}

/** The unit tier's files in `count` shares of about equal CPU cost (unit-weights.ts). */
export function unitTestShares(count: number): Share[] {
  return dealShares(unitTestFiles(), UNIT_TEST_WEIGHTS, count);
}

/** Room /dev/shm must have free for a share's portals, backups and scratch files (a share peaked at 18 MB). */
const TMPFS_FREE_BYTES = 512 * 1024 * 1024;

/**
 * Where the share's temporary files go: a folder of its own in /dev/shm when it is there, writable
 * and roomy, removed when the process exits; the system's temporary folder otherwise. Every
 * committed change in the portal ends in an fsync (SQLite with synchronous = FULL, atomic file
 * writes), and on the disk of a shared virtual machine those waits were a third of a share's time
 * (a portal's database and migrations alone: 110-150 ms on disk, 16-45 ms in memory). What the unit
 * tests check does not depend on durability; the integration tier still runs on the disk.
 */
function tempRoot(): string | undefined {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (bavail * bsize < TMPFS_FREE_BYTES) return undefined;
    const root = mkdtempSync(path.join('/dev/shm', 'enroll-unit-'));
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
    return root;
  } catch {
    return undefined; // no /dev/shm (not Linux), or not writable
  }
}

/** Runs share `index` (1-based) of `count` in this process, under the unit tier's rules. */
export async function runUnitShare(index: number, count: number): Promise<void> {
  enforceUnitTier();
  const root = tempRoot();
  if (root) process.env.TMPDIR = root; // os.tmpdir() reads it on every call
  for (const file of unitTestShares(count)[index - 1]!.files)
    await import(pathToFileURL(path.join(serverDir, file)).href);
}
