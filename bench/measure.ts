// Timing helpers for the benchmark: medians, percentiles, and openssl runs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
