// Shared parts of the benchmarks: medians and percentiles, the OpenSSL routine every latency is
// compared with, the SMTP sink, and the two halves of a load process (bench/burst.ts,
// bench/presence.ts): the parent starts it and says "go"; the child polls GET /healthz meanwhile.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { projectRoot } from '../server/paths.js';
import { compiledFile } from '../server/testing/compiled.js';
import { randomSerial } from '../server/pki/serial.js';

const execFileAsync = promisify(execFile);

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
export const median = (values: number[]) => percentile(values, 50);

/** Runs `fn` `runs` times one after another; returns each run's milliseconds. */
export async function times(runs: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn(i);
    result.push(performance.now() - start);
  }
  return result;
}

export async function openssl(args: string[], cwd: string): Promise<void> {
  await execFileAsync('openssl', args, { cwd, maxBuffer: 256 * 1024 * 1024 });
}

/**
 * One seed-style enrollment with the openssl CLI, the baseline of every latency ratio: genrsa, req,
 * x509 -req, pkcs12 -export (3DES, SHA-1 MAC). `dir` holds ca.crt and ca.key; files are named by `i`.
 */
export async function opensslRoutine(dir: string, i: number) {
  await openssl(['genrsa', '-out', `k${i}.pem`, '2048'], dir);
  await openssl(['req', '-new', '-key', `k${i}.pem`, '-subj', `/CN=user${i}`, '-out', `r${i}.csr`], dir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `r${i}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${randomSerial()}`,
      '-days',
      '365',
      '-sha256',
      '-out',
      `c${i}.pem`,
    ],
    dir,
  );
  await openssl(pkcs12Export(`c${i}.pem`, `k${i}.pem`, 'bench-pass-1234', `b${i}.p12`), dir);
}

/** `openssl pkcs12 -export` as the seed's routine runs it (3DES, SHA-1 MAC: what older phones read). */
export function pkcs12Export(cert: string, key: string, passphrase: string, out: string): string[] {
  return [
    'pkcs12',
    '-export',
    '-in',
    cert,
    '-inkey',
    key,
    '-certfile',
    'ca.crt',
    '-passout',
    `pass:${passphrase}`,
    '-certpbe',
    'PBE-SHA1-3DES',
    '-keypbe',
    'PBE-SHA1-3DES',
    '-macalg',
    'sha1',
    '-out',
    out,
  ];
}

/** The SMTP sink (bench/smtp-sink.ts) in a child process; resolves with its URL and a way to stop it. */
export async function startSmtpSink() {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'bench/smtp-sink.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(String(chunk).trim()));
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code})`)));
  });
  return { url: `smtp://127.0.0.1:${port}`, close: async () => void child.kill('SIGTERM') };
}

/** GET `${base}/healthz`, one at a time with `pauseMs` between, until `stop` resolves with each one's milliseconds. */
export function pollHealth(base: string, pauseMs: number): { stop(): Promise<number[]> } {
  const timings: number[] = [];
  let running = true;
  const polling = (async () => {
    while (running) {
      const start = performance.now();
      await fetch(`${base}/healthz`).then((response) => response.arrayBuffer());
      timings.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await polling;
      return timings;
    },
  };
}

/** In a load process: prints "ready", then waits for the parent's line on stdin. */
export async function readyForGo(): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
}

/** In a load process: prints its result as one JSON line and exits. */
export function reportAndExit(result: unknown): never {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/**
 * Starts a load process (`bench/<script>` with `args`, run through tsx; at a lower priority with
 * `nice`) and waits until it is ready; `go()` tells it to start and resolves with the JSON line it
 * reports when done.
 */
export async function startLoad<Result>(
  script: string,
  args: string[],
  options: { nice?: number } = {},
): Promise<{ go(): Promise<Result> }> {
  const node = [process.execPath, '--import', 'tsx', path.join(projectRoot, 'bench', script), ...args];
  const command = options.nice === undefined ? node : ['nice', '-n', String(options.nice), ...node];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the load process ${script} exited (${code})`)));
    });
  if ((await nextLine()) !== 'ready') throw new Error(`the load process ${script} failed`);
  return {
    async go() {
      const result = nextLine();
      child.stdin.write('go\n');
      return JSON.parse(await result) as Result;
    },
  };
}

/**
 * Node's options of `npm start` (package.json), which the image's command repeats: the bench runs
 * the portal with the same ones. BENCH_PORTAL_NODE_ARGS (space-separated) replaces them, to compare.
 */
export function productionNodeArgs(): string[] {
  if (process.env.BENCH_PORTAL_NODE_ARGS !== undefined)
    return process.env.BENCH_PORTAL_NODE_ARGS.split(' ').filter(Boolean);
  const start = (
    JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }
  ).scripts.start.split(' ');
  return start.slice(1, start.indexOf('dist/server/main.js'));
}

/** The node arguments that start the portal as production does: compiled, with `npm start`'s options. */
export function portalArgs(): string[] {
  return [...productionNodeArgs(), compiledFile('server/main.ts')];
}
