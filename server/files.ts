// Writing files so that a crash leaves either the old or the new content, never a partial file:
// a temporary file in the same folder, fsync, rename over the target, fsync of the folder. The file
// gets exactly the mode asked for, not what the umask leaves of it.
import fs, { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Puts several files in place together (a restore's database and CA): each is written beside its
 * place first, so that a full disk fails before anything is replaced; then the files replaced and
 * those in `remove` are moved aside (`<name>.replaced`), the new ones renamed in, and only then the
 * old ones deleted. A failure while swapping puts every old file back and leaves none of the new.
 * A crash in the middle of the swap leaves the old files beside their places, named `.replaced`.
 */
export function replaceFilesTogether(
  replacements: Array<{ file: string; mode: number; write: (temporary: string) => void }>,
  remove: string[] = [],
): void {
  const staged: Array<{ file: string; temporary: string }> = [];
  try {
    for (const replacement of replacements) {
      const temporary = temporaryBeside(replacement.file);
      staged.push({ file: replacement.file, temporary });
      closeSync(openSync(temporary, 'wx', replacement.mode));
      replacement.write(temporary);
      chmodSync(temporary, replacement.mode);
      fsyncPath(temporary, 'r+');
    }
  } catch (error) {
    for (const { temporary } of staged) rmSync(temporary, { force: true });
    throw error;
  }
  const aside = (file: string) => `${file}.replaced`;
  const moved: string[] = [];
  const placed: string[] = [];
  try {
    for (const file of [...replacements.map((replacement) => replacement.file), ...remove])
      if (existsSync(file)) {
        fs.renameSync(file, aside(file));
        moved.push(file);
      }
    for (const { file, temporary } of staged) {
      fs.renameSync(temporary, file);
      placed.push(file);
    }
  } catch (error) {
    for (const file of placed) if (!moved.includes(file)) rmSync(file, { force: true });
    for (const file of moved) fs.renameSync(aside(file), file);
    for (const { temporary } of staged) rmSync(temporary, { force: true });
    throw error;
  }
  for (const folder of new Set(staged.map(({ file }) => path.dirname(file)))) fsyncPath(folder, 'r');
  for (const file of moved) rmSync(aside(file), { recursive: true, force: true });
}
