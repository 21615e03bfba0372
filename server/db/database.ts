// Opens the SQLite database with the portal's pragmas and brings its schema up to date.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StartupError } from '../errors.js';

export type Db = Database.Database;

export class MigrationError extends StartupError {
  override name = 'MigrationError';
}

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  sha256: string;
}

const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export function readMigrations(dir: string): MigrationFile[] {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort();
  // Numbers only go up, each used once; a gap is allowed, as numbers are handed out to features
  // built side by side (a branch holds 010 before 006-009 have landed).
  let previous = 0;
  return files.map((file) => {
    const match = MIGRATION_FILE.exec(file);
    if (!match) throw new MigrationError(`Migration ${file}: name must look like 001_name.sql`);
    const version = Number(match[1]);
    if (version <= previous) {
      throw new MigrationError(`Migration ${file}: its number must be above ${String(previous).padStart(3, '0')}`);
    }
    previous = version;
    const sql = readFileSync(path.join(dir, file), 'utf8');
    return { version, name: match[2]!, sql, sha256: createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies the migrations not yet applied, each with its bookkeeping row in one transaction.
 * Refuses (throws) when the history in the database does not match the files: a migration
 * edited after it landed, one removed, or a database from a newer version of the portal.
 */
export function migrate(db: Db, migrations: MigrationFile[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = checkMigrationHistory(db, migrations);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)');
  const pending = migrations.filter((m) => !applied.some((row) => row.version === m.version));
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migration.sha256, new Date().toISOString());
    })();
  }
  return pending.map((m) => m.version);
}

/**
 * The migrations a database has applied, checked against the files (throws MigrationError as
 * migrate does); changes nothing. Those still to apply are the files' versions not among them.
 */
export function checkMigrationHistory(db: Db, migrations: MigrationFile[]): Array<{ version: number }> {
  const known = db
    .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .pluck()
    .get() as number;
  if (!known) return [];
  const applied = db.prepare('SELECT version, name, sha256 FROM schema_migrations ORDER BY version').all() as Array<{
    version: number;
    name: string;
    sha256: string;
  }>;
  for (const row of applied) {
    const file = migrations.find((m) => m.version === row.version);
    if (!file) {
      throw new MigrationError(
        `Database has migration ${row.version} (${row.name}) that this version does not know; refusing to start`,
      );
    }
    if (file.name !== row.name || file.sha256 !== row.sha256) {
      throw new MigrationError(
        `Migration ${String(row.version).padStart(3, '0')}_${file.name}.sql differs from the one applied; refusing to start`,
      );
    }
  }
  return applied;
}

/** The database holds password hashes and sessions: readable by the portal's user only. */
const DATABASE_MODE = 0o600;

/**
 * Opens (creating if needed) the database file and sets the pragmas of DESIGN.md. The file is
 * made 0600 before SQLite sees it (SQLite would make it 0644 under the usual umask), and SQLite
 * gives -wal and -shm the database file's mode; files of an older version are set to 0600 too.
 */
export function openDatabase(file: string): Db {
  if (!existsSync(file)) closeSync(openSync(file, 'a', DATABASE_MODE)); // an empty file is an empty database
  chmodSync(file, DATABASE_MODE);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  for (const companion of [`${file}-wal`, `${file}-shm`])
    if (existsSync(companion)) chmodSync(companion, DATABASE_MODE);
  return db;
}

/**
 * Runs `write` (its own transaction) with `synchronous = NORMAL`, then sets the connection back. In
 * WAL mode such a commit survives a crash of the portal and reaches the disk with the next synced
 * commit or checkpoint, in order; only a power cut can take it back. Only for writes whose loss
 * costs a repeat and nothing else: last-seen times (hints), a session's save (its admin signs in
 * again). Each fsync saved is 0.7 ms of the event loop on a quiet disk, and up to 20 on a busy one.
 */
export function withoutWaitingForDisk<T>(db: Db, write: () => T): T {
  // SQLite refuses the change inside a transaction: there, the write is part of the caller's commit.
  if (db.inTransaction) return write();
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = NORMAL');
  try {
    return write();
  } finally {
    db.pragma(`synchronous = ${synchronous}`);
  }
}

/** A cheap round trip for health checks: throws when the database cannot answer. */
export function databasePing(db: Db): () => void {
  const ping = db.prepare('SELECT 1');
  return () => void ping.get();
}
