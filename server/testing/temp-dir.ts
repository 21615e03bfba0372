// A fresh folder under the system's temporary directory, for a test's DATA_DIR or scratch files,
// removed with everything in it when the process that made it exits. (Before, none was removed:
// 20,399 folders had piled up in /tmp on the development machine, test CA keys among them.) A process
// killed by a signal cannot run its exit handlers and still leaves its folders behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made: string[] = [];

function removeAll() {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempDir(prefix = 'enroll-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (made.length === 0) process.once('exit', removeAll);
  made.push(dir);
  return dir;
}
