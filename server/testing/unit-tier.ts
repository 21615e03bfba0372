// The unit tier (`npm run test:unit`): every *.test.ts that is not an *.int.test.ts, in two
// processes (one per core) that each load the application once. A process per test file spent
// about 2 s of CPU on loading modules through tsx, most of the tier's time.
//
// It also holds the tier to its definition: child processes, listening or connecting sockets and
// worker threads throw, so a test that needs openssl, Mosquitto, an SMTP server, the minter's
// threads or the CLI fails at once with a message that says where it belongs. tsx's own esbuild
// service is the one process (and worker thread) allowed.
import childProcess from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import workerThreads from 'node:worker_threads';
import { projectRoot } from '../paths.js';

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

/** The unit tier's files, split into `count` shares of about equal size (a file's size: its weight). */
function unitTestShares(count: number): string[][] {
  const server = path.join(projectRoot, 'server');
  const files = (readdirSync(server, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.test.ts') && !file.endsWith('.int.test.ts'))
    .map((file) => path.join(server, file))
    .sort();
  const shares = Array.from({ length: count }, () => ({ files: [] as string[], weight: 0 }));
  for (const file of [...files].sort((a, b) => statSync(b).size - statSync(a).size)) {
    const lightest = shares.reduce((min, share) => (share.weight < min.weight ? share : min));
    lightest.files.push(file);
    lightest.weight += statSync(file).size;
  }
  return shares.map((share) => share.files.sort());
}

/** Runs share `index` (1-based) of `count` in this process, under the unit tier's rules. */
export async function runUnitShare(index: number, count: number): Promise<void> {
  enforceUnitTier();
  for (const file of unitTestShares(count)[index - 1]!) await import(pathToFileURL(file).href);
}
