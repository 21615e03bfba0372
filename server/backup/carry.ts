// A restore must not undo revocations. The backup predates whatever was revoked after it, and the
// CRL in the folder being replaced is the only record of those revocations: a restore that dropped
// it let revoked phones back in (and reused CRL numbers). So before the folder is replaced, its CRL
// (checked against the CA, which must be the archive's) is read, and the restored database is made
// to agree with it: certificates it knows that the CRL lists are revoked as listed, serials it does
// not know (issued after the backup) are carried over so that every CRL keeps them, and CRL numbers
// go on above the replaced CRL's.
import { X509Certificate } from 'node:crypto';
import type { Db } from '../db/database.js';
import { auditedTransactions, auditRepository } from '../db/audit.js';
import { carriedRevocationsRepository } from '../db/carried-revocations.js';
import { certificatesRepository } from '../db/certificates.js';
import { serverCertificatesRepository } from '../db/server-certificates.js';
import { settingsRepository } from '../db/settings.js';
import { caCrlChecker } from '../pki/ca.js';
import { isValidCrl, parseCrl } from '../pki/crl.js';

export interface Carried {
  /** Certificates the restored database held as active, revoked as the replaced CRL lists them. */
  revoked: number;
  /** Serials the restored database does not know, kept in every CRL from now on. */
  carried: number;
  /** The replaced CRL's number: the next one is above it. */
  crlNumber: bigint;
}

/**
 * Makes the restored database `db` (at the current schema) agree with `crlPem`, the CRL of the
 * folder being replaced, when `caCertPem` (the archive's CA) signed it; undefined when it did not
 * (another CA's folder, or no CRL worth reading), and nothing is changed.
 */
export function carryRevocations(db: Db, crlPem: string, caCertPem: string, now: Date): Carried | undefined {
  const ca = caCrlChecker(new X509Certificate(caCertPem));
  if (!isValidCrl(crlPem, ca)) return undefined;
  const crl = parseCrl(crlPem);
  const certificates = certificatesRepository(db);
  const serverCertificates = serverCertificatesRepository(db);
  const carried = carriedRevocationsRepository(db);
  const settings = settingsRepository(db);
  const result: Carried = { revoked: 0, carried: 0, crlNumber: crl.crlNumber };
  auditedTransactions(db, auditRepository(db))(now, (audit) => {
    for (const entry of crl.entries) {
      const certificate = certificates.findBySerial(entry.serial);
      const server = certificate ? undefined : serverCertificates.findBySerial(entry.serial);
      const known = certificate ?? server;
      if (known) {
        const revoke = certificate ? certificates.revoke : serverCertificates.revoke;
        if (!revoke(known.id, entry.revokedAt, entry.reason, 'restore')) continue; // revoked in the backup already
        result.revoked++;
        audit({
          actor: 'system',
          action: 'revoke',
          subject: `${certificate ? 'certificate' : 'server-certificate'}:${known.id}`,
          outcome: 'success',
          detail: `serial ${entry.serial}, ${entry.reason}: revoked after the backup this restore came from`,
        });
      } else if (!carried.isProbe(entry.serial) && carried.add(entry, now)) result.carried++;
    }
    if (result.carried)
      audit({
        actor: 'system',
        action: 'restore',
        subject: 'crl',
        outcome: 'success',
        detail: `${result.carried} revoked serial(s) unknown to the backup kept in the CRL (certificates issued after it)`,
      });
    const stored = BigInt(settings.get('crl_number') ?? '0');
    if (crl.crlNumber > stored) settings.put('crl_number', crl.crlNumber.toString());
  });
  return result;
}
