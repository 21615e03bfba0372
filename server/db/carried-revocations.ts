// The `carried_revocations` table (migration 012): serials a restore found revoked in the CRL it
// replaced but unknown to the restored database. They stay in every CRL; nothing else reads them.
import type { RevokedEntry } from '../pki/crl.js';
import type { RevokedRow } from './certificates.js';
import type { Db } from './database.js';

export function carriedRevocationsRepository(db: Db) {
  const add = db.prepare<[string, string, string, string]>(
    `INSERT INTO carried_revocations (serial, revoked_at, reason, carried_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (serial) DO NOTHING`,
  );
  const all = db.prepare<[], RevokedRow>(
    'SELECT serial, revoked_at, reason AS revocation_reason FROM carried_revocations ORDER BY revoked_at',
  );
  const mark = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM carried_revocations');
  // A probe of the broker link's (revoked from birth, in every CRL while it is valid): not the restore's to carry.
  const probe = db.prepare<[string], { serial: string }>('SELECT serial FROM broker_probes WHERE serial = ?');
  return {
    /** Inside the restore's transaction; returns whether the serial was new here. */
    add: (entry: RevokedEntry, at: Date) =>
      add.run(entry.serial, entry.revokedAt.toISOString(), entry.reason, at.toISOString()).changes === 1,
    entries: () => all.iterate(),
    /** Changes whenever a serial is added (they are never removed). */
    mark: () => `${mark.get()!.n}`,
    isProbe: (serial: string) => probe.get(serial) !== undefined,
  };
}
