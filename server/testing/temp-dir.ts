// A fresh folder under the system's temporary directory, for a test's DATA_DIR or scratch files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'enroll-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}
