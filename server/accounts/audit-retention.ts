// Audit retention (AUDIT_RETENTION_DAYS): rows older than the retention are deleted, by the daily job
// or `npm run admin -- prune-audit`, and each prune is itself audited. Unset: the log is kept for ever.
import type { AuditedTransaction, AuditRepository } from '../db/audit.js';
import { failed, ok, type Failed, type Ok } from '../outcome.js';
import type { AccountActor } from './admins.js';

export interface AuditRetentionDeps {
  retentionDays: number | undefined;
  audit: Pick<AuditRepository, 'prune'>;
  audited: AuditedTransaction;
  now: () => Date;
}

export type AuditPruned = Ok<{ removed: number; before: Date }> | Failed<'no-retention'>;

export function pruneAudit(deps: AuditRetentionDeps, actor: AccountActor): AuditPruned {
  if (deps.retentionDays === undefined) return failed('no-retention');
  const now = deps.now();
  const before = new Date(now.getTime() - deps.retentionDays * 86400_000);
  return deps.audited(now, (audit) => {
    const removed = deps.audit.prune(before);
    audit({
      actor: actor.name,
      action: 'audit-pruned',
      outcome: 'success',
      detail: `${removed} row(s) older than ${before.toISOString()} removed (AUDIT_RETENTION_DAYS=${deps.retentionDays})`,
      ip: actor.ip ?? null,
    });
    return ok({ removed, before });
  });
}

/** How often the job runs. */
export const AUDIT_PRUNE_INTERVAL_MS = 24 * 3600_000;
