// Revoking certificates: one transaction for status, time, reason and audit row; then a new CRL.
import type { RevocationReason } from '../pki/crl.js';
import type { Actor, EnrollContext } from './context.js';
import type { Publication } from './crl-publisher.js';

export type RevokeOutcome =
  | { ok: true; publication: Publication }
  | { ok: false; reason: 'not-found' | 'already-revoked' };

export async function revokeCertificate(
  ctx: EnrollContext,
  id: number,
  reason: RevocationReason,
  actor: Actor,
): Promise<RevokeOutcome> {
  const existing = ctx.certificates.find(id);
  if (!existing) return { ok: false, reason: 'not-found' };
  const at = ctx.now();
  const changed = ctx.db.transaction(() => {
    if (!ctx.certificates.revoke(id, at, reason, actor.name)) return false;
    ctx.audit.record(
      {
        actor: actor.name,
        action: 'revoke',
        subject: `certificate:${id}`,
        outcome: 'success',
        detail: `${existing.username}, serial ${existing.serial}, ${reason}`,
        ip: actor.ip,
      },
      at,
    );
    return true;
  })();
  if (!changed) return { ok: false, reason: 'already-revoked' };
  return { ok: true, publication: await ctx.crl.publish(actor.name, `revoked ${existing.serial}`) };
}

/**
 * At start: a certificate still `pending` was signed but never delivered (the process died
 * between recording and mailing it). Its key is gone, so it is revoked as undelivered.
 */
export function revokeUndelivered(ctx: EnrollContext): number {
  const pending = ctx.certificates.pending();
  const at = ctx.now();
  ctx.db.transaction(() => {
    for (const certificate of pending) {
      ctx.certificates.setDelivery(certificate.id, 'failed', 'the portal stopped before the mail was sent');
      ctx.certificates.revoke(certificate.id, at, 'cessationOfOperation', 'system');
      ctx.audit.record(
        {
          actor: 'system',
          action: 'revoke',
          subject: `certificate:${certificate.id}`,
          outcome: 'success',
          detail: `${certificate.username}, serial ${certificate.serial}: undelivered at restart`,
        },
        at,
      );
    }
  })();
  return pending.length;
}
