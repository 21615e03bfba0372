// Dealing a test tier's files to the processes that run them (unit-tier.ts, int-tier.ts): each
// process loads the application once for all its files, where a process per file paid that load
// (and, under coverage, V8's bookkeeping and the coverage file written at exit) every time.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../paths.js';

export const serverDir = path.join(projectRoot, 'server');

/** The test files of server/ that `matches` accepts, relative to server/ with forward slashes. */
export function testFiles(matches: (file: string) => boolean): string[] {
  return (readdirSync(serverDir, { recursive: true }) as string[])
    .map((file) => file.split(path.sep).join('/'))
    .filter(matches)
    .sort();
}

export interface Share {
  files: string[];
  weight: number;
}

/**
 * `files` in `count` shares of about equal weight: the heaviest file first, each to the share with
 * the least so far (within 4/3 of the best split, and close to it with many small files). A file
 * missing from `weights` (the tier's own test fails until it is measured) weighs the mean.
 */
export function dealShares(files: string[], weights: Record<string, number>, count: number): Share[] {
  const measured = Object.values(weights);
  const mean = measured.reduce((sum, weight) => sum + weight, 0) / Math.max(1, measured.length);
  const weightOf = (file: string) => weights[file] ?? mean;
  const shares = Array.from({ length: count }, () => ({ files: [] as string[], weight: 0 }));
  for (const file of [...files].sort((a, b) => weightOf(b) - weightOf(a) || a.localeCompare(b))) {
    const lightest = shares.reduce((min, share) => (share.weight < min.weight ? share : min));
    lightest.files.push(file);
    lightest.weight += weightOf(file);
  }
  return shares.map((share) => ({ files: share.files.sort(), weight: share.weight }));
}
