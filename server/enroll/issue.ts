// Issuing a certificate: check the rules, mint, record before release, mail, and revoke what could
// not be delivered.
import { enrollmentMessage } from '../mail/enrollment.js';
import { buildMessage, removeOutboxMessages } from '../mail/transport.js';
import { failed, fieldIssues, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import { wordsFor } from '../words/index.js';
import type { BundleFormat } from '../pki/pkcs12.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import type { PublicationResult } from './crl-publisher.js';
import { brokerAddress, phonesTrustBroker } from './broker-address.js';
import type { ActiveDevice } from '../db/certificates.js';
import type { AuditEntry } from '../db/audit.js';
import type { UserRow } from '../db/users.js';
import { bundleFileNames, defaultDeviceName, deviceConflict, deviceOf, issueRequestSchema } from './rules.js';

export interface IssueRequest {
  username: string;
  email: string;
  device: string | null;
  days: number;
  keyBits: number;
  format: BundleFormat;
  /** Typed by the admin; generated when absent. */
  passphrase?: string | undefined;
  /** The user exists with another address and the admin chose to change it. */
  changeEmail: boolean;
  /** The active certificate of the same person and device this one replaces (Replace only). */
  replaces?: number | undefined;
}

/** How the bundle left: accepted by the SMTP server, or written to the outbox for an admin to forward. */
export type HandedOver = 'sent' | 'outbox';

export type Issued = Ok<{
  certificateId: number;
  passphrase: string;
  serial: string;
  mailResponse: string;
  delivery: HandedOver;
  /** The bundle, for the admin's own download (held in memory for a short while by the web layer). */
  pkcs12: Uint8Array;
}>;
export type IssueOutcome =
  | Issued
  | Invalid
  | Failed<'email-differs', { currentEmail: string }>
  | Failed<'device-taken', { device: string; existing: ActiveDevice }>
  | Failed<'outlives-ca', { caDaysLeft: number; caExpires: Date }>
  | Failed<'device-invited'>
  /** The person was deleted while their key was being made: the deletion stands. */
  | Failed<'deleted-meanwhile'>
  | Failed<'mail-failed', { certificateId: number; serial: string; mailError: string; publication: PublicationResult }>;

/** Whole days until the CA expires: no certificate it signs may be valid for longer. */
export function caDaysLeft(ctx: Pick<EnrollDeps, 'ca' | 'now'>): number {
  return Math.floor((Date.parse(ctx.ca.x509.validTo) - ctx.now().getTime()) / 86400_000);
}

/**
 * The certificate is recorded and its bundle made, and the mail is about to go: what a caller that
 * answers before the mail server does (the issue form's redirect) needs to hold for the outcome.
 * Nothing here may leave before the outcome says the mail went: the bundle's first copy is the mail.
 */
export interface Recorded {
  certificateId: number;
  passphrase: string;
  pkcs12: Uint8Array;
}

export interface IssueOptions {
  /** The active certificate of the same person and device the new one replaces (Replace). */
  replaces?: number;
  /** Called once, after recording and before the mail; never for a request refused before. */
  onRecorded?: (recorded: Recorded) => void;
}

/** What issuing needs, by mail or by a pickup link (invitations.ts): the same rules, the same minter. */
export type IssueDeps = Pick<
  EnrollDeps,
  | 'config'
  | 'settings'
  | 'ca'
  | 'now'
  | 'audited'
  | 'users'
  | 'certificates'
  | 'invitations'
  | 'minter'
  | 'mailer'
  | 'files'
  | 'crl'
  | 'broker'
  | 'serverTrust'
>;

/**
 * The first default device name (`phone`, `phone-2`, …) that neither an active certificate nor an
 * open pickup invitation of this person holds: an empty Device field gets it, on both paths.
 */
export function freeDevice(
  ctx: Pick<EnrollDeps, 'invitations'>,
  userId: number | undefined,
  active: ReadonlyArray<{ device: string | null }>,
  now: Date,
): string {
  const used = new Set(active.map((certificate) => deviceOf(certificate.device)));
  for (;;) {
    const name = defaultDeviceName(used);
    if (userId === undefined || ctx.invitations.occupied(userId, name, now) !== 'invitation') return name;
    used.add(name);
  }
}

/**
 * The person a certificate or an invitation is for, inside the caller's transaction: made when new,
 * given back to someone when the name belonged to a deleted person (with this address), and their
 * address changed only when the admin ticked it (checked again here: a concurrent issue may have
 * changed it), audited.
 */
export function personFor<Refusal extends Failed<string>>(
  ctx: Pick<EnrollDeps, 'users' | 'invitations'>,
  request: { username: string; email: string; changeEmail: boolean },
  actor: Actor,
  audit: (entry: AuditEntry) => void,
  now: Date,
  /** The caller's own checks (a device taken), run after the address's and before anything is written. */
  refuse: (existing: UserRow | undefined) => Refusal | undefined = () => undefined,
): UserRow | Failed<'email-differs', { currentEmail: string }> | Refusal {
  const user = ctx.users.find(request.username);
  const current = user?.deleted_at === null ? user : undefined;
  if (current && current.email !== request.email && !request.changeEmail)
    return failed('email-differs', { currentEmail: current.email });
  const refusal = refuse(user);
  if (refusal) return refusal;
  if (!user) return ctx.users.create(request.username, request.email, now);
  if (user.deleted_at !== null) {
    ctx.users.restore(user.id, request.email);
    return { ...user, email: request.email, deleted_at: null };
  }
  if (user.email === request.email) return user;
  changeAddress(ctx, user, request.email, actor, audit, now);
  return { ...user, email: request.email };
}

/**
 * A person's new address, inside the caller's transaction, audited. Their mailed pickup links that
 * could still hand out a certificate are cancelled: open ones, and redeemed ones whose bundle is
 * still minting or held. None is handed out: a held one's certificate is revoked by the enrollment
 * facade once this transaction is over (`settleRefused`), and one still minting records nothing,
 * or revokes what it recorded (`mintForInvitation`). They went to the old address
 * (mistyped, or a mailbox they lost), and the link with its mailbox must not outlive the
 * correction. A resend mails the new one.
 */
export function changeAddress(
  ctx: Pick<EnrollDeps, 'users' | 'invitations'>,
  user: Pick<UserRow, 'id' | 'username' | 'email'>,
  email: string,
  actor: Actor,
  audit: (entry: AuditEntry) => void,
  now: Date,
): number {
  audit({
    ...by(actor),
    action: 'email-change',
    subject: `user:${user.username}`,
    outcome: 'success',
    detail: `${user.email} → ${email}`,
  });
  ctx.users.setEmail(user.id, email);
  let cancelled = 0;
  for (const link of ctx.invitations.unfinishedOfUser(user.id))
    if (link.kind === 'mail' && ctx.invitations.transition(link.id, link.state, 'cancelled', now) && ++cancelled)
      audit({
        actor: 'system',
        action: 'invite-cancel',
        subject: `invitation:${link.id}`,
        outcome: 'success',
        detail: `${user.username}${link.device ? ` (${link.device})` : ''}: the address changed; the link went to the old one`,
      });
  return cancelled;
}

/**
 * The rules every entry point runs first (the issue form, a pickup invitation): the request's
 * fields (the username is the CN and the MQTT username), a validity the CA outlives (clients would
 * refuse the certificate once the CA expires), and a username that is no broker account the portal
 * did not create (the control account, Home Assistant, a Recorder: a certificate with that CN would
 * inherit its roles, up to full control of the broker).
 */
export async function admissibleRequest(
  ctx: Pick<EnrollDeps, 'ca' | 'now' | 'broker'>,
  input: unknown,
): Promise<IssueRequest | Invalid | Failed<'outlives-ca', { caDaysLeft: number; caExpires: Date }>> {
  const parsed = issueRequestSchema.safeParse(input);
  if (!parsed.success) return failed('invalid', { issues: fieldIssues(parsed.error.issues) });
  const request = parsed.data;
  const daysLeft = caDaysLeft(ctx);
  if (request.days > daysLeft)
    return failed('outlives-ca', { caDaysLeft: daysLeft, caExpires: new Date(ctx.ca.x509.validTo) });
  if (ctx.broker && (await ctx.broker.isUnmanagedClient(request.username)))
    return failed('invalid', { issues: { username: wordsFor().broker.usernameIsBrokerAccount(request.username) } });
  return request;
}

export async function issueCertificate(
  ctx: IssueDeps,
  input: IssueRequest,
  actor: Actor,
  options: IssueOptions = {},
): Promise<IssueOutcome> {
  const request = await admissibleRequest(ctx, input);
  if ('reason' in request) return request;

  const existing = ctx.users.find(request.username);
  if (existing && existing.deleted_at === null && existing.email !== request.email && !request.changeEmail) {
    return failed('email-differs', { currentEmail: existing.email });
  }

  // One active certificate per person and device: an empty Device gets the first free default name.
  const active = existing ? ctx.certificates.activeForUser(existing.id, ctx.now()) : [];
  const device = request.device ?? freeDevice(ctx, existing?.id, active, ctx.now());
  const taken = deviceConflict(active, device, request.replaces);
  if (taken) return failed('device-taken', { device, existing: taken });
  // An open pickup link holds the device too: refused before anything is signed.
  if (existing && ctx.invitations.occupied(existing.id, device, ctx.now()) === 'invitation')
    return failed('device-invited');

  // A typed passphrase, or the minter's generated one (a pooled key comes with its own).
  const bundle = await ctx.minter.mint({
    username: request.username,
    device,
    days: request.days,
    keyBits: request.keyBits,
    format: request.format,
    passphrase: request.passphrase,
    now: ctx.now(),
  });
  const { passphrase } = bundle;

  // Built before recording: a message that cannot be built leaves nothing pending, and once the
  // certificate is recorded only the SMTP exchange stands between the admin and the result page.
  const message = await buildMessage(
    enrollmentMessage({
      from: ctx.config.mailFrom,
      to: request.email,
      username: request.username,
      device,
      files: bundleFileNames(request.username, device),
      pkcs12: bundle.pkcs12,
      caCertPem: ctx.ca.certPem,
      mqtt: brokerAddress(ctx),
      serverTrusted: phonesTrustBroker(ctx),
    }),
  );

  // Record before release: the certificate is listed (and revocable) before any copy leaves.
  const recorded = ctx.audited(ctx.now(), (audit) => {
    // The device is checked again inside the transaction (a concurrent issue may have taken it), and
    // before personFor changes anything: a refusal must leave the person as they were.
    const user = personFor(ctx, request, actor, audit, ctx.now(), (current) => {
      // Deleted while the key was made (an admin's delete in between): not brought back by this issue.
      if (existing?.deleted_at === null && current?.deleted_at !== null) return failed('deleted-meanwhile');
      if (!current) return undefined;
      const collision = deviceConflict(ctx.certificates.activeForUser(current.id, ctx.now()), device, request.replaces);
      if (collision) return failed('device-taken', { device, existing: collision });
      // The one-device rule covers open pickup invitations: their certificate is made later.
      return ctx.invitations.occupied(current.id, device, ctx.now()) === 'invitation'
        ? failed('device-invited')
        : undefined;
    });
    if (!('id' in user)) return user;
    const id = ctx.certificates.insert({
      user_id: user.id,
      serial: bundle.serial,
      device,
      fingerprint_sha256: bundle.fingerprint,
      pem: bundle.certPem,
      key_bits: request.keyBits,
      not_before: bundle.notBefore.toISOString(),
      not_after: bundle.notAfter.toISOString(),
      bundle_format: request.format,
      issued_by: actor.name,
      issued_at: ctx.now().toISOString(),
      replaces: options.replaces ?? null,
    });
    audit({
      ...by(actor),
      action: 'issue',
      subject: `certificate:${id}`,
      outcome: 'success',
      detail: `${request.username} (${device}), serial ${bundle.serial}, RSA ${request.keyBits}, ${request.format}, ${request.days} days`,
    });
    return ok({ certificateId: id });
  });
  if (!recorded.ok) return recorded; // nothing was recorded; the bundle never leaves this function
  const { certificateId } = recorded;
  options.onRecorded?.({ certificateId, passphrase, pkcs12: bundle.pkcs12 });
  // The person's broker access exists before the bundle leaves (or at the link's next reconnect).
  await ctx.broker?.syncPerson(request.username);

  try {
    const sent = await ctx.mailer.send(message, bundle.serial); // the outbox names its file by the serial
    const delivery: HandedOver = ctx.mailer.kind === 'outbox' ? 'outbox' : 'sent';
    // Revoked while the message was being written (the revoke's removal ran before the file was
    // there): the outbox keeps no bundle of a revoked certificate.
    if (delivery === 'outbox' && ctx.certificates.find(certificateId)?.status === 'revoked')
      removeOutboxMessages(ctx.files.outbox, bundle.serial);
    ctx.audited(ctx.now(), (audit) => {
      ctx.certificates.setDelivery(certificateId, delivery);
      audit({
        ...by(actor),
        action: 'mail',
        subject: `certificate:${certificateId}`,
        outcome: 'success',
        detail: `to ${request.email}: ${sent.response}`,
      });
    });
    return ok({
      certificateId,
      passphrase,
      serial: bundle.serial,
      mailResponse: sent.response,
      delivery,
      pkcs12: bundle.pkcs12,
    });
  } catch (error) {
    // Nothing undelivered stays active: its key is gone with this request.
    const mailError = describeMailError(error);
    ctx.audited(ctx.now(), (audit) => {
      ctx.certificates.setDelivery(certificateId, 'failed', mailError);
      ctx.certificates.revoke(certificateId, ctx.now(), 'cessationOfOperation', 'system');
      audit({
        ...by(actor),
        action: 'mail',
        subject: `certificate:${certificateId}`,
        outcome: 'failure',
        detail: `to ${request.email}: ${mailError}`,
      });
      audit({
        actor: 'system',
        action: 'revoke',
        subject: `certificate:${certificateId}`,
        outcome: 'success',
        detail: `${request.username}, serial ${bundle.serial}: mail failed`,
      });
    });
    const publication = await ctx.crl.publishOrRetry('system', `undelivered ${bundle.serial}`);
    return failed('mail-failed', { certificateId, serial: bundle.serial, mailError, publication });
  }
}

/** What the mail server said, in one line the admin can act on. */
export function describeMailError(error: unknown): string {
  const failure = error as { code?: string; response?: string; message?: string };
  const text = failure.response ?? failure.message ?? String(error);
  return `${failure.code ? `${failure.code}: ` : ''}${text}`.replace(/\s+/g, ' ').trim().slice(0, 300);
}
