// Pickup invitations: create (mailed link or QR on screen), resend, cancel, and the person's
// redemption, which makes the key and certificate only then (the rules run again, validity starts
// now). The certificate is recorded before the bundle leaves, the bundle is held in memory for the
// person's downloads, and what was never picked up is revoked and its invitation opened again.
import { pickupMessage } from '../mail/pickup.js';
import type { StepContext } from '../words/en/steps.js';
import { failed, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import type { BundleFormat } from '../pki/pkcs12.js';
import type { AuditEntry } from '../db/audit.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import { brokerAddress as configuredBrokerAddress, phonesTrustBroker } from './broker-address.js';
import { admissibleRequest, caDaysLeft, describeMailError, freeDevice, personFor, type IssueDeps } from './issue.js';
import { inlineConfigLink, owntracksConfiguration, type BrokerAddress } from './pickup-config.js';
import type { HeldBundle, PickupHolds } from './pickup-holds.js';
import {
  clampedDays,
  codeHmac,
  codeMatches,
  codeSchema,
  invitationExpiry,
  invitationStatus,
  MAX_REOPENINGS,
  MAX_WRONG_CODES,
  newCode,
  newToken,
  redeemable,
  tokenHash,
  tokenSchema,
  type InvitationKind,
} from './pickup-rules.js';
import { bundleFileNames } from './rules.js';

export interface InviteRequest {
  username: string;
  email: string;
  device: string | null;
  days: number;
  keyBits: number;
  format: BundleFormat;
  kind: InvitationKind;
  changeEmail: boolean;
}

/** What the admin gets once: the link's token and the code. Neither is stored. */
export type Invited = Ok<{ invitationId: number; token: string; code: string; url: string; expiresAt: Date }>;
export type InviteOutcome =
  | Invited
  | Invalid
  | Failed<'email-differs', { currentEmail: string }>
  | Failed<'outlives-ca', { caDaysLeft: number; caExpires: Date }>
  | Failed<'device-taken', { by: 'invitation' | 'certificate' }>
  | Failed<'mail-failed', { invitationId: number; mailError: string }>;
export type ResendOutcome = InviteOutcome | Failed<'not-found' | 'redeemed'>;

export type Redeemed = Ok<{ holdId: string }>;
export type RedeemOutcome =
  | Redeemed
  | Failed<'unavailable'>
  | Failed<'wrong-code', { left: number }>
  | Failed<'device-taken' | 'ca-ending' | 'mint-failed'>;

type PickupDeps = IssueDeps;
export type Holds = PickupHolds<RedeemOutcome>;

/** The broker's address for phones: the same source the enrollment mail uses (MQTT_HOST, else Settings). */
function brokerAddress(ctx: Pick<EnrollDeps, 'config' | 'settings'>): BrokerAddress | undefined {
  const address = configuredBrokerAddress(ctx);
  return address.host ? { host: address.host, port: address.port } : undefined;
}

const pickupUrl = (ctx: Pick<EnrollDeps, 'config'>, token: string) => `${ctx.config.publicUrl}/pickup/${token}`;

const who = (row: { username: string; device: string | null }) =>
  `${row.username}${row.device ? ` (${row.device})` : ''}`;

/** Mails the link of a `mail` invitation; a failure cancels it (nobody could use it). */
async function mailLink(
  ctx: PickupDeps,
  invitation: { id: number; username: string; email: string; device: string | null },
  url: string,
  expiresAt: Date,
  actor: Actor,
): Promise<Failed<'mail-failed', { invitationId: number; mailError: string }> | undefined> {
  const message = pickupMessage({
    from: ctx.config.mailFrom,
    to: invitation.email,
    username: invitation.username,
    device: invitation.device,
    url,
    expiresAt,
  });
  try {
    const sent = await ctx.mailer.send(message, `invitation${invitation.id}`);
    ctx.audited(ctx.now(), (audit) =>
      audit({
        ...by(actor),
        action: 'mail',
        subject: `invitation:${invitation.id}`,
        outcome: 'success',
        detail: `pickup link to ${invitation.email}: ${sent.response}`,
      }),
    );
    return undefined;
  } catch (error) {
    const mailError = describeMailError(error);
    ctx.audited(ctx.now(), (audit) => {
      ctx.invitations.transition(invitation.id, 'open', 'cancelled', ctx.now());
      audit({
        ...by(actor),
        action: 'mail',
        subject: `invitation:${invitation.id}`,
        outcome: 'failure',
        detail: `pickup link to ${invitation.email}: ${mailError}`,
      });
    });
    return failed('mail-failed', { invitationId: invitation.id, mailError });
  }
}

export async function createInvitation(ctx: PickupDeps, input: InviteRequest, actor: Actor): Promise<InviteOutcome> {
  // The same rules as any issue; a generated passphrase only in this flow.
  const request = await admissibleRequest(ctx, { ...input, passphrase: undefined });
  if ('reason' in request) return request;

  const token = newToken();
  const code = newCode();
  const now = ctx.now();
  const expiresAt = invitationExpiry(input.kind, now, ctx.config.pickup);
  const recorded = ctx.audited(now, (audit) => {
    // An empty Device gets the first free default name, as on the mailed path. The device is checked
    // before personFor changes anything: a refusal must leave the person as they were.
    let device = ''; // chosen in the check, which runs before any success
    const user = personFor(ctx, request, actor, audit, now, (existing) => {
      device =
        request.device ??
        freeDevice(ctx, existing?.id, existing ? ctx.certificates.activeForUser(existing.id, now) : [], now);
      const taken = existing && ctx.invitations.occupied(existing.id, device, now);
      return taken ? failed('device-taken', { by: taken }) : undefined;
    });
    if (!('id' in user)) return user;
    const id = ctx.invitations.insert({
      user_id: user.id,
      device,
      token_sha256: tokenHash(token),
      code_hmac: codeHmac(token, code),
      kind: input.kind,
      days: request.days,
      key_bits: request.keyBits,
      bundle_format: request.format,
      created_by: actor.name,
      created_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
    });
    audit({
      ...by(actor),
      action: 'invite',
      subject: `invitation:${id}`,
      outcome: 'success',
      detail: `${who({ username: request.username, device })}, ${input.kind === 'qr' ? 'QR code' : 'mailed link'}, until ${expiresAt.toISOString()}`,
    });
    return ok({ id, device });
  });
  if (!recorded.ok) return recorded;
  const url = pickupUrl(ctx, token);
  if (input.kind === 'mail') {
    const mailFailure = await mailLink(
      ctx,
      { id: recorded.id, username: request.username, email: request.email, device: recorded.device },
      url,
      expiresAt,
      actor,
    );
    if (mailFailure) return mailFailure;
  }
  return ok({ invitationId: recorded.id, token, code, url, expiresAt });
}

/** A new link and code for an invitation not yet redeemed (open, expired or cancelled); the old ones die. */
export async function resendInvitation(ctx: PickupDeps, id: number, actor: Actor): Promise<ResendOutcome> {
  const row = ctx.invitations.find(id);
  if (!row) return failed('not-found');
  if (row.state === 'redeemed') return failed('redeemed');
  const token = newToken();
  const code = newCode();
  const now = ctx.now();
  const expiresAt = invitationExpiry(row.kind, now, ctx.config.pickup);
  const renewed = ctx.audited(now, (audit) => {
    const current = ctx.invitations.find(id)!;
    if (current.state === 'redeemed') return failed('redeemed');
    // Reopening a closed one must not break the one-device rule; an open one holds its own place.
    if (!redeemable(current, now)) {
      const taken = ctx.invitations.occupied(current.user_id, current.device, now);
      if (taken) return failed('device-taken', { by: taken });
    }
    ctx.invitations.renew(id, tokenHash(token), codeHmac(token, code), expiresAt);
    audit({
      ...by(actor),
      action: 'invite-resend',
      subject: `invitation:${id}`,
      outcome: 'success',
      detail: `${who(row)}: new link and code until ${expiresAt.toISOString()}; the old ones no longer work`,
    });
    return ok();
  });
  if (!renewed.ok) return renewed;
  const url = pickupUrl(ctx, token);
  if (row.kind === 'mail') {
    const mailFailure = await mailLink(ctx, row, url, expiresAt, actor);
    if (mailFailure) return mailFailure;
  }
  return ok({ invitationId: id, token, code, url, expiresAt });
}

export function cancelInvitation(
  ctx: Pick<EnrollDeps, 'now' | 'audited' | 'invitations'>,
  id: number,
  actor: Actor,
): Ok | Failed<'not-found' | 'not-open'> {
  const row = ctx.invitations.find(id);
  if (!row) return failed('not-found');
  const now = ctx.now();
  return ctx.audited(now, (audit) => {
    if (!ctx.invitations.transition(id, 'open', 'cancelled', now)) return failed('not-open');
    audit({ ...by(actor), action: 'invite-cancel', subject: `invitation:${id}`, outcome: 'success', detail: who(row) });
    return ok();
  });
}

/**
 * The person's redemption: the code, then the rules again, then the key. A wrong code counts
 * against the invitation (MAX_WRONG_CODES kill it), whatever address it comes from. A second
 * redemption with the right code (a double tap, a second tab) gets the first one's bundle.
 */
export async function redeemInvitation(
  ctx: PickupDeps,
  holds: Holds,
  token: string,
  typedCode: string,
  actor: Actor,
): Promise<RedeemOutcome> {
  if (!tokenSchema.safeParse(token).success) return failed('unavailable');
  const row = ctx.invitations.findByToken(tokenHash(token));
  if (!row) return failed('unavailable');
  const code = codeSchema.safeParse(typedCode);
  const now = ctx.now();
  const subject = `invitation:${row.id}`;

  if (row.state === 'redeemed') {
    // Wrong codes still count: after MAX_WRONG_CODES only the browser that holds the cookie keeps the files.
    if (row.wrong_codes >= MAX_WRONG_CODES) return failed('unavailable');
    if (!code.success || !codeMatches(token, code.data, row.code_hmac)) {
      ctx.audited(now, (audit) => {
        ctx.invitations.countWrongCode(row.id);
        audit({
          ...by(actor),
          action: 'pickup-code',
          subject,
          outcome: 'failure',
          detail: 'wrong code after redemption',
        });
      });
      return failed('unavailable');
    }
    const inFlight = holds.minting(row.id);
    if (inFlight) return inFlight;
    const held = holds.forInvitation(row.id);
    return held ? ok({ holdId: held.id }) : failed('unavailable');
  }
  if (!redeemable(row, now)) {
    if (row.state === 'open')
      ctx.audited(now, (audit) => {
        if (ctx.invitations.transition(row.id, 'open', 'expired', now))
          audit({ ...by(actor), action: 'pickup-redeem', subject, outcome: 'failure', detail: 'expired' });
      });
    return failed('unavailable');
  }
  // Wrong codes typed while it was redeemed count too, once it is open again.
  if (row.wrong_codes >= MAX_WRONG_CODES) return failed('unavailable');
  if (!code.success || !codeMatches(token, code.data, row.code_hmac)) {
    return ctx.audited(now, (audit): RedeemOutcome => {
      ctx.invitations.countWrongCode(row.id);
      const wrong = ctx.invitations.find(row.id)!.wrong_codes;
      const left = Math.max(0, MAX_WRONG_CODES - wrong);
      audit({ ...by(actor), action: 'pickup-code', subject, outcome: 'failure', detail: `wrong code ${wrong}` });
      if (left === 0) cancelLink(ctx, row.id, 'open', audit, now, `${MAX_WRONG_CODES} wrong codes`);
      return failed('wrong-code', { left });
    });
  }

  /** A redemption refused by a rule checked again now: audited, nothing claimed. */
  const refused = <Reason extends 'unavailable' | 'device-taken'>(reason: Reason, detail: string) => {
    ctx.audited(now, (audit) => audit({ ...by(actor), action: 'pickup-redeem', subject, outcome: 'failure', detail }));
    return failed(reason);
  };
  // A broker account the portal does not manage, made by that name since the link was sent: the
  // certificate would inherit its rights (admissibleRequest refuses it at the invitation).
  if (ctx.broker && (await ctx.broker.isUnmanagedClient(row.username)))
    return refused('unavailable', 'the username is a broker account the portal does not manage');
  // The rules again, as at any issue: one active certificate per device, and never past the CA.
  if (ctx.invitations.hasActiveCertificate(row.user_id, row.device, now))
    return refused('device-taken', 'device has an active certificate');
  const days = clampedDays(row.days, caDaysLeft(ctx));
  if (days < 1) return failed('ca-ending');

  const claimed = ctx.audited(now, (audit) => {
    // Not if a resend replaced this link while the broker was asked (its old code then works no more).
    if (!ctx.invitations.claim(row.id, row.token_sha256, now)) return false;
    audit({ ...by(actor), action: 'pickup-redeem', subject, outcome: 'success', detail: `${who(row)}, ${days} days` });
    return true;
  });
  // Lost a race with a concurrent redemption: join it.
  if (!claimed) return redeemInvitation(ctx, holds, token, typedCode, actor);
  return holds.track(row.id, mintForInvitation(ctx, holds, row, days, actor));
}

async function mintForInvitation(
  ctx: PickupDeps,
  holds: Holds,
  row: NonNullable<ReturnType<PickupDeps['invitations']['find']>>,
  days: number,
  actor: Actor,
): Promise<RedeemOutcome> {
  /** The certificate recorded for this redemption, once it is. */
  let recorded: number | null = null;
  /**
   * The link is still redeemed by this redemption: not cancelled, and not resent and redeemed again
   * meanwhile (a new token; the later redemption mints its own), naming `certificateId` (none yet: null).
   */
  const stillThisRedemption = (certificateId: number | null) => {
    const current = ctx.invitations.find(row.id);
    return (
      current?.state === 'redeemed' &&
      current.token_sha256 === row.token_sha256 &&
      current.certificate_id === certificateId
    );
  };
  try {
    // A generated passphrase only (nobody typed one for this flow): the minter's.
    const bundle = await ctx.minter.mint({
      username: row.username,
      device: row.device,
      days,
      keyBits: row.key_bits,
      format: row.bundle_format,
      now: ctx.now(),
    });
    const { passphrase } = bundle;
    // Record before release, unless the link was cancelled (revoke all, the person deleted, a new
    // address) or resent meanwhile: then this certificate is dropped here, never recorded or handed out.
    const certificateId = ctx.audited(ctx.now(), (audit) => {
      const person = ctx.users.find(row.username);
      if (!stillThisRedemption(null) || !person || person.deleted_at !== null) {
        audit({
          actor: 'system',
          action: 'pickup-redeem',
          subject: `invitation:${row.id}`,
          outcome: 'failure',
          detail: `${who(row)}: the link was cancelled or resent while its certificate was made; nothing recorded or handed out`,
        });
        return undefined;
      }
      // The one-device rule once more: the device counts as taken while this link redeems, so only
      // a certificate from outside the rules (an older release's data) can be there now.
      if (ctx.invitations.hasActiveCertificate(row.user_id, row.device, ctx.now())) {
        ctx.invitations.transition(row.id, 'redeemed', 'cancelled', ctx.now());
        audit({
          actor: 'system',
          action: 'pickup-redeem',
          subject: `invitation:${row.id}`,
          outcome: 'failure',
          detail: `${who(row)}: the device got an active certificate while this one was made; nothing recorded or handed out`,
        });
        return undefined;
      }
      const id = ctx.certificates.insert({
        user_id: row.user_id,
        serial: bundle.serial,
        device: row.device,
        fingerprint_sha256: bundle.fingerprint,
        pem: bundle.certPem,
        key_bits: row.key_bits,
        not_before: bundle.notBefore.toISOString(),
        not_after: bundle.notAfter.toISOString(),
        bundle_format: row.bundle_format,
        issued_by: row.created_by,
        issued_at: ctx.now().toISOString(),
      });
      ctx.invitations.attachCertificate(row.id, id);
      audit({
        ...by(actor),
        action: 'issue',
        subject: `certificate:${id}`,
        outcome: 'success',
        detail: `${who(row)}, serial ${bundle.serial}, RSA ${row.key_bits}, ${row.bundle_format}, ${days} days, picked up through invitation ${row.id}`,
      });
      return id;
    });
    if (certificateId === undefined) return failed('unavailable');
    recorded = certificateId;
    // The person's broker access exists before the bundle leaves (or at the link's next reconnect).
    await ctx.broker?.syncPerson(row.username);
    // Revoke all, the person's deletion or a new address may have cancelled the link (and a resend
    // renewed it) while the broker was asked: then nothing is handed out, and this certificate is
    // revoked (revoke all and the deletion did so already).
    if (!stillThisRedemption(certificateId)) {
      const revoked = ctx.audited(ctx.now(), (audit) => {
        audit({
          actor: 'system',
          action: 'pickup-redeem',
          subject: `invitation:${row.id}`,
          outcome: 'failure',
          detail: `${who(row)}: the link was cancelled or resent before its bundle was handed out`,
        });
        neverDelivered(ctx, certificateId, 'the link was cancelled or resent before its bundle was handed out');
        if (!ctx.certificates.revoke(certificateId, ctx.now(), 'cessationOfOperation', 'system')) return false;
        audit({
          actor: 'system',
          action: 'revoke',
          subject: `certificate:${certificateId}`,
          outcome: 'success',
          detail: `${who(row)}: its link was cancelled or resent before the bundle was handed out`,
        });
        return true;
      });
      if (revoked) await ctx.crl.publishOrRetry('system', `link cancelled, certificate ${certificateId}`);
      return failed('unavailable');
    }
    const held = holds.put({
      invitationId: row.id,
      certificateId,
      username: row.username,
      device: row.device,
      pkcs12: bundle.pkcs12,
      passphrase,
    });
    return ok({ holdId: held.id });
  } catch (error) {
    // Before the record the certificate was being made; after it, the broker sync or the hold failed.
    const what = recorded === null ? 'minting failed' : 'the redemption failed after its certificate was recorded';
    const revoked = ctx.audited(ctx.now(), (audit) => {
      audit({
        actor: 'system',
        action: 'pickup-redeem',
        subject: `invitation:${row.id}`,
        outcome: 'failure',
        detail: `${what}: ${String((error as Error).message ?? error)}`.slice(0, 300),
      });
      let revoking = false;
      if (recorded !== null) {
        neverDelivered(ctx, recorded, what);
        revoking = ctx.certificates.revoke(recorded, ctx.now(), 'cessationOfOperation', 'system');
        if (revoking)
          audit({
            actor: 'system',
            action: 'revoke',
            subject: `certificate:${recorded}`,
            outcome: 'success',
            detail: `${who(row)}: ${what}, before the bundle was handed out`,
          });
      }
      // Only this redemption's link: one cancelled, resent and redeemed again meanwhile is another's.
      if (stillThisRedemption(recorded)) reopenOrCancel(ctx, row.id, recorded, audit, what, ctx.now());
      return revoking;
    });
    if (revoked) await ctx.crl.publishOrRetry('system', `redemption failed, certificate ${recorded}`);
    return failed('mint-failed');
  }
}

export type PickupFile = 'otrp' | 'p12' | 'otrc';

/** A held bundle's file; the first download of the bundle marks the certificate picked up. */
export function pickupFile(
  ctx: Pick<EnrollDeps, 'config' | 'settings' | 'now' | 'audited' | 'certificates'>,
  holds: Holds,
  holdId: string,
  which: PickupFile,
  ip: string | undefined,
): { filename: string; contentType: string; body: Buffer } | undefined {
  const held = holds.get(holdId);
  if (!held) return undefined;
  const names = bundleFileNames(held.username, held.device);
  if (which === 'otrc') {
    const broker = brokerAddress(ctx);
    if (!broker) return undefined;
    const configuration = owntracksConfiguration(broker, held);
    return {
      filename: names.otrc,
      contentType: 'application/json',
      body: Buffer.from(`${JSON.stringify(configuration, null, 2)}\n`),
    };
  }
  if (!held.downloaded) {
    // Marked only once recorded: a download whose record failed sends nothing, and the hold stays
    // one the sweep revokes if nothing else leaves.
    ctx.audited(ctx.now(), (audit) => {
      ctx.certificates.setDelivery(held.certificateId, 'picked_up');
      audit({
        actor: 'pickup',
        ip: ip ?? null,
        action: 'pickup-download',
        subject: `certificate:${held.certificateId}`,
        outcome: 'success',
        detail: `${who(held)}: ${names[which]}`,
      });
    });
    held.downloaded = true;
  }
  return {
    filename: names[which],
    // iOS hands `.otrp` (UTI org.owntracks.otrp, application/binary) to OwnTracks; Android's installer takes PKCS#12.
    contentType: which === 'otrp' ? 'application/octet-stream' : 'application/x-pkcs12',
    body: Buffer.from(held.pkcs12),
  };
}

/** What the guided page shows for a live hold. */
export function pickupGuide(
  ctx: Pick<EnrollDeps, 'config' | 'settings' | 'serverTrust'>,
  holds: Holds,
  holdId: string,
) {
  const held = holds.get(holdId);
  if (!held) return undefined;
  const broker = brokerAddress(ctx);
  const files = bundleFileNames(held.username, held.device);
  // The same steps the mail gives (words/en/steps.ts), for files downloaded from the pickup page.
  const stepContext: StepContext = {
    username: held.username,
    device: held.device ?? 'phone',
    files: { ...files, ca: 'ca.crt' },
    server: broker,
    arrival: 'download',
    serverTrusted: phonesTrustBroker(ctx),
  };
  return {
    invitationId: held.invitationId,
    username: held.username,
    device: held.device,
    files,
    stepContext,
    passphrase: held.passphrase,
    expires: new Date(held.expires),
    links: broker && {
      ios: inlineConfigLink(owntracksConfiguration(broker, held, { passphrase: held.passphrase })),
      android: inlineConfigLink(owntracksConfiguration(broker, held)),
    },
  };
}

/**
 * A redeemed invitation whose bundle never left (`certificateId`: the certificate made for it, null
 * when none was recorded) opens again, unless the wrong codes typed at it (before or after its
 * redemption) used up its tries, or it opened again MAX_REOPENINGS times already: then it is
 * cancelled. Nothing happens to a link that names another certificate by now (a hold of an earlier
 * round, revoked, the link resent and used since) or is no longer redeemed.
 */
function reopenOrCancel(
  ctx: Pick<EnrollDeps, 'invitations'>,
  invitationId: number,
  certificateId: number | null,
  audit: (entry: AuditEntry) => void,
  detail: string,
  now: Date,
): 'reopened' | 'cancelled' | undefined {
  const row = ctx.invitations.find(invitationId);
  if (!row || row.state !== 'redeemed' || row.certificate_id !== certificateId) return undefined;
  if (row.wrong_codes >= MAX_WRONG_CODES) {
    cancelLink(ctx, invitationId, 'redeemed', audit, now, `${MAX_WRONG_CODES} wrong codes`);
    return 'cancelled';
  }
  if (row.reopenings >= MAX_REOPENINGS) {
    cancelLink(ctx, invitationId, 'redeemed', audit, now, `opened again ${MAX_REOPENINGS} times without a download`);
    return 'cancelled';
  }
  if (!ctx.invitations.reopen(invitationId, certificateId)) return undefined;
  audit({
    actor: 'system',
    action: 'invite-reopen',
    subject: `invitation:${invitationId}`,
    outcome: 'success',
    detail,
  });
  return 'reopened';
}

/** Cancels an invitation (from `state`), audited with why. */
function cancelLink(
  ctx: Pick<EnrollDeps, 'invitations'>,
  invitationId: number,
  state: 'open' | 'redeemed',
  audit: (entry: AuditEntry) => void,
  now: Date,
  detail: string,
): void {
  if (ctx.invitations.transition(invitationId, state, 'cancelled', now))
    audit({
      actor: 'system',
      action: 'invite-cancel',
      subject: `invitation:${invitationId}`,
      outcome: 'success',
      detail,
    });
}

/** A certificate whose bundle never left is marked so, unless something marked it already (with its own why). */
function neverDelivered(ctx: Pick<EnrollDeps, 'certificates'>, certificateId: number, why: string): void {
  if (ctx.certificates.find(certificateId)?.delivery === 'pending')
    ctx.certificates.setDelivery(certificateId, 'failed', why);
}

/**
 * Holds that are over without a download, in one transaction and with one CRL: each certificate is
 * revoked and its invitation opened again (or cancelled, reopenOrCancel). A certificate revoked
 * already (revoke, Replace, revoke all) keeps the reason it was given and adds nothing to publish.
 * Throws when the transaction fails (nothing of it is kept); the CRL's own failures are retried.
 */
export async function abandonHeld(
  ctx: PickupDeps,
  over: ReadonlyArray<{ held: HeldBundle; why: string }>,
): Promise<void> {
  const undelivered = over.filter(({ held }) => !held.downloaded);
  if (!undelivered.length) return;
  const revoked = ctx.audited(ctx.now(), (audit) => {
    const ids: number[] = [];
    for (const { held, why } of undelivered) {
      neverDelivered(ctx, held.certificateId, why);
      if (ctx.certificates.revoke(held.certificateId, ctx.now(), 'cessationOfOperation', 'system')) {
        ids.push(held.certificateId);
        audit({
          actor: 'system',
          action: 'revoke',
          subject: `certificate:${held.certificateId}`,
          outcome: 'success',
          detail: `${who(held)}: ${why}`,
        });
      }
      reopenOrCancel(ctx, held.invitationId, held.certificateId, audit, 'the bundle was never downloaded', ctx.now());
    }
    return ids;
  });
  if (revoked.length)
    await ctx.crl.publishOrRetry(
      'system',
      `not picked up, certificate${revoked.length > 1 ? 's' : ''} ${revoked.join(', ')}`,
    );
}

/**
 * At start, before undelivered certificates are revoked: an invitation redeemed by a portal that
 * stopped before the bundle left (no certificate yet, or one still pending) can be redeemed again
 * (or is cancelled, its tries or reopenings used up). Returns how many opened again.
 */
export function reopenInterrupted(ctx: Pick<EnrollDeps, 'now' | 'audited' | 'invitations'>): number {
  const rows = ctx.invitations.interrupted();
  return ctx.audited(ctx.now(), (audit) => {
    let reopened = 0;
    for (const row of rows) {
      const why = `${who(row)}: the portal stopped before the bundle was downloaded`;
      if (reopenOrCancel(ctx, row.id, row.certificate_id, audit, why, ctx.now()) === 'reopened') reopened++;
    }
    return reopened;
  });
}

/** The admin's view of an invitation. */
export function describeInvitation(
  row: NonNullable<ReturnType<PickupDeps['invitations']['find']>>,
  now: Date,
  connected = false,
) {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    device: row.device,
    kind: row.kind,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    wrongCodes: row.wrong_codes,
    certificateId: row.certificate_id,
    status: invitationStatus(row, now, connected),
  };
}
