// The `device_presence` table: when the portal last saw a message from a person's device on the
// broker, and when the broker last published that app's last will. Only for a (user, device) that a
// certificate names: `devicesAfter` lists them (the recorder keeps them in memory and answers from
// there which row a topic's user and device belong to, or nothing).
import { withoutWaitingForDisk, type Db } from './database.js';

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

export interface CertifiedDevice {
  certificateId: number;
  userId: number;
  username: string;
  /** null for a certificate without a device name. */
  device: string | null;
}

export interface PresenceWrite extends PresenceKey {
  lastMessageAt: string | null;
  lastWillAt: string | null;
}

export function presenceRepository(db: Db) {
  // Revoked and expired certificates count: a phone may still be connected. By id, so the recorder can
  // ask for the ones added since it last looked.
  const devicesAfter = db.prepare<
    [number, number],
    { certificate_id: number; user_id: number; username: string; device: string | null }
  >(
    `SELECT c.id AS certificate_id, c.user_id, u.username, c.device
       FROM certificates c JOIN users u ON u.id = c.user_id
      WHERE c.id > ? ORDER BY c.id LIMIT ?`,
  );
  // Times only move forward: a late write (a flush after a restart) never takes one back. Nothing is
  // written for a deleted person: the recorder may still hold times of theirs (or hear a device
  // before its kick lands), and deleting erased them.
  const upsert = db.prepare<PresenceWrite>(
    `INSERT INTO device_presence (user_id, device, last_message_at, last_will_at)
     SELECT @userId, @device, @lastMessageAt, @lastWillAt
      WHERE EXISTS (SELECT 1 FROM users WHERE id = @userId AND deleted_at IS NULL)
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
    /** Certificates' persons and devices with an id above `afterId`, in id order, at most `limit`. */
    devicesAfter(afterId: number, limit: number): CertifiedDevice[] {
      return devicesAfter.all(afterId, limit).map((row) => ({
        certificateId: row.certificate_id,
        userId: row.user_id,
        username: row.username,
        device: row.device,
      }));
    },
    /**
     * Writes a batch in one transaction, without waiting for the disk (database.ts): these last-seen
     * times are hints. Syncing instead held the event loop for each step of a sweep (1-20 ms per
     * fsync on a busy disk).
     */
    write(rows: PresenceWrite[]) {
      withoutWaitingForDisk(db, () => writeAll(rows));
    },
    find(key: PresenceKey): PresenceTimes | undefined {
      const row = byKey.get(key.userId, key.device);
      return row && { lastMessageAt: row.last_message_at, lastWillAt: row.last_will_at };
    },
  };
}
