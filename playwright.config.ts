// Browser journeys in e2e/: Debian's Chromium when present (CHROMIUM_PATH or /usr/bin/chromium),
// Playwright's own browser otherwise, so the suite also runs on a laptop.
import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find(
  (candidate) => candidate && existsSync(candidate),
);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Each spec file starts a stack of its own (portal, SMTP server, Mosquitto) in beforeAll, so the files
  // run side by side; the tests inside a file share its stack and run in order. The page sweeps
  // (pages.spec.ts) have a stack of their own so that they run beside the journeys, not after them:
  // journeys.spec.ts alone took 106 s of the tier's 115.
  fullyParallel: false,
  workers: 2,
  // A journey's budget, not a limit of the product: beside the coverage run a core is rarely idle, and
  // the portal mints on SCHED_IDLE threads, so each issue waits; on the shared two-core machine the
  // light/dark pages and the pickup journey ran past 90 s while passing every check they reached.
  timeout: 180_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    screenshot: 'only-on-failure',
    // No trace by default: recording one (a DOM snapshot and a screencast frame at every action) cost
    // the tier 20 of its 150 CPU-seconds, paid on every passing run. To look into a failure, run
    // again with `--trace retain-on-failure` (or `--trace on`) and open it with `npx playwright show-trace`.
    trace: 'off',
    launchOptions: {
      ...(chromium ? { executablePath: chromium } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
