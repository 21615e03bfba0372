// Writing files so that a crash leaves either the old or the new content, never a partial file:
// a temporary file in the same folder, fsync, rename over the target, fsync of the folder. The file
// gets exactly the mode asked for, not what the umask leaves of it.
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const temporaryBeside = (file: string) =>
  path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);

function fsyncPath(target: string, flags: string): void {
  const fd = openSync(target, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a finished temporary file durable and puts it in place of `file`. */
function commit(temporary: string, file: string): void {
  fsyncPath(temporary, 'r+');
  renameSync(temporary, file);
  fsyncPath(path.dirname(file), 'r');
}

export function writeFileAtomic(file: string, content: string | Buffer, mode: number): void {
  const temporary = temporaryBeside(file);
  try {
    writeFileSync(temporary, content, { mode, flag: 'wx' });
    chmodSync(temporary, mode); // exactly `mode`, whatever the umask (a strict one would hide ca.crt from the broker)
    commit(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Like writeFileAtomic, for content that a writer streams to a path (created empty with `mode`). */
export async function writeFileAtomicWith(
  file: string,
  mode: number,
  write: (temporary: string) => Promise<void>,
): Promise<void> {
  const temporary = temporaryBeside(file);
  closeSync(openSync(temporary, 'wx', mode));
  chmodSync(temporary, mode);
  try {
    await write(temporary);
    commit(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
