// Marking outbox mail forwarded: the admin says the bundle left the outbox for the person. A
// Replace whose bundle went to the outbox revokes its predecessor here, once the new one is out.
import { failed, ok, type Failed, type Ok } from '../outcome.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import type { PublicationResult } from './crl-publisher.js';
import { revokeCertificate } from './revoke.js';

export type ForwardOutcome =
  | Ok<{ superseded: { serial: string; publication: PublicationResult } | undefined }>
  | Failed<'not-found' | 'not-in-outbox'>;

export async function markForwarded(ctx: EnrollDeps, id: number, actor: Actor): Promise<ForwardOutcome> {
  const certificate = ctx.certificates.find(id);
  if (!certificate) return failed('not-found');
  // A revoked certificate's message is gone from the outbox: nothing is left to forward.
  if (certificate.status !== 'active') return failed('not-in-outbox');
  const marked = ctx.audited(ctx.now(), (audit) => {
    if (!ctx.certificates.markForwarded(id)) return false;
    audit({
      ...by(actor),
      action: 'forward',
      subject: `certificate:${id}`,
      outcome: 'success',
      detail: `${certificate.username}${certificate.device ? ` (${certificate.device})` : ''}, serial ${certificate.serial}, to ${certificate.email}`,
    });
    return true;
  });
  if (!marked) return failed('not-in-outbox');
  // The predecessor of a Replace goes now.
  const predecessor = certificate.replaces === null ? undefined : ctx.certificates.find(certificate.replaces);
  if (!predecessor || predecessor.status !== 'active') return ok({ superseded: undefined });
  const revoked = await revokeCertificate(ctx, predecessor.id, 'superseded', actor);
  return ok({ superseded: revoked.ok ? { serial: revoked.serial, publication: revoked.publication } : undefined });
}
