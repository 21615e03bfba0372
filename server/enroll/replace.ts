// Replacing a certificate: a new key and certificate for the same person and device, mailed; the
// old one is revoked as superseded only after the new mail went out.
import type { Actor, EnrollContext } from './context.js';
import type { Publication } from './crl-publisher.js';
import { caDaysLeft, issueCertificate, type IssueOutcome } from './issue.js';
import { revokeCertificate } from './revoke.js';

const DAY_MS = 86400_000;

export type ReplaceOutcome =
  | { ok: true; issued: Extract<IssueOutcome, { ok: true }>; publication: Publication }
  | { ok: false; reason: 'not-found' | 'not-active' }
  | Extract<IssueOutcome, { ok: false }>;

export async function replaceCertificate(ctx: EnrollContext, id: number, actor: Actor): Promise<ReplaceOutcome> {
  const old = ctx.certificates.find(id);
  if (!old) return { ok: false, reason: 'not-found' };
  if (old.status !== 'active') return { ok: false, reason: 'not-active' };
  const lifetime = Math.round((Date.parse(old.not_after) - Date.parse(old.not_before)) / DAY_MS);
  const issued = await issueCertificate(
    ctx,
    {
      username: old.username,
      email: old.email,
      device: old.device,
      days: Math.min(Math.max(lifetime, 1), 3650, caDaysLeft(ctx)), // never beyond the CA's own expiry
      keyBits: old.key_bits,
      format: old.bundle_format,
      passphrase: undefined,
      changeEmail: false,
    },
    actor,
  );
  if (!issued.ok) return issued; // the old certificate stays active: the person still has only it
  const revoked = await revokeCertificate(ctx, id, 'superseded', actor);
  if (!revoked.ok) return { ok: false, reason: 'not-active' };
  return { ok: true, issued, publication: revoked.publication };
}
