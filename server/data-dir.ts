// DATA_DIR's layout, in one place: which file is which, with the modes DESIGN.md gives them.
// Opening the folder (and migrating its database) is shared by the server, the admin commands
// and the tests.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkMigrationHistory, migrate, openDatabase, readMigrations, type Db } from './db/database.js';
import { StartupError } from './errors.js';
import { aside, finishInterruptedReplace, parseTemporary } from './files.js';
import { migrationsDir } from './paths.js';

export interface DataFiles {
  dir: string;
  /** SQLite database (0600), with its -wal and -shm companions. */
  database: string;
  /** The CA certificate in PEM (0644): the broker's cafile. */
  caCert: string;
  /** The CA key, PKCS#8, encrypted when CA_KEY_PASSPHRASE is set (0600). */
  caKey: string;
  /** The CRL in PEM (0644): the broker's crlfile, replaced atomically and never moved. */
  crl: string;
  /** Mail written as .eml files when no SMTP server is configured. */
  outbox: string;
  /** Present only while a restore swaps its files in (files.ts, replaceFilesTogether). */
  replaceJournal: string;
}

export function dataFiles(dir: string): DataFiles {
  return {
    dir,
    database: path.join(dir, 'enroll.db'),
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    crl: path.join(dir, 'crl.pem'),
    outbox: path.join(dir, 'outbox'),
    replaceJournal: path.join(dir, '.restore-in-progress.json'),
  };
}

/** The modes DESIGN.md gives the files the broker reads (0644) and the secrets (0600). */
const FILE_MODES = { caCert: 0o644, crl: 0o644, caKey: 0o600 } as const;

/**
 * Gives DATA_DIR and the files in it the modes of DESIGN.md, also in a folder made by an older
 * version or under a strict umask: the folder is searchable by its group (which may be the
 * broker's, so that Mosquitto reads ca.crt and crl.pem after it drops root) and writable by its
 * owner only; ca.crt and crl.pem 0644; ca.key 0600 (the database sets its own 0600). Files stay
 * where they are: Mosquitto ignores a crlfile that went missing when it reloads.
 */
export function enforceDataDirModes(files: DataFiles): void {
  const mode = statSync(files.dir).mode;
  // Keep setgid (new files in the broker's group) and what the admin granted others to read or search.
  const wanted = (mode & 0o7005) | 0o750;
  if ((mode & 0o7777) !== wanted) chmodSync(files.dir, wanted);
  for (const [name, fileMode] of Object.entries(FILE_MODES)) {
    const file = files[name as keyof typeof FILE_MODES];
    if (existsSync(file) && (statSync(file).mode & 0o777) !== fileMode) chmodSync(file, fileMode);
  }
}

/**
 * Makes DATA_DIR if needed, sets its modes, and opens its database, migrated to the current schema.
 * With `migrate: false` (a backup taken before an upgrade) the schema stays as it is; only a history
 * this version cannot read (a newer portal's, or an edited migration) is refused.
 */
export function openDataDir(dataDir: string, options: { migrate?: boolean } = {}): Db {
  const files = dataFiles(dataDir);
  let db: Db;
  try {
    mkdirSync(files.dir, { recursive: true, mode: 0o750 });
    settleInterruptedRestore(files);
    enforceDataDirModes(files);
    db = openDatabase(files.database);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'SQLITE_CANTOPEN')
      throw new StartupError(
        `DATA_DIR ${path.resolve(dataDir)}: the portal cannot write there (${code}): give the folder to the user it runs as, or set DATA_DIR to another`,
      );
    throw error;
  }
  try {
    if (options.migrate === false) checkSchema(db);
    else migrate(db, readMigrations(migrationsDir));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * A restore that a crash stopped while it swapped its files in is finished from its journal, before
 * anything opens the database or reads the CA. Old files moved aside with no journal to finish
 * from (the crash came while a failed swap was being undone) stop the start: beside them the
 * folder may lack its database or CA key, and the portal would make a new, empty one.
 */
function settleInterruptedRestore(files: DataFiles): void {
  finishInterruptedReplace(files.replaceJournal);
  removeStrayCopies(files);
  const left = replacedPlaces(files)
    .map(aside)
    .filter((file) => existsSync(file));
  if (left.length > 0)
    throw new StartupError(
      `An interrupted restore left ${left.map((file) => path.basename(file)).join(', ')} in ${files.dir}: the files it was replacing. ` +
        'Run the restore again (with --force): it puts the archive in place and removes them. If the portal has run on this folder since ' +
        '(an earlier version made a new CA and database after such a crash), they are older than what is there: move them out of the folder to keep them. ' +
        'The portal does not start beside them.',
    );
}

/**
 * Copies of the database or the CA that a restore (or the CA's creation) was writing when its
 * process died before the journal existed: `.<name>.<pid>.<time>.tmp` beside the file
 * (files.ts). One whose process is gone is removed: it may be a CA key in clear, of no use to
 * anyone. One whose process still runs is that process's to finish.
 */
const STRAY_AFTER_MS = 86400_000;

function removeStrayCopies(files: DataFiles): void {
  const names = new Set([files.database, files.caCert, files.caKey].map((file) => path.basename(file)));
  for (const entry of readdirSync(files.dir)) {
    const temporary = parseTemporary(entry);
    if (!temporary || !names.has(temporary.file)) continue;
    // A process of that number may be another one (pid 1 in a container always runs): a day old is
    // gone whatever runs now.
    const old = Date.now() - statSync(path.join(files.dir, entry)).mtimeMs > STRAY_AFTER_MS;
    if (processRuns(temporary.pid) && !old) continue;
    rmSync(path.join(files.dir, entry), { force: true });
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // runs, as another user
  }
}

/** The files a restore replaces or removes, where a crash can leave their old versions aside (`.replaced`). */
export function replacedPlaces(files: DataFiles): string[] {
  return [files.database, `${files.database}-wal`, `${files.database}-shm`, files.caCert, files.caKey, files.crl];
}

/** Applies this version's migrations to a database that is not DATA_DIR's (a restore's copy). */
export function migrateToCurrent(db: Db): void {
  migrate(db, readMigrations(migrationsDir));
}

/** Refuses (MigrationError) a database whose migrations this version does not know; returns how many it has still to apply. */
export function checkSchema(db: Db): { pending: number } {
  const migrations = readMigrations(migrationsDir);
  const applied = checkMigrationHistory(db, migrations);
  return { pending: migrations.length - applied.length };
}
