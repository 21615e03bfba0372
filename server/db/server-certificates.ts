// The `server_certificates` table: the broker certificates the CA signed.
import type { Db } from './database.js';

export interface ServerCertificateRow {
  id: number;
  serial: string;
  names: string;
  fingerprint_sha256: string;
  pem: string;
  not_before: string;
  not_after: string;
  issued_by: string;
  issued_at: string;
  status: 'active' | 'revoked';
  revoked_at: string | null;
  revocation_reason: string | null;
  revoked_by: string | null;
}

export type NewServerCertificate = Pick<
  ServerCertificateRow,
  'serial' | 'names' | 'fingerprint_sha256' | 'pem' | 'not_before' | 'not_after' | 'issued_by' | 'issued_at'
>;

export function serverCertificatesRepository(db: Db) {
  const insert = db.prepare<NewServerCertificate>(
    `INSERT INTO server_certificates (serial, names, fingerprint_sha256, pem, not_before, not_after, issued_by, issued_at)
     VALUES (@serial, @names, @fingerprint_sha256, @pem, @not_before, @not_after, @issued_by, @issued_at)`,
  );
  const all = db.prepare<[], ServerCertificateRow>('SELECT * FROM server_certificates ORDER BY id DESC LIMIT 100');
  const byId = db.prepare<[number], ServerCertificateRow>('SELECT * FROM server_certificates WHERE id = ?');
  const bySerial = db.prepare<[string], ServerCertificateRow>('SELECT * FROM server_certificates WHERE serial = ?');
  const revoke = db.prepare<[string, string, string, number]>(
    `UPDATE server_certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, revoked_by = ?
     WHERE id = ? AND status = 'active'`,
  );
  const revoked = db.prepare<[], { serial: string; revoked_at: string; revocation_reason: string }>(
    `SELECT serial, revoked_at, revocation_reason FROM server_certificates WHERE status = 'revoked' ORDER BY revoked_at`,
  );
  const revokedMark = db.prepare<[], { n: number; last: string | null }>(
    `SELECT count(*) AS n, max(revoked_at) AS last FROM server_certificates WHERE status = 'revoked'`,
  );
  return {
    insert: (row: NewServerCertificate) => Number(insert.run(row).lastInsertRowid),
    recent: () => all.all(),
    find: (id: number) => byId.get(id),
    findBySerial: (serial: string) => bySerial.get(serial),
    revoke: (id: number, at: Date, reason: string, by: string) =>
      revoke.run(at.toISOString(), reason, by, id).changes === 1,
    revokedEntries: () => revoked.iterate(),
    /** Size and newest revocation of the revoked set: changes whenever it grows. */
    revokedMark: () => {
      const row = revokedMark.get()!;
      return `${row.n}@${row.last ?? ''}`;
    },
  };
}
export type ServerCertificatesRepository = ReturnType<typeof serverCertificatesRepository>;
