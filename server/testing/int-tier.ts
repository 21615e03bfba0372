// The integration tier (`npm run test:integration`): every *.int.test.ts, in three processes that
// each run their files one after another. A process per file (30 of them) paid each time for
// loading the application through tsx and, in `npm test`, for V8's coverage bookkeeping and the
// coverage file written at exit: 180 CPU-seconds for the tier under coverage, 141 in three processes.
//
// Each file runs as a suite named after it, so that its top-level hooks (before, after) wrap its
// own tests only and a failure names its file. What files of one process share: the compiled
// portal (compiled.ts) and the test CA (pki.ts), made once; the files leave the process's
// environment, umask and signal handlers as they found them, and use ports and folders of their own.
//
// Unlike the unit tier's, these files mostly wait (for Mosquitto, a mail server, a child process or
// a timer), so they are dealt to the processes by their measured wall time (int-weights.ts).
import { describe } from 'node:test';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { INT_TEST_WEIGHTS } from './int-weights.js';
import { dealShares, serverDir, testFiles, type Share } from './shares.js';

/** The integration tier's files, relative to server/ with forward slashes, as int-weights.ts names them. */
export function intTestFiles(): string[] {
  return testFiles((file) => file.endsWith('.int.test.ts'));
}

/** The integration tier's files in `count` shares of about equal wall time (int-weights.ts). */
export function intTestShares(count: number): Share[] {
  return dealShares(intTestFiles(), INT_TEST_WEIGHTS, count);
}

/** Runs share `index` (1-based) of `count` in this process, each file as a suite of its own. */
export function runIntShare(index: number, count: number): void {
  for (const file of intTestShares(count)[index - 1]!.files) {
    void describe(`server/${file}`, async () => {
      await import(pathToFileURL(path.join(serverDir, file)).href);
    });
  }
}
