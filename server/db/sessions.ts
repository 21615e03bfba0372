// The `sessions` table: server-side admin sessions, in the shape @fastify/session's store wants.
import type { Db } from './database.js';

type Callback<T = void> = (error?: Error | null, value?: T) => void;

/** Rows expire `idleMs` after their last save; the auth plugin saves on every signed-in request. */
export function sessionsRepository<Session extends object>(db: Db, now: () => Date, idleMs: number) {
  const get = db.prepare<[string, number], { data: string }>(
    'SELECT data FROM sessions WHERE id = ? AND expires_at > ?',
  );
  const put = db.prepare<[string, string, number]>(
    `INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
  );
  const destroy = db.prepare<[string]>('DELETE FROM sessions WHERE id = ?');
  const prune = db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?');
  // One transaction, one fsync: expired rows go with the write that keeps this one.
  const save = db.transaction((id: string, data: string) => {
    const at = now().getTime();
    prune.run(at);
    put.run(id, data, at + idleMs);
  });

  return {
    /** A session store for @fastify/session (callback style). */
    store: {
      get(id: string, callback: Callback<Session | null>) {
        const row = get.get(id, now().getTime());
        callback(null, row ? (JSON.parse(row.data) as Session) : null);
      },
      set(id: string, session: Session, callback: Callback) {
        save(id, JSON.stringify(session));
        callback(null);
      },
      destroy(id: string, callback: Callback) {
        destroy.run(id);
        callback(null);
      },
    },
  };
}
