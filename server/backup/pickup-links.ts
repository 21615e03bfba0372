// A restore must not make a used pickup link usable again. The backup predates whatever was
// redeemed after it, and, unlike a revocation (which the replaced folder's CRL keeps, carry.ts),
// nothing outside the database records a redemption. So every link that could still mint a
// certificate in the restored database, open or interrupted at its redemption, is cancelled and
// audited, and the restore says how many: an admin sends again (Resend: a new link and code) those
// a person still needs.
import type { Db } from '../db/database.js';
import { auditedTransactions, auditRepository } from '../db/audit.js';
import { invitationsRepository } from '../db/invitations.js';

/** Cancels the restored database's usable links; returns how many. */
export function cancelUsableLinks(db: Db, now: Date): number {
  const invitations = invitationsRepository(db);
  let cancelled = 0;
  auditedTransactions(db, auditRepository(db))(now, (audit) => {
    for (const row of invitations.usable(now)) {
      if (!invitations.transition(row.id, row.state, 'cancelled', now)) continue;
      cancelled++;
      audit({
        actor: 'system',
        action: 'invite-cancel',
        subject: `invitation:${row.id}`,
        outcome: 'success',
        detail: `${row.username}${row.device ? ` (${row.device})` : ''}: restored from a backup, which cannot tell whether the link was used after it`,
      });
    }
  });
  return cancelled;
}
