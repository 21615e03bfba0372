// Issuing a certificate: mint, record before release, mail, and revoke what could not be delivered.
import type { BundleFormat } from '../pki/pkcs12.js';
import { generatePassphrase } from '../pki/passphrase.js';
import { enrollmentMessage } from '../mail/enrollment.js';
import type { Actor, EnrollContext } from './context.js';
import type { Publication } from './crl-publisher.js';

export interface IssueRequest {
  username: string;
  email: string;
  device: string | null;
  days: number;
  keyBits: number;
  format: BundleFormat;
  /** Typed by the admin; generated when absent. */
  passphrase: string | undefined;
  /** The user exists with another address and the admin chose to change it. */
  changeEmail: boolean;
}

export type IssueOutcome =
  | { ok: true; certificateId: number; passphrase: string; serial: string; mailResponse: string }
  | { ok: false; reason: 'email-differs'; currentEmail: string }
  | { ok: false; reason: 'outlives-ca'; caDaysLeft: number; caExpires: Date }
  | {
      ok: false;
      reason: 'mail-failed';
      certificateId: number;
      serial: string;
      mailError: string;
      publication: Publication | undefined;
      publishError?: string;
    };

/** Whole days until the CA expires: no certificate it signs may be valid for longer. */
export function caDaysLeft(ctx: Pick<EnrollContext, 'ca' | 'now'>): number {
  return Math.floor((Date.parse(ctx.ca.x509.validTo) - ctx.now().getTime()) / 86400_000);
}

export async function issueCertificate(ctx: EnrollContext, request: IssueRequest, actor: Actor): Promise<IssueOutcome> {
  // A certificate cannot outlive the CA that signed it: clients would refuse it once the CA expires.
  const daysLeft = caDaysLeft(ctx);
  if (request.days > daysLeft)
    return { ok: false, reason: 'outlives-ca', caDaysLeft: daysLeft, caExpires: new Date(ctx.ca.x509.validTo) };

  const existing = ctx.users.find(request.username);
  if (existing && existing.email !== request.email && !request.changeEmail) {
    return { ok: false, reason: 'email-differs', currentEmail: existing.email };
  }

  const passphrase = request.passphrase ?? generatePassphrase();
  const bundle = await ctx.minter.mint({
    username: request.username,
    device: request.device,
    days: request.days,
    keyBits: request.keyBits,
    format: request.format,
    passphrase,
    now: ctx.now(),
  });

  // Composed before recording: a message that cannot be built leaves nothing pending.
  const message = enrollmentMessage({
    from: ctx.config.mailFrom,
    to: request.email,
    username: request.username,
    device: request.device,
    pkcs12: bundle.pkcs12,
    caCertPem: ctx.ca.certPem,
    caCertDer: ctx.ca.certDer,
    mqtt: ctx.config.mqtt,
  });

  // Record before release: the certificate is listed (and revocable) before any copy leaves.
  const at = ctx.now();
  const certificateId = ctx.db.transaction(() => {
    let user = ctx.users.find(request.username);
    if (!user) {
      user = ctx.users.create(request.username, request.email, at);
    } else if (user.email !== request.email) {
      ctx.audit.record(
        {
          actor: actor.name,
          action: 'email-change',
          subject: `user:${user.username}`,
          outcome: 'success',
          detail: `${user.email} → ${request.email}`,
          ip: actor.ip,
        },
        at,
      );
      ctx.users.setEmail(user.id, request.email);
    }
    const id = ctx.certificates.insert({
      user_id: user.id,
      serial: bundle.serial,
      device: request.device,
      fingerprint_sha256: bundle.fingerprint,
      pem: bundle.certPem,
      key_bits: request.keyBits,
      not_before: bundle.notBefore.toISOString(),
      not_after: bundle.notAfter.toISOString(),
      bundle_format: request.format,
      issued_by: actor.name,
      issued_at: at.toISOString(),
    });
    ctx.audit.record(
      {
        actor: actor.name,
        action: 'issue',
        subject: `certificate:${id}`,
        outcome: 'success',
        detail: `${request.username}${request.device ? ` (${request.device})` : ''}, serial ${bundle.serial}, RSA ${request.keyBits}, ${request.format}, ${request.days} days`,
        ip: actor.ip,
      },
      at,
    );
    return id;
  })();

  try {
    const sent = await ctx.mailer.send(message);
    ctx.db.transaction(() => {
      ctx.certificates.setDelivery(certificateId, 'sent');
      ctx.audit.record(
        {
          actor: actor.name,
          action: 'mail',
          subject: `certificate:${certificateId}`,
          outcome: 'success',
          detail: `to ${request.email}: ${sent.response}`.slice(0, 500),
          ip: actor.ip,
        },
        ctx.now(),
      );
    })();
    return { ok: true, certificateId, passphrase, serial: bundle.serial, mailResponse: sent.response };
  } catch (error) {
    // Nothing undelivered stays active: its key is gone with this request.
    const mailError = describeMailError(error);
    const failedAt = ctx.now();
    ctx.db.transaction(() => {
      ctx.certificates.setDelivery(certificateId, 'failed', mailError);
      ctx.certificates.revoke(certificateId, failedAt, 'cessationOfOperation', 'system');
      ctx.audit.record(
        {
          actor: actor.name,
          action: 'mail',
          subject: `certificate:${certificateId}`,
          outcome: 'failure',
          detail: `to ${request.email}: ${mailError}`.slice(0, 500),
          ip: actor.ip,
        },
        failedAt,
      );
      ctx.audit.record(
        {
          actor: 'system',
          action: 'revoke',
          subject: `certificate:${certificateId}`,
          outcome: 'success',
          detail: `${request.username}, serial ${bundle.serial}: mail failed`,
        },
        failedAt,
      );
    })();
    try {
      const publication = await ctx.crl.publish('system', `undelivered ${bundle.serial}`);
      return { ok: false, reason: 'mail-failed', certificateId, serial: bundle.serial, mailError, publication };
    } catch (publishError) {
      return {
        ok: false,
        reason: 'mail-failed',
        certificateId,
        serial: bundle.serial,
        mailError,
        publication: undefined,
        publishError: String((publishError as Error).message),
      };
    }
  }
}

/** What the mail server said, in one line the admin can act on. */
function describeMailError(error: unknown): string {
  const failure = error as { code?: string; response?: string; message?: string };
  const text = failure.response ?? failure.message ?? String(error);
  return `${failure.code ? `${failure.code}: ` : ''}${text}`.replace(/\s+/g, ' ').trim().slice(0, 300);
}
