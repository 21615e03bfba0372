// The portal compiled to JavaScript once per test process, for tests that start it as a child
// process (the CLI, main.ts): a start through `node --import tsx` spent about 1.3 s of CPU on tsx's
// loader before the portal's first line ran, a start of the compiled files about 0.5 s in all, and
// the CLI test alone starts two dozen.
//
// esbuild (the compiler tsx itself runs) writes every file of server/ to .cache/test-js/<folder>/server/,
// file for file like `npm run build` does to dist/, with inline source maps. Inside the project, so
// package.json makes the files ES modules, paths.ts finds the project's views and migrations, and
// node_modules resolves as usual. The folder is removed when this process exits.
//
// Coverage: the child processes' V8 coverage names the compiled files, a URL of their own, so it
// never meets the tsx-compiled text of the same source under one URL (see scripts/coverage-floors.ts);
// c8 maps it back to server/ through the source maps (.c8rc.json includes .cache/test-js/).
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { projectRoot } from '../paths.js';

let compiled: string | undefined;

function compile(): string {
  const server = path.join(projectRoot, 'server');
  const parent = path.join(projectRoot, '.cache', 'test-js');
  mkdirSync(parent, { recursive: true });
  const out = mkdtempSync(path.join(parent, 'run-'));
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  const sources = (readdirSync(server, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => path.join(server, file));
  buildSync({
    entryPoints: sources,
    outdir: path.join(out, 'server'),
    outbase: server,
    // tsx's own transform options: the same compiled text, so V8's coverage maps back onto the same
    // lines and branches as the tests' own (tsx-compiled) copies of these files.
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    sourcemap: 'inline',
    minifyWhitespace: true,
    keepNames: true,
    logLevel: 'error',
  });
  return out;
}

/** The compiled counterpart of a file of server/, e.g. `server/cli.ts` → `.cache/test-js/…/server/cli.js`. */
export function compiledFile(file: string): string {
  compiled ??= compile();
  return path.join(compiled, file.replace(/\.ts$/, '.js'));
}
