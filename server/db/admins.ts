// The `admins` table: the people who may sign in to the portal, and `sign_in_failures`, the sign-in
// back-off of every name tried (real or not), keyed by the SHA-256 of the lower-cased name.
import { createHash } from 'node:crypto';
import type { Db } from './database.js';

export interface AdminRow {
  id: number;
  username: string;
  password_hash: string;
  created_at: string;
  last_login_at: string | null;
  disabled_at: string | null;
}

export interface SignInFailures {
  failures: number;
  lastFailedAt: string;
}

/** Rows kept in `sign_in_failures` at most; beyond it the oldest failures are forgotten. */
const SIGN_IN_FAILURES_LIMIT = 10_000;

const nameKey = (name: string) => createHash('sha256').update(name.toLowerCase()).digest('hex');

export function adminsRepository(db: Db) {
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM admins');
  const countEnabled = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM admins WHERE disabled_at IS NULL');
  const byName = db.prepare<[string], AdminRow>('SELECT * FROM admins WHERE username = ?');
  const insert = db.prepare<[string, string, string]>(
    'INSERT INTO admins (username, password_hash, created_at) VALUES (?, ?, ?)',
  );
  const setHash = db.prepare<[string, string]>('UPDATE admins SET password_hash = ? WHERE username = ?');
  const loggedIn = db.prepare<[string, string]>('UPDATE admins SET last_login_at = ? WHERE username = ?');
  const setDisabled = db.prepare<[string | null, string]>('UPDATE admins SET disabled_at = ? WHERE username = ?');
  const remove = db.prepare<[string]>('DELETE FROM admins WHERE username = ?');

  const failuresOf = db.prepare<[string], { failures: number; last_failed_at: string }>(
    'SELECT failures, last_failed_at FROM sign_in_failures WHERE name_sha256 = ?',
  );
  const addFailure = db.prepare<[string, string]>(
    `INSERT INTO sign_in_failures (name_sha256, failures, last_failed_at) VALUES (?, 1, ?)
     ON CONFLICT (name_sha256) DO UPDATE SET failures = failures + 1, last_failed_at = excluded.last_failed_at`,
  );
  const clearFailures = db.prepare<[string]>('DELETE FROM sign_in_failures WHERE name_sha256 = ?');
  const failureRows = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sign_in_failures');
  const forgetOldest = db.prepare<[string, number]>(
    `DELETE FROM sign_in_failures WHERE name_sha256 IN
       (SELECT name_sha256 FROM sign_in_failures WHERE name_sha256 != ? ORDER BY last_failed_at LIMIT ?)`,
  );

  return {
    count: () => count.get()!.n,
    countEnabled: () => countEnabled.get()!.n,
    find: (username: string) => byName.get(username),
    create: (username: string, passwordHash: string, at: Date) => insert.run(username, passwordHash, at.toISOString()),
    /** Sets a new hash; the name's back-off is cleared with it. */
    setPasswordHash(username: string, passwordHash: string) {
      if (setHash.run(passwordHash, username).changes !== 1) return false;
      clearFailures.run(nameKey(username));
      return true;
    },
    recordLogin: (username: string, at: Date) => void loggedIn.run(at.toISOString(), username),
    setDisabled: (username: string, at: Date | null) =>
      setDisabled.run(at?.toISOString() ?? null, username).changes === 1,
    remove: (username: string) => remove.run(username).changes === 1,

    /** The back-off record of a name, real or not. */
    failures(name: string): SignInFailures | undefined {
      const row = failuresOf.get(nameKey(name));
      return row && { failures: row.failures, lastFailedAt: row.last_failed_at };
    },
    /** Counts one more failure for `name`, in one transaction (bounded: the oldest records go beyond the limit). */
    recordFailure: db.transaction((name: string, at: Date, limit: number = SIGN_IN_FAILURES_LIMIT) => {
      const key = nameKey(name);
      addFailure.run(key, at.toISOString());
      const excess = failureRows.get()!.n - limit;
      if (excess > 0) forgetOldest.run(key, excess);
    }),
    clearFailures: (name: string) => void clearFailures.run(nameKey(name)),
  };
}
export type AdminsRepository = ReturnType<typeof adminsRepository>;
