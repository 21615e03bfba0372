// The `device_presence` table: when the portal last saw a message from a person's device on the
// broker, and when the broker last published that app's last will. Only for a (user, device) that a
// certificate names: `resolve` answers which row a topic's user and device belong to, or nothing.
import type { Db } from './database.js';

/** A row's key: the person and the certificate's device ('' for certificates without a device name). */
export interface PresenceKey {
  userId: number;
  device: string;
}

export interface PresenceTimes {
  /** ISO 8601 UTC; null when never seen. */
  lastMessageAt: string | null;
  lastWillAt: string | null;
}

export interface PresenceWrite extends PresenceKey {
  lastMessageAt: string | null;
  lastWillAt: string | null;
}

export function presenceRepository(db: Db) {
  // A device a certificate names wins; otherwise the person's certificate without a device name, whatever
  // deviceId that app chose. Revoked and expired certificates count: a phone may still be connected.
  const resolve = db.prepare<[string, string], { user_id: number; device: string }>(
    `SELECT u.id AS user_id, coalesce(c.device, '') AS device
       FROM users u JOIN certificates c ON c.user_id = u.id
      WHERE u.username = ? AND (c.device = ? OR c.device IS NULL)
      ORDER BY c.device IS NULL LIMIT 1`,
  );
  // Times only move forward: a late write (a flush after a restart) never takes one back.
  const upsert = db.prepare<PresenceWrite>(
    `INSERT INTO device_presence (user_id, device, last_message_at, last_will_at)
     VALUES (@userId, @device, @lastMessageAt, @lastWillAt)
     ON CONFLICT (user_id, device) DO UPDATE SET
       last_message_at = CASE WHEN excluded.last_message_at > coalesce(last_message_at, '')
                              THEN excluded.last_message_at ELSE last_message_at END,
       last_will_at = CASE WHEN excluded.last_will_at > coalesce(last_will_at, '')
                           THEN excluded.last_will_at ELSE last_will_at END`,
  );
  const byKey = db.prepare<[number, string], { last_message_at: string | null; last_will_at: string | null }>(
    'SELECT last_message_at, last_will_at FROM device_presence WHERE user_id = ? AND device = ?',
  );
  const writeAll = db.transaction((rows: PresenceWrite[]) => {
    for (const row of rows) upsert.run(row);
  });

  return {
    /** The row a message on owntracks/<username>/<device> belongs to, or undefined (nothing is recorded). */
    resolve(username: string, device: string): PresenceKey | undefined {
      const row = resolve.get(username, device);
      return row && { userId: row.user_id, device: row.device };
    },
    /** Writes a batch in one transaction. */
    write: (rows: PresenceWrite[]) => void writeAll(rows),
    find(key: PresenceKey): PresenceTimes | undefined {
      const row = byKey.get(key.userId, key.device);
      return row && { lastMessageAt: row.last_message_at, lastWillAt: row.last_will_at };
    },
  };
}
