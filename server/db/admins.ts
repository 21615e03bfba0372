// The `admins` table: the people who may sign in to the portal.
import type { Db } from './database.js';

export interface AdminRow {
  id: number;
  username: string;
  password_hash: string;
  failed_logins: number;
  last_failed_at: string | null;
  created_at: string;
  last_login_at: string | null;
}

export function adminsRepository(db: Db) {
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM admins');
  const byName = db.prepare<[string], AdminRow>('SELECT * FROM admins WHERE username = ?');
  const insert = db.prepare<[string, string, string]>(
    'INSERT INTO admins (username, password_hash, created_at) VALUES (?, ?, ?)',
  );
  const setHash = db.prepare<[string, string]>(
    'UPDATE admins SET password_hash = ?, failed_logins = 0, last_failed_at = NULL WHERE username = ?',
  );
  const failed = db.prepare<[string, string]>(
    'UPDATE admins SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE username = ?',
  );
  const succeeded = db.prepare<[string, string]>(
    'UPDATE admins SET failed_logins = 0, last_failed_at = NULL, last_login_at = ? WHERE username = ?',
  );
  return {
    count: () => count.get()!.n,
    find: (username: string) => byName.get(username),
    create: (username: string, passwordHash: string, at: Date) => insert.run(username, passwordHash, at.toISOString()),
    setPasswordHash: (username: string, passwordHash: string) => setHash.run(passwordHash, username).changes === 1,
    recordFailure: (username: string, at: Date) => failed.run(at.toISOString(), username),
    recordSuccess: (username: string, at: Date) => succeeded.run(at.toISOString(), username),
  };
}
export type AdminsRepository = ReturnType<typeof adminsRepository>;
