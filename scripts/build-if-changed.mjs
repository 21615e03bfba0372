// `npm start`'s prestart: compiles the server only when a source changed since the last build (an
// unchanged checkout starts in well under a second instead of spending seconds in tsc). A source
// newer than the stamp, one added or removed, or a changed tsconfig or lockfile means a build.
// Plain JavaScript, so that the check itself needs no compiler.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const root = path.resolve(import.meta.dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function sources(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

const inputs = [...sources('server'), 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].sort();
const listed = JSON.stringify(inputs);
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const stale =
  built === 0 ||
  readFileSync(stamp, 'utf8') !== listed ||
  inputs.some((file) => existsSync(path.join(root, file)) && statSync(path.join(root, file)).mtimeMs > built);

if (stale) {
  // tsc writes its output even when it reports errors: without a stamp, the next start compiles
  // again instead of running what a failed build left, whatever the sources' times say.
  rmSync(stamp, { force: true });
  const tsc = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript-native/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  writeFileSync(stamp, listed);
}
