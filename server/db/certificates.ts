// The `certificates` table: every certificate the CA signed, stored before it leaves the process.
import type { Db } from './database.js';

export type CertificateStatus = 'active' | 'revoked';
export type Delivery = 'pending' | 'sent' | 'picked_up' | 'failed';

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
>;

export interface RevokedRow {
  serial: string;
  revoked_at: string;
  revocation_reason: string;
}

export function certificatesRepository(db: Db) {
  const insert = db.prepare<NewCertificate>(
    `INSERT INTO certificates (user_id, serial, device, fingerprint_sha256, pem, key_bits, not_before, not_after,
       bundle_format, issued_by, issued_at)
     VALUES (@user_id, @serial, @device, @fingerprint_sha256, @pem, @key_bits, @not_before, @not_after,
       @bundle_format, @issued_by, @issued_at)`,
  );
  const byId = db.prepare<[number], CertificateView>(
    `SELECT c.*, u.username, u.email FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.id = ?`,
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
  const countForUser = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM certificates WHERE user_id = ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM certificates');

  return {
    insert: (row: NewCertificate): number => Number(insert.run(row).lastInsertRowid),
    find: (id: number) => byId.get(id),
    setDelivery: (id: number, delivery: Delivery, error: string | null = null) =>
      void setDelivery.run(delivery, error, id),
    /** Returns false when the certificate was not active (already revoked, or unknown). */
    revoke: (id: number, at: Date, reason: string, by: string) =>
      revoke.run(at.toISOString(), reason, by, id).changes === 1,
    pending: () => pending.all(),
    /** Every revoked certificate, streamed: the CRL can hold 100,000 of them. */
    revokedEntries: () => revoked.iterate(),
    countForUser: (userId: number) => countForUser.get(userId)!.n,
    count: () => count.get()!.n,
  };
}
export type CertificatesRepository = ReturnType<typeof certificatesRepository>;
