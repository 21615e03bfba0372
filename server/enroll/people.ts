// People, not only certificates: a person's devices, their address, revoking all their devices
// at once (a stolen bag), and deleting a person. Each change and its audit rows commit in one
// transaction; the CRL is published once per change, however many certificates it revoked. With a
// broker link the revoked devices are then disconnected, as after one revocation (revoke.ts).
import type { KickReport } from '../broker/access.js';
import type { AuditEntry } from '../db/audit.js';
import { removeOutboxMessages } from '../mail/transport.js';
import { failed, fieldIssues, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import type { PublicationResult } from './crl-publisher.js';
import type { RevocationReason } from '../pki/crl.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import { displayStatus, emailSchema, usernameSchema } from './rules.js';
import { describeInvitation } from './invitations.js';
import { changeAddress } from './issue.js';
import { certificatePresence, pickupStage } from './presence.js';

type PeopleDeps = Pick<
  EnrollDeps,
  'now' | 'audited' | 'audit' | 'users' | 'certificates' | 'invitations' | 'crl' | 'files' | 'broker' | 'presence'
>;

export type RevokedAll = Ok<{
  serials: string[];
  publication: PublicationResult | undefined;
  /** Open pickup links cancelled with them. */
  cancelledLinks: number;
  /** What became of the revoked devices' connections; undefined without a broker link or revocations. */
  kick: KickReport | undefined;
  /** A deleted person's sharing groups could not be updated on the broker yet (retried soon): why. */
  groupsNotUpdated?: string;
}>;

/**
 * `settleHolds`: lets go at once of every bundle held in memory that may no longer be handed out,
 * among them those of the pickup links this module cancelled (the enrollment facade owns the holds),
 * revoking a certificate that never left unless it was already. Never throws; a held bundle of a
 * cancelled link is never handed out in any case.
 */
export function createPeople(ctx: PeopleDeps, hooks: { settleHolds?: () => Promise<void> } = {}) {
  const findUser = (username: string) => {
    const name = usernameSchema.safeParse(username);
    return name.success ? ctx.users.find(name.data) : undefined;
  };

  /** Revokes every active certificate of a user inside the caller's transaction; returns them. */
  const revokeActive = (userId: number, reason: RevocationReason, actor: Actor, audit: (entry: AuditEntry) => void) => {
    const revoked: string[] = [];
    for (const certificate of ctx.certificates.forUser(userId)) {
      if (!ctx.certificates.revoke(certificate.id, ctx.now(), reason, actor.name)) continue;
      revoked.push(certificate.serial);
      ctx.broker?.queueKick(certificate.username, certificate.id, ctx.now()); // carried out once the CRL is in force
      audit({
        ...by(actor),
        action: 'revoke',
        subject: `certificate:${certificate.id}`,
        outcome: 'success',
        detail: `${certificate.username}${certificate.device ? ` (${certificate.device})` : ''}, serial ${certificate.serial}, ${reason}`,
      });
    }
    return revoked;
  };

  /**
   * Cancels every pickup link of a user that could still hand out a certificate (open, or redeemed
   * with its bundle still minting or held), inside the caller's transaction; returns their ids. A
   * cancelled link is never opened again, and a mint still in flight records nothing (invitations.ts).
   */
  const cancelOpenLinks = (
    user: { id: number; username: string },
    actor: Actor,
    audit: (entry: AuditEntry) => void,
    why: string,
  ) => {
    const cancelled: number[] = [];
    for (const invitation of ctx.invitations.unfinishedOfUser(user.id))
      if (ctx.invitations.transition(invitation.id, invitation.state, 'cancelled', ctx.now())) {
        cancelled.push(invitation.id);
        audit({
          ...by(actor),
          action: 'invite-cancel',
          subject: `invitation:${invitation.id}`,
          outcome: 'success',
          detail: `${user.username}${invitation.device ? ` (${invitation.device})` : ''}: ${why}`,
        });
      }
    return cancelled;
  };

  /**
   * After the transaction: the outbox files have no use left, the broker needs the new CRL, and then
   * the queued kicks are carried out; last, the bundles held in memory for the cancelled links go.
   */
  const afterRevoking = async (serials: string[], cancelledLinks: number[], actor: Actor, what: string) => {
    for (const serial of serials)
      try {
        removeOutboxMessages(ctx.files.outbox, serial);
      } catch {
        /* removed by age at the latest */
      }
    let after: { publication: PublicationResult | undefined; kick: KickReport | undefined } = {
      publication: undefined,
      kick: undefined,
    };
    if (serials.length) {
      // The CRL must be in force before the kicks: the probe that will show it is listed in this CRL.
      await ctx.broker?.prepareProbe();
      const publication = await ctx.crl.publishOrRetry(actor.name, what);
      after = { publication, kick: ctx.broker ? await ctx.broker.enforce() : undefined };
    }
    // Last, and it never throws: a held bundle of a cancelled link is refused already; this lets it go.
    if (cancelledLinks.length) await hooks.settleHolds?.();
    return after;
  };

  return {
    /** A person with every certificate they hold (newest last), or undefined. */
    find(username: string) {
      const user = findUser(username);
      if (!user) return undefined;
      const now = ctx.now();
      const certificates = ctx.certificates.forUser(user.id).map((row) => {
        const presence = certificatePresence(ctx.presence, row, now);
        return { ...row, displayStatus: displayStatus(row, now), presence, pickup: pickupStage(row, presence) };
      });
      /** Whether a link's picked-up certificate has connected since. */
      const invitationConnected = (certificateId: number | null) =>
        certificates.find((row) => row.id === certificateId)?.pickup === 'connected';
      return {
        /** Whether presence is recorded (a broker link): otherwise the page neither shows nor asks it. */
        presenceRecorded: ctx.presence.recording,
        username: user.username,
        email: user.email,
        createdAt: user.created_at,
        deletedAt: user.deleted_at,
        certificates,
        active: certificates.filter((row) => row.displayStatus === 'active'),
        /** Their pickup links, newest first (the last 20), each with its stage. */
        invitations: ctx.invitations
          .ofUser(user.id, 20)
          .map((row) => describeInvitation(row, now, invitationConnected(row.certificate_id))),
        /** Pickup links not yet used: revoking all or deleting cancels them too. */
        openLinks: user.deleted_at === null ? ctx.invitations.unfinishedOfUser(user.id).length : 0,
      };
    },

    /**
     * A new address for a person, without issuing anything; their mailed links that could still hand
     * out a certificate are cancelled (issue.ts, `changeAddress`).
     */
    async changeEmail(
      username: string,
      email: string,
      actor: Actor,
    ): Promise<Ok<{ email: string; cancelledLinks: number }> | Invalid | Failed<'not-found'>> {
      const user = findUser(username);
      if (!user || user.deleted_at !== null) return failed('not-found');
      const parsed = emailSchema.safeParse(email);
      if (!parsed.success)
        return failed('invalid', { issues: fieldIssues(parsed.error.issues.map((i) => ({ ...i, path: ['email'] }))) });
      const next = parsed.data;
      const cancelledLinks =
        next === user.email
          ? 0
          : ctx.audited(ctx.now(), (audit) => changeAddress(ctx, user, next, actor, audit, ctx.now()));
      if (cancelledLinks) await hooks.settleHolds?.();
      return ok({ email: next, cancelledLinks });
    },

    /**
     * Revokes all of a person's active certificates, with one CRL, and cancels their open pickup
     * links: after a stolen bag, a link in the stolen phone's mailbox must not mint a new one.
     */
    async revokeAll(
      username: string,
      reason: RevocationReason,
      actor: Actor,
    ): Promise<RevokedAll | Failed<'not-found'>> {
      const user = findUser(username);
      if (!user) return failed('not-found');
      const { serials, cancelled } = ctx.audited(ctx.now(), (audit) => ({
        serials: revokeActive(user.id, reason, actor, audit),
        cancelled: cancelOpenLinks(user, actor, audit, 'all devices revoked'),
      }));
      const after = await afterRevoking(serials, cancelled, actor, `revoked all of ${user.username}`);
      return ok({ serials, ...after, cancelledLinks: cancelled.length });
    },

    /**
     * Deletes a person: every certificate revoked (its serial stays in the CRL), every pickup link
     * of theirs still open cancelled (a link must not mint for someone deleted), the address erased,
     * the row kept as a tombstone; the audit log keeps what happened.
     */
    async remove(username: string, actor: Actor): Promise<RevokedAll | Failed<'not-found' | 'already-deleted'>> {
      const user = findUser(username);
      if (!user) return failed('not-found');
      if (user.deleted_at !== null) return failed('already-deleted');
      const done = ctx.audited(ctx.now(), (audit) => {
        const revoked = revokeActive(user.id, 'cessationOfOperation', actor, audit);
        const cancelled = cancelOpenLinks(user, actor, audit, 'the person was deleted');
        const { groupsLeft } = ctx.users.erase(user.id, ctx.now());
        const redacted = ctx.audit.eraseAddresses(user.username, [user.email]);
        audit({
          ...by(actor),
          action: 'person-delete',
          subject: `user:${user.username}`,
          outcome: 'success',
          detail:
            `${revoked.length} certificate${revoked.length === 1 ? '' : 's'} revoked, address erased, also from ${redacted} audit row${redacted === 1 ? '' : 's'}` +
            (groupsLeft ? `, left ${groupsLeft} sharing group${groupsLeft === 1 ? '' : 's'}` : ''),
        });
        return { serials: revoked, cancelled, groupsLeft };
      });
      const after = await afterRevoking(done.serials, done.cancelled, actor, `deleted ${user.username}`);
      // The sharing groups' roles on the broker still let the others receive this name's topics:
      // reconciled now, before the name can be given to someone new; a failure is retried soon, and
      // the admin is told.
      const groups =
        done.groupsLeft && ctx.broker
          ? await ctx.broker.reconcileOrRetry(`${user.username} deleted`, actor)
          : undefined;
      return ok({
        serials: done.serials,
        ...after,
        cancelledLinks: done.cancelled.length,
        ...(groups?.error !== undefined && { groupsNotUpdated: groups.error }),
      });
    },
  };
}
