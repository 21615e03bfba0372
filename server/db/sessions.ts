// The `sessions` table: server-side admin sessions, in the shape @fastify/session's store wants. The
// id a browser holds is stored only as its SHA-256, so a copy of the table opens no session; the
// admin a session belongs to has a column, so that all of an admin's sessions can be ended at once.
// Ending them also notes when (a `settings` row per admin, and one for all): a request under way
// when they were ended saves its session again at its end, and that row must not open anything.
import { createHash } from 'node:crypto';
import { withoutWaitingForDisk, type Db } from './database.js';

type Callback<T = void> = (error?: Error | null, value?: T) => void;

const idHash = (id: string) => createHash('sha256').update(id).digest('hex');
/** `settings` keys: when an admin's sessions (`<name>`), or all (`*`), were last ended, in ms. */
const ENDED_PREFIX = 'sessions_ended:';

export function sessionsRepository(db: Db, now: () => Date) {
  const get = db.prepare<[string, number], { data: string }>(
    'SELECT data FROM sessions WHERE id_sha256 = ? AND expires_at > ?',
  );
  const put = db.prepare<[string, string | null, string, number]>(
    `INSERT INTO sessions (id_sha256, admin, data, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (id_sha256) DO UPDATE SET admin = excluded.admin, data = excluded.data, expires_at = excluded.expires_at`,
  );
  const destroy = db.prepare<[string]>('DELETE FROM sessions WHERE id_sha256 = ?');
  const prune = db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?');
  const endFor = db.prepare<[string]>('DELETE FROM sessions WHERE admin = ?');
  const endAll = db.prepare('DELETE FROM sessions');
  const noteEnded = db.prepare<[string, string]>(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const endedAt = db.prepare<[string], { at: number | null }>(
    `SELECT max(CAST(value AS INTEGER)) AS at FROM settings WHERE key IN ('${ENDED_PREFIX}*', '${ENDED_PREFIX}' || lower(?))`,
  );
  const ended = (admin: string) => {
    noteEnded.run(`${ENDED_PREFIX}${admin.toLowerCase()}`, String(now().getTime()));
  };

  return {
    /** A session store for @fastify/session (callback style); rows expire `idleMs` after their last save. */
    store<Session extends { admin?: string | undefined }>(idleMs: number) {
      // One transaction (not synced: see set): expired rows go with the write that keeps this one.
      const save = db.transaction((id: string, admin: string | null, data: string) => {
        const at = now().getTime();
        prune.run(at);
        put.run(idHash(id), admin, data, at + idleMs);
      });
      // Sessions ended here (a sign-out), by id hash, until their row would have expired anyway: a
      // request that loaded one before and saves it at its end must not bring it back. In memory:
      // such a request does not outlive the process.
      const ended = new Map<string, number>();
      return {
        get(id: string, callback: Callback<Session | null>) {
          const row = get.get(idHash(id), now().getTime());
          const session = row ? (JSON.parse(row.data) as Session & { signedInAt?: number }) : null;
          // Signed in before the admin's sessions were ended: saved again by a request under way then.
          if (session?.admin && (session.signedInAt ?? 0) < (endedAt.get(session.admin)?.at ?? -Infinity)) {
            destroy.run(idHash(id));
            return callback(null, null);
          }
          callback(null, session);
        },
        // Saved without waiting for the disk (database.ts): a power cut can only take back the
        // last saves, and the admin signs in again. A sign-out and the ending of sessions wait.
        set(id: string, session: Session, callback: Callback) {
          const at = now().getTime();
          for (const [hash, until] of ended) if (until <= at) ended.delete(hash);
          if (!ended.has(idHash(id)))
            withoutWaitingForDisk(db, () => save(id, session.admin ?? null, JSON.stringify(session)));
          callback(null);
        },
        destroy(id: string, callback: Callback) {
          destroy.run(idHash(id));
          ended.set(idHash(id), now().getTime() + idleMs);
          callback(null);
        },
      };
    },
    /** Ends every session of one admin (the name matched without regard to case); returns how many. */
    endFor: db.transaction((admin: string) => {
      ended(admin);
      return endFor.run(admin).changes;
    }),
    /** Ends every session; returns how many. */
    endAll: db.transaction(() => {
      noteEnded.run(`${ENDED_PREFIX}*`, String(now().getTime()));
      return endAll.run().changes;
    }),
  };
}
export type SessionsRepository = ReturnType<typeof sessionsRepository>;
