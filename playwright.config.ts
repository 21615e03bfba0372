// Browser journeys in e2e/: Debian's Chromium when present, Playwright's own browser otherwise, so
// the suite also runs on a laptop. CHROMIUM_PATH names another browser for every file (unless
// CHROMIUM_HEADLESS_SHELL_PATH names a shell for the files below).
//
// Two builds of the same Chromium (one Debian source package, one version):
// - broker.spec.ts runs in the whole browser, /usr/bin/chromium, the program people open;
// - the other files run in Chromium's headless shell (Debian's chromium-headless-shell, the build
//   Playwright itself runs for headless tests): the same Blink, V8 and network stack without the
//   browser's user interface around them. Measured alone under Node 24, in alternating runs, the
//   whole tier took 108 and 110 CPU-seconds (57 and 58 s) in the browser and 70 and 73 (39 and 40 s) in
//   the shell; two thirds of the tier's CPU was Chromium's (perf).
// Without the shell installed (or with CHROMIUM_PATH set alone), every file runs in the browser.
import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const installed = (...candidates: (string | undefined)[]) =>
  candidates.find((candidate) => candidate && existsSync(candidate));
const browser = installed(process.env.CHROMIUM_PATH, '/usr/bin/chromium');
const headlessShell = process.env.CHROMIUM_HEADLESS_SHELL_PATH
  ? installed(process.env.CHROMIUM_HEADLESS_SHELL_PATH)
  : process.env.CHROMIUM_PATH
    ? browser
    : (installed('/usr/bin/chromium-headless-shell') ?? browser);

const launchOptions = (executablePath: string | undefined) => ({
  ...(executablePath ? { executablePath } : {}),
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const inTheBrowser = 'broker.spec.ts';

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
  },
  projects: [
    { name: 'chromium', testMatch: inTheBrowser, use: { launchOptions: launchOptions(browser) } },
    { name: 'headless-shell', testIgnore: inTheBrowser, use: { launchOptions: launchOptions(headlessShell) } },
  ],
});
