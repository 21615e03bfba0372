// `npm start`'s prestart (scripts/build-if-changed.mjs) compiles only when the sources changed:
// a start on an unchanged checkout must not spend seconds in tsc, and a start after an edit, an
// added or removed source, or a changed tsconfig or lockfile must not run stale JavaScript. The
// script runs on a copy in a small project of its own (its own server/, tsconfigs and lockfile,
// this checkout's node_modules), so the checkout's dist/ is left alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './paths.js';
import { tempDir } from './testing/temp-dir.js';

test('npm start compiles on the first start and after a change, and not when nothing changed', () => {
  const root = tempDir('enroll-build-');
  mkdirSync(path.join(root, 'scripts'));
  mkdirSync(path.join(root, 'server'));
  copyFileSync(path.join(projectRoot, 'scripts/build-if-changed.mjs'), path.join(root, 'scripts/build-if-changed.mjs'));
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(root, 'node_modules'));
  const file = (name: string, content: string) => writeFileSync(path.join(root, name), content);
  file(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        target: 'es2022',
        strict: true,
        skipLibCheck: true,
        rootDir: '.',
        outDir: 'dist',
        types: [],
      },
    }),
  );
  file('tsconfig.build.json', JSON.stringify({ extends: './tsconfig.json', include: ['server/**/*.ts'] }));
  file('package-lock.json', '{}\n');
  file('server/main.ts', 'export const version = 1;\n');

  const output = path.join(root, 'dist/server/main.js');
  /** Runs the prestart script; reports whether it compiled (it rewrote the deleted output). */
  const start = () => {
    rmSync(output, { force: true });
    const run = spawnSync(process.execPath, ['scripts/build-if-changed.mjs'], { cwd: root, encoding: 'utf8' });
    return { status: run.status, compiled: existsSync(output), output: run.stdout + run.stderr };
  };
  /** Marks a file as changed just after the last build (a millisecond after its stamp). */
  const later = (name: string) => {
    const after = new Date(statSync(path.join(root, 'dist/.build-stamp')).mtimeMs + 1);
    utimesSync(path.join(root, name), after, after);
  };

  assert.deepEqual(start(), { status: 0, compiled: true, output: '' }, 'the first start compiles');
  assert.equal(start().compiled, false, 'an unchanged checkout starts without compiling');
  assert.equal(start().compiled, false, 'and again');

  file('server/main.ts', 'export const version = 2;\n');
  later('server/main.ts');
  assert.equal(start().compiled, true, 'an edited source');
  assert.equal(start().compiled, false);

  // A source added with an old time stamp (a checkout of an older commit, a copied file) still counts.
  file('server/added.ts', 'export const added = true;\n');
  utimesSync(path.join(root, 'server/added.ts'), new Date(2000, 0, 1), new Date(2000, 0, 1));
  assert.equal(start().compiled, true, 'a source added');
  assert.equal(start().compiled, false);
  rmSync(path.join(root, 'server/added.ts'));
  assert.equal(start().compiled, true, 'a source removed');

  for (const name of ['tsconfig.json', 'package-lock.json']) {
    later(name);
    assert.equal(start().compiled, true, `${name} changed`);
    assert.equal(start().compiled, false);
  }

  // A compile error stops the start, and the next start tries again instead of running stale code.
  file('server/main.ts', 'export const version: number = "two";\n');
  later('server/main.ts');
  const failed = start();
  assert.notEqual(failed.status, 0, 'a type error stops npm start');
  assert.match(failed.output, /TS2322/);
  file('server/main.ts', 'export const version = 3;\n');
  utimesSync(path.join(root, 'server/main.ts'), new Date(2000, 0, 1), new Date(2000, 0, 1));
  assert.equal(start().compiled, true, 'the failed build left no stamp: the next start compiles');
});
