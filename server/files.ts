// Writing files so that a crash leaves either the old or the new content, never a partial file:
// a temporary file in the same folder, fsync, rename over the target, fsync of the folder. The file
// gets exactly the mode asked for, not what the umask leaves of it.
import fs, {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const temporaryBeside = (file: string) =>
  path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);

/** A name temporaryBeside gave: the file it stands in for (its name) and the process that wrote it. */
export function parseTemporary(name: string): { file: string; pid: number } | undefined {
  const match = /^\.(.+)\.(\d+)\.\d+\.tmp$/.exec(name);
  return match ? { file: match[1]!, pid: Number(match[2]) } : undefined;
}

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
 *
 * With `journal`, a crash in the middle of the swap is finished later, never undone: once every new
 * file is written, the journal (a file in the same folder) names them and their places, and
 * finishInterruptedReplace completes the swap from it (the portal's start and every command that
 * opens DATA_DIR call it first). All files must be in the journal's folder. `crashAfterSteps`, for
 * tests: stop after that many renames as a crash would, leaving everything as it is.
 */
export function replaceFilesTogether(
  replacements: Array<{ file: string; mode: number; write: (temporary: string) => void }>,
  remove: string[] = [],
  options: { journal?: string; crashAfterSteps?: number } = {},
): void {
  const { journal } = options;
  if (journal)
    for (const file of [...replacements.map((replacement) => replacement.file), ...remove])
      if (path.dirname(file) !== path.dirname(journal)) throw new Error(`${file} is not beside ${journal}`);
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
    // The commit point: from here on, a crash is finished at the next start.
    if (journal) {
      const entry: Journal = {
        moves: staged.map(({ file, temporary }) => ({
          file: path.basename(file),
          temporary: path.basename(temporary),
        })),
        remove: remove.map((file) => path.basename(file)),
      };
      writeFileAtomic(journal, JSON.stringify(entry), 0o600);
    }
  } catch (error) {
    for (const { temporary } of staged) rmSync(temporary, { force: true });
    throw error;
  }
  const moved: string[] = [];
  const placed: string[] = [];
  let steps = 0;
  const crashed = () => options.crashAfterSteps !== undefined && steps++ >= options.crashAfterSteps;
  try {
    for (const file of [...replacements.map((replacement) => replacement.file), ...remove])
      if (existsSync(file)) {
        if (crashed()) return;
        fs.renameSync(file, aside(file));
        moved.push(file);
      }
    for (const { file, temporary } of staged) {
      if (crashed()) return;
      fs.renameSync(temporary, file);
      placed.push(file);
    }
  } catch (error) {
    // Undone, so the journal goes first: a crash while undoing must not be finished from it. Such a
    // double fault leaves `.replaced` files without a journal, and openDataDir then refuses to start.
    if (journal) {
      rmSync(journal, { force: true });
      fsyncPath(path.dirname(journal), 'r');
    }
    for (const file of placed) if (!moved.includes(file)) rmSync(file, { force: true });
    for (const file of moved) fs.renameSync(aside(file), file);
    for (const { temporary } of staged) rmSync(temporary, { force: true });
    throw error;
  }
  if (crashed()) return;
  for (const folder of new Set(staged.map(({ file }) => path.dirname(file)))) fsyncPath(folder, 'r');
  for (const file of moved) rmSync(aside(file), { recursive: true, force: true });
  if (journal) {
    rmSync(journal, { force: true });
    fsyncPath(path.dirname(journal), 'r');
  }
}

/** Where replaceFilesTogether moves an old file while it swaps. */
export const aside = (file: string) => `${file}.replaced`;

/** What a journal records, as names in its own folder. */
interface Journal {
  moves: Array<{ file: string; temporary: string }>;
  remove: string[];
}

const fileName = z
  .string()
  .min(1)
  .refine((name) => path.basename(name) === name && name !== '..' && name !== '.'); // a name in the journal's folder
const journalSchema = z.object({
  moves: z.array(z.object({ file: fileName, temporary: fileName })).min(1),
  remove: z.array(fileName),
});

/**
 * Finishes a swap that replaceFilesTogether left half done (a crash, a power cut) from its journal:
 * the new files that are still beside their places go in, the files to remove go (an old database's
 * log must not meet the new database), the old ones moved aside are deleted, and the journal last.
 * Returns whether there was one. Where every new file was already in place, the files at the places
 * in `remove` are left alone: they may be the old ones put back after a failure.
 */
export function finishInterruptedReplace(journal: string): boolean {
  if (!existsSync(journal)) return false;
  const dir = path.dirname(journal);
  const parsed = journalSchema.safeParse(JSON.parse(readFileSync(journal, 'utf8')));
  if (!parsed.success) throw new Error(`${journal} is not a journal of a swap: ${parsed.error.message}`);
  const inFolder = (name: string) => path.join(dir, name);
  const pending = parsed.data.moves.filter(({ temporary }) => existsSync(inFolder(temporary)));
  if (pending.length > 0) {
    for (const name of parsed.data.remove) rmSync(inFolder(name), { force: true });
    for (const { file, temporary } of pending) fs.renameSync(inFolder(temporary), inFolder(file));
  }
  fsyncPath(dir, 'r');
  for (const name of [...parsed.data.moves.map(({ file }) => file), ...parsed.data.remove])
    rmSync(aside(inFolder(name)), { recursive: true, force: true });
  rmSync(journal, { force: true });
  fsyncPath(dir, 'r');
  return true;
}
