// Replacing a certificate: a new key and certificate for the same person and device, mailed; the
// old one is revoked once the new bundle reached the person: at once when an SMTP server accepted
// it, when an admin marks it forwarded when it went to the outbox (see forward.ts). A compromised
// key is revoked at once whatever happens to the new bundle.
import { failed, ok, type Failed, type Ok } from '../outcome.js';
import type { Actor, EnrollDeps } from './context.js';
import type { PublicationResult } from './crl-publisher.js';
import { caDaysLeft, issueCertificate, type IssueOutcome, type Issued } from './issue.js';
import { revokeCertificate } from './revoke.js';
import { CLIENT_MAX_DAYS, deviceOf } from './rules.js';

const DAY_MS = 86400_000;

/** Why a certificate is replaced: routine (renewal, a new phone), or because its key got out. */
export type ReplaceReason = 'superseded' | 'keyCompromise';

export type ReplaceOutcome =
  | Ok<{
      issued: Issued;
      oldSerial: string;
      /**
       * The old certificate's revocation: its CRL; `already-revoked` when someone else revoked it
       * meanwhile; `awaiting-forward` while the new bundle waits in the outbox.
       */
      superseded: PublicationResult | Failed<'already-revoked' | 'awaiting-forward'>;
    }>
  | Failed<'not-found' | 'not-active'>
  | (Exclude<IssueOutcome, { ok: true }> & {
      /** Set when the key was compromised: the old certificate was revoked all the same (its CRL). */
      compromisedRevoked?: PublicationResult | Failed<'already-revoked'>;
    });

export async function replaceCertificate(
  ctx: EnrollDeps,
  id: number,
  actor: Actor,
  reason: ReplaceReason = 'superseded',
): Promise<ReplaceOutcome> {
  const old = ctx.certificates.find(id);
  if (!old) return failed('not-found');
  if (old.status !== 'active') return failed('not-active');
  const lifetime = Math.round((Date.parse(old.not_after) - Date.parse(old.not_before)) / DAY_MS);
  // A key that got out is revoked whatever becomes of its successor (the confirmation page says
  // so): a refusal below, and a failure that throws (a minting thread gone, the database) alike.
  const revokeCompromised = () => revokeCertificate(ctx, id, reason, actor);
  const issuing = issueCertificate(
    ctx,
    {
      username: old.username,
      email: old.email,
      device: deviceOf(old.device), // the same device; an older row without a name is `phone`
      // Never beyond the CA's own expiry; under a day left, the issue says so (outlives-ca).
      days: Math.max(Math.min(lifetime, CLIENT_MAX_DAYS, caDaysLeft(ctx)), 1),
      keyBits: old.key_bits,
      format: old.bundle_format,
      changeEmail: false,
      replaces: old.id, // the one active certificate of this device that may stay until it is revoked below
    },
    actor,
    { replaces: id },
  );
  let issued: Awaited<typeof issuing>;
  try {
    issued = await issuing;
  } catch (error) {
    if (reason === 'keyCompromise') await revokeCompromised();
    throw error;
  }
  if (!issued.ok) {
    if (reason !== 'keyCompromise') return issued; // the old certificate stays active: the person still has only it
    const revoked = await revokeCompromised();
    return { ...issued, compromisedRevoked: revoked.ok ? revoked.publication : failed('already-revoked') };
  }
  if (issued.delivery === 'outbox' && reason !== 'keyCompromise')
    return ok({ issued, oldSerial: old.serial, superseded: failed('awaiting-forward') });
  // The new bundle is on its way: whatever happened to the old certificate meanwhile (a revoke
  // racing this replace), the new passphrase must reach the admin.
  const revoked = await revokeCertificate(ctx, id, reason, actor);
  return ok({
    issued,
    oldSerial: old.serial,
    superseded: revoked.ok ? revoked.publication : failed('already-revoked'),
  });
}
