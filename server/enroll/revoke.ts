// Revoking certificates: status, time, reason and audit row in one transaction; then the bundle's
// outbox message goes, and a new CRL. A CRL that cannot be published does not undo the
// revocation: it is retried until it succeeds. With a broker link, the device is then disconnected:
// the kick is queued in the revocation's transaction, a probe certificate rides in the same CRL, and
// the kick is carried out once the broker refuses that probe (server/broker/access.ts).
import type { KickReport } from '../broker/access.js';
import { removeOutboxMessages } from '../mail/transport.js';
import { failed, ok, type Failed, type Ok } from '../outcome.js';
import type { RevocationReason } from '../pki/crl.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import type { PublicationResult } from './crl-publisher.js';

export type { KickReport };

export type Revoked = Ok<{
  serial: string;
  publication: PublicationResult;
  /** What became of the device's connection; undefined without a broker link. */
  kick: KickReport | undefined;
}>;
export type RevokeOutcome = Revoked | Failed<'not-found' | 'already-revoked'>;

type RevokeDeps = Pick<EnrollDeps, 'now' | 'audited' | 'certificates' | 'invitations' | 'crl' | 'files' | 'broker'>;

export async function revokeCertificate(
  ctx: RevokeDeps,
  id: number,
  reason: RevocationReason,
  actor: Actor,
): Promise<RevokeOutcome> {
  const existing = ctx.certificates.find(id);
  if (!existing) return failed('not-found');
  const changed = ctx.audited(ctx.now(), (audit) => {
    if (!ctx.certificates.revoke(id, ctx.now(), reason, actor.name)) return false;
    audit({
      ...by(actor),
      action: 'revoke',
      subject: `certificate:${id}`,
      outcome: 'success',
      detail: `${existing.username}, serial ${existing.serial}, ${reason}`,
    });
    ctx.broker?.queueKick(existing.username, id, ctx.now());
    // A bundle made at a link's redemption and not downloaded yet (held in memory, which hands out
    // only an active certificate's): it never leaves now, and the link must not open again when the
    // hold lapses or at the next start, or its old token and code would mint anew. A link whose
    // bundle was picked up stays as it was: used.
    const link = existing.delivery === 'pending' ? ctx.invitations.forCertificate(id) : undefined;
    if (link?.state === 'redeemed' && ctx.invitations.transition(link.id, 'redeemed', 'cancelled', ctx.now())) {
      ctx.certificates.setDelivery(id, 'failed', 'revoked before its bundle was picked up');
      audit({
        ...by(actor),
        action: 'invite-cancel',
        subject: `invitation:${link.id}`,
        outcome: 'success',
        detail: `${existing.username}${existing.device ? ` (${existing.device})` : ''}: its certificate was revoked`,
      });
    }
    return true;
  });
  if (!changed) return failed('already-revoked');
  // A revoked certificate's bundle has no use left: no admin can forward it any more (Replace
  // mails a new one). A file that cannot be removed now goes with the retention prune.
  try {
    removeOutboxMessages(ctx.files.outbox, existing.serial);
  } catch {
    /* removed by age at the latest */
  }
  // The CRL must be in force before the kick: the probe that will show it is listed in this CRL.
  await ctx.broker?.prepareProbe();
  const publication = await ctx.crl.publishOrRetry(actor.name, `revoked ${existing.serial}`);
  const kick = ctx.broker ? await ctx.broker.enforce() : undefined;
  return ok({ serial: existing.serial, publication, kick });
}

/**
 * At start: a certificate still `pending` was signed but never delivered (the process died
 * between recording and mailing it). Its key is gone, so it is revoked as undelivered.
 */
export function revokeUndelivered(ctx: Pick<EnrollDeps, 'now' | 'audited' | 'certificates'>): number {
  const pending = ctx.certificates.pending();
  let revoked = 0;
  ctx.audited(ctx.now(), (audit) => {
    for (const certificate of pending) {
      // Revoked already (by a path that left it pending): audited then, and not for this reason.
      if (!ctx.certificates.revoke(certificate.id, ctx.now(), 'cessationOfOperation', 'system')) {
        ctx.certificates.setDelivery(certificate.id, 'failed', 'revoked before it was delivered');
        continue;
      }
      ctx.certificates.setDelivery(certificate.id, 'failed', 'the portal stopped before the mail was sent');
      revoked++;
      audit({
        actor: 'system',
        action: 'revoke',
        subject: `certificate:${certificate.id}`,
        outcome: 'success',
        detail: `${certificate.username}, serial ${certificate.serial}: undelivered at restart`,
      });
    }
  });
  return revoked;
}
