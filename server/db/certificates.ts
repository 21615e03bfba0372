// The `certificates` table: every certificate the CA signed, stored before it leaves the process.
import type { Db } from './database.js';

export type CertificateStatus = 'active' | 'revoked';
/** DESIGN.md: `sent` = an SMTP server accepted it; `outbox` = written there, `forwarded` once an admin says so. */
export type Delivery = 'pending' | 'sent' | 'outbox' | 'forwarded' | 'picked_up' | 'failed';
/**
 * Deliveries that certainly did not reach the person: a pickup bundle not downloaded (or a mail not
 * sent yet), and a failed one. Such a certificate is never "connected", whoever publishes on its
 * device's topic (enroll/presence.ts, and the list's "issued but never connected"). A bundle in the
 * outbox may have been handed over without the admin marking it forwarded, so it is not among them.
 */
export const UNDELIVERED: readonly Delivery[] = ['pending', 'failed'];

/** SQL for when the certificate row `alias` ends: its revocation if before its expiry, else its expiry. */
export const CERTIFICATE_END = (alias: string) =>
  `CASE WHEN ${alias}.revoked_at IS NOT NULL AND ${alias}.revoked_at < ${alias}.not_after THEN ${alias}.revoked_at ELSE ${alias}.not_after END`;

export interface CertificateRow {
  id: number;
  user_id: number;
  serial: string;
  device: string | null;
  fingerprint_sha256: string;
  pem: string;
  key_bits: number;
  not_before: string;
  not_after: string;
  bundle_format: 'compatible' | 'modern';
  status: CertificateStatus;
  delivery: Delivery;
  delivery_error: string | null;
  issued_by: string;
  issued_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
  revoked_by: string | null;
  /** The certificate this one supersedes once it is forwarded (a Replace whose bundle went to the outbox). */
  replaces: number | null;
}

/** A certificate with its user's name and address, as pages show it. */
export interface CertificateView extends CertificateRow {
  username: string;
  email: string;
}

export type NewCertificate = Pick<
  CertificateRow,
  | 'user_id'
  | 'serial'
  | 'device'
  | 'fingerprint_sha256'
  | 'pem'
  | 'key_bits'
  | 'not_before'
  | 'not_after'
  | 'bundle_format'
  | 'issued_by'
  | 'issued_at'
> &
  Partial<Pick<CertificateRow, 'replaces'>>;

export interface ActiveDevice {
  id: number;
  device: string | null;
  serial: string;
}

export interface RevokedRow {
  serial: string;
  revoked_at: string;
  revocation_reason: string;
}

export function certificatesRepository(db: Db) {
  const insert = db.prepare<NewCertificate>(
    `INSERT INTO certificates (user_id, serial, device, fingerprint_sha256, pem, key_bits, not_before, not_after,
       bundle_format, issued_by, issued_at, replaces)
     VALUES (@user_id, @serial, @device, @fingerprint_sha256, @pem, @key_bits, @not_before, @not_after,
       @bundle_format, @issued_by, @issued_at, @replaces)`,
  );
  const bySerial = db.prepare<[string], CertificateView>(
    `SELECT c.*, u.username, u.email FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.serial = ?`,
  );
  const markForwarded = db.prepare<[number]>(
    "UPDATE certificates SET delivery = 'forwarded' WHERE id = ? AND delivery = 'outbox'",
  );
  const byId = db.prepare<[number], CertificateView>(
    `SELECT c.*, u.username, u.email FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.id = ?`,
  );
  const endOf = db.prepare<[number], { end: string }>(
    `SELECT ${CERTIFICATE_END('certificates')} AS end FROM certificates WHERE id = ?`,
  );
  const setDelivery = db.prepare<[Delivery, string | null, number]>(
    'UPDATE certificates SET delivery = ?, delivery_error = ? WHERE id = ?',
  );
  const revoke = db.prepare<[string, string, string, number]>(
    `UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, revoked_by = ?
     WHERE id = ? AND status = 'active'`,
  );
  const pending = db.prepare<[], CertificateView>(
    `SELECT c.*, u.username, u.email FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.delivery = 'pending'`,
  );
  const revoked = db.prepare<[], RevokedRow>(
    `SELECT serial, revoked_at, revocation_reason FROM certificates WHERE status = 'revoked' ORDER BY revoked_at`,
  );
  // The revoked set only grows (a certificate is never un-revoked or deleted), so its size and newest
  // revocation time tell whether it changed since the CRL was built; the partial index answers it.
  const revokedMark = db.prepare<[], { n: number; last: string | null }>(
    `SELECT count(*) AS n, max(revoked_at) AS last FROM certificates WHERE status = 'revoked'`,
  );
  const activeForUser = db.prepare<[number, string], ActiveDevice>(
    `SELECT id, device, serial FROM certificates
     WHERE user_id = ? AND status = 'active' AND not_after > ? ORDER BY id`,
  );
  // Only certificates listed by migration 006 can collide: issuing has refused collisions since.
  // CROSS JOIN keeps that short list the outer loop: without statistics SQLite would otherwise walk
  // every active certificate and look each one up in it (9 ms a list page at 100,000 rows).
  const collisions = db.prepare<[string], { username: string; device: string; ids: string }>(
    `SELECT u.username, coalesce(c.device, 'phone') AS device, group_concat(c.id) AS ids
     FROM device_collisions d CROSS JOIN certificates c ON c.id = d.certificate_id JOIN users u ON u.id = c.user_id
     WHERE c.status = 'active' AND c.not_after > ?
     GROUP BY c.user_id, coalesce(c.device, 'phone') HAVING count(*) > 1
     ORDER BY u.username, 2`,
  );
  const forUser = db.prepare<[number], CertificateView>(
    `SELECT c.*, u.username, u.email FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.user_id = ? ORDER BY c.id`,
  );
  const countForUser = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM certificates WHERE user_id = ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM certificates');

  return {
    insert: (row: NewCertificate): number => Number(insert.run({ replaces: null, ...row }).lastInsertRowid),
    find: (id: number) => byId.get(id),
    findBySerial: (serial: string) => bySerial.get(serial),
    /** When a certificate ended or ends: its revocation, or its expiry (which may lie ahead). */
    endOf: (id: number) => endOf.get(id)?.end,
    /** Outbox mail an admin forwarded; false unless it was in the outbox. */
    markForwarded: (id: number) => markForwarded.run(id).changes === 1,
    setDelivery: (id: number, delivery: Delivery, error: string | null = null) =>
      void setDelivery.run(delivery, error, id),
    /** Returns false when the certificate was not active (already revoked, or unknown). */
    revoke: (id: number, at: Date, reason: string, by: string) =>
      revoke.run(at.toISOString(), reason, by, id).changes === 1,
    pending: () => pending.all(),
    /** Every revoked certificate, streamed: the CRL can hold 100,000 of them. */
    revokedEntries: () => revoked.iterate(),
    /** A cheap summary of the revoked set (size and newest revocation) that changes whenever it grows. */
    revokedMark: () => {
      const row = revokedMark.get()!;
      return `${row.n}@${row.last ?? ''}`;
    },
    /** A person's certificates that are active and unexpired: the devices they hold now. */
    activeForUser: (userId: number, now: Date) => activeForUser.all(userId, now.toISOString()),
    /** People with two or more active certificates for one device (a device without a name is `phone`). */
    deviceCollisions: (now: Date) =>
      collisions.all(now.toISOString()).map((row) => ({ ...row, ids: row.ids.split(',').map(Number) })),
    countForUser: (userId: number) => countForUser.get(userId)!.n,
    /** Every certificate of one person, oldest first. */
    forUser: (userId: number) => forUser.all(userId),
    count: () => count.get()!.n,
  };
}
export type CertificatesRepository = ReturnType<typeof certificatesRepository>;
