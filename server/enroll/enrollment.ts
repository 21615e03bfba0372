// The Enrollment facade: every enrollment use case and every read a page needs, bound to their
// dependencies once. Routes see this interface, never the database, the CA or the mailer.
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import type { Log } from '../broker/access.js';
import type { LinkState } from '../broker/link.js';
import { databasePing } from '../db/database.js';
import type { ListSort, ListStatus } from '../db/certificate-list.js';
import { listOutbox, pruneOutbox } from '../mail/transport.js';
import { permittedNames } from '../pki/name-constraints.js';
import type { RevocationReason } from '../pki/crl.js';
import type { Actor, EnrollDeps } from './context.js';
import { CRL_DEGRADED_WITHIN_MS } from './crl-publisher.js';

const isFile = (file: string) => {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
};

/** The CA's last month: /healthz is degraded, so that a monitor warns before every phone is refused. */
const CA_DEGRADED_WITHIN_MS = 30 * 86400_000;
import { brokerAddress, setBrokerAddress } from './broker-address.js';
import { freeDevice, issueCertificate, caDaysLeft, type IssueRequest, type Recorded } from './issue.js';
import { certificatePresence, pickupStage } from './presence.js';
import { markForwarded } from './forward.js';
import { createPeople } from './people.js';
import { replaceCertificate, type ReplaceReason } from './replace.js';
import {
  abandonHeld,
  cancelInvitation,
  createInvitation,
  describeInvitation,
  pickupFile,
  pickupGuide,
  redeemInvitation,
  reopenInterrupted,
  resendInvitation,
  type Holds,
  type InviteRequest,
  type PickupFile,
} from './invitations.js';
import { PickupHolds, type HeldBundle } from './pickup-holds.js';
import { PICKUP_HOLD_MS, redeemable, tokenHash, tokenSchema } from './pickup-rules.js';
import { caMobileconfig } from '../pki/mobileconfig.js';
import { revokeCertificate, revokeUndelivered } from './revoke.js';
import {
  displayStatus,
  REASON_LABELS,
  REVOCATION_CHOICES,
  type BrokerAddressInput,
  type ServerCertificateRequest,
} from './rules.js';
import { issueBrokerCertificate, revokeBrokerCertificate } from './server-cert.js';

export type { ListSort, ListStatus };

export interface CertificateListQuery {
  search: string;
  status: ListStatus;
  expiringWithinDays: number | undefined;
  /** Only active certificates whose device was never seen on the broker since they were issued. */
  neverConnected?: boolean | undefined;
  sort: ListSort;
  after: { key: string; id: number } | undefined;
  limit: number;
}

type Check = 'ok' | 'degraded' | 'failing';

/** The link's state as /healthz shows it (never the control account's address or name). */
function brokerLinkHealth(state: LinkState) {
  return {
    status: state.status,
    since: state.since.toISOString(),
    ...(state.lastError && { lastError: state.lastError.message, lastErrorAt: state.lastError.at.toISOString() }),
  };
}

export function createEnrollment(ctx: EnrollDeps) {
  const ping = databasePing(ctx.db);
  // Read once: the CA does not change while the portal runs.
  const caConstraints = ctx.ca.nameConstraints;
  const caServerNames = caConstraints ? permittedNames(caConstraints) : [];
  // A bundle whose certificate was revoked since it was made (revoke, Replace), or whose link was
  // cancelled since (revoke all, the person's address changed or the person deleted) or names
  // another certificate by now, is never handed out.
  const holds: Holds = new PickupHolds(ctx.now, PICKUP_HOLD_MS, (held) => {
    const link = ctx.invitations.find(held.invitationId);
    return (
      ctx.certificates.find(held.certificateId)?.status === 'active' &&
      link?.state === 'redeemed' &&
      link.certificate_id === held.certificateId
    );
  });
  let holdSweep: NodeJS.Timeout | undefined;
  /** The portal's log, once started. */
  let log: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  /**
   * Settles the holds `take` removes (what never left revoked, unless it was already, with one CRL;
   * links opened again or cancelled). Never throws: when the batch fails (the database failing), each
   * hold is tried alone, and those that still fail are put back, emptied, with their reason, for the
   * next sweep, and logged.
   */
  const settle = async (take: () => Array<{ held: HeldBundle; why: string }>) => {
    let over: Array<{ held: HeldBundle; why: string }>;
    try {
      over = take();
    } catch (error) {
      log.error({ err: error }, 'pickup holds not taken; tried again at the next sweep');
      return;
    }
    try {
      await abandonHeld(ctx, over);
      return;
    } catch {
      // One hold's failure must not keep the others: each alone.
    }
    for (const one of over)
      try {
        await abandonHeld(ctx, [one]);
      } catch (error) {
        holds.putBack(one.held, one.why);
        log.error(
          { err: error },
          `pickup hold of invitation ${one.held.invitationId} (certificate ${one.held.certificateId}) not settled; tried again at the next sweep`,
        );
      }
  };
  const whyOver = ({ held, refused }: { held: HeldBundle; refused: boolean }) => ({
    held,
    why:
      held.settleWhy ??
      (refused ? 'its link was cancelled before a download' : 'not downloaded within the pickup time'),
  });
  /**
   * Holds that are over: past their time, or no longer to be handed out. Run each minute (and by a
   * test's `sweepPickups`).
   */
  const sweepHolds = () => settle(() => holds.takeFinished().map(whyOver));
  /**
   * At once after a change that cancelled links or revoked certificates (revoke all, a deletion, a new
   * address): only the holds no longer to be handed out, all in one transaction. When that commits,
   * its synchronous part has revoked them before it returns its promise, so a form that answers
   * after the call answers after the revocation.
   */
  const settleRefused = () => settle(() => holds.takeRefused().map((held) => whyOver({ held, refused: true })));
  const tokenRow = (token: string) =>
    tokenSchema.safeParse(token).success ? ctx.invitations.findByToken(tokenHash(token)) : undefined;
  // Open and unexpired; or just redeemed while its bundle is still held, so that the person who
  // redeemed in a mail app's browser can open the page in Safari and enter the code again there.
  const pickupPreview = (token: string) => {
    const row = tokenRow(token);
    if (!row) return undefined;
    const held = row.state === 'redeemed' && (holds.forInvitation(row.id) ?? holds.minting(row.id));
    return redeemable(row, ctx.now()) || held ? row : undefined;
  };
  const certificate = (id: number) => {
    const row = ctx.certificates.find(id);
    const now = ctx.now();
    if (!row) return undefined;
    const presence = certificatePresence(ctx.presence, row, now);
    return { ...row, displayStatus: displayStatus(row, now), presence, pickup: pickupStage(row, presence) };
  };
  /** Whether an invitation's picked-up certificate has connected since (without a broker link: never known). */
  const invitationConnected = (row: { certificate_id: number | null }) => {
    if (row.certificate_id === null || !ctx.presence.recording) return false;
    const cert = ctx.certificates.find(row.certificate_id);
    return cert !== undefined && pickupStage(cert, certificatePresence(ctx.presence, cert, ctx.now())) === 'connected';
  };
  const described = (row: NonNullable<ReturnType<typeof ctx.invitations.find>>) =>
    describeInvitation(row, ctx.now(), invitationConnected(row));
  return {
    now: ctx.now,
    /** `onRecorded` (issue.ts): the certificate is recorded and the mail about to go. */
    issue: (request: IssueRequest, actor: Actor, onRecorded?: (recorded: Recorded) => void) =>
      issueCertificate(ctx, request, actor, {
        // A new address cancelled the person's held mailed links: settled before the form answers
        // (revoked within this call; the CRL follows), so the resend its page offers works at once.
        onRecorded: (recorded) => {
          if (request.changeEmail) void settleRefused();
          onRecorded?.(recorded);
        },
      }),
    revoke: (id: number, reason: RevocationReason, actor: Actor) => revokeCertificate(ctx, id, reason, actor),
    replace: (id: number, actor: Actor, reason: ReplaceReason = 'superseded') =>
      replaceCertificate(ctx, id, actor, reason),
    /** Outbox mail the admin forwarded; a Replace's predecessor is revoked now. */
    markForwarded: (id: number, actor: Actor) => markForwarded(ctx, id, actor),

    /** A page of the certificate list; `isEmpty` when nothing was ever issued. */
    list(query: CertificateListQuery) {
      const now = ctx.now();
      const page = ctx.certificateQueries.page({ ...query, now });
      return {
        rows: page.rows.map((row) => {
          const presence = certificatePresence(ctx.presence, row, now);
          return { ...row, displayStatus: displayStatus(row, now), presence, pickup: pickupStage(row, presence) };
        }),
        next: page.next,
        isEmpty: ctx.certificates.count() === 0,
        /** Whether presence is recorded (a broker link): otherwise pages neither show nor filter it. */
        presenceRecorded: ctx.presence.recording,
      };
    },
    certificate,
    /** A certificate with its history, as the detail page shows it. */
    detail(id: number) {
      const found = certificate(id);
      if (!found) return undefined;
      const reason = found.revocation_reason as RevocationReason | null;
      const predecessor = found.replaces === null ? undefined : ctx.certificates.find(found.replaces);
      return {
        certificate: found,
        trail: ctx.audit.forSubject(`certificate:${id}`),
        reasonLabel: reason ? REASON_LABELS[reason] : undefined,
        /** The certificate a Replace revokes once this one is forwarded, while it is still active. */
        awaitingSupersede:
          predecessor?.status === 'active' && found.delivery === 'outbox'
            ? { id: predecessor.id, serial: predecessor.serial }
            : undefined,
      };
    },
    /** A person the issue form is about to issue to: their address and how many certificates they hold. */
    person(username: string) {
      const user = ctx.users.find(username);
      // A deleted person's name is free for someone new: the form treats it as a new person.
      return (
        user &&
        user.deleted_at === null && {
          username: user.username,
          email: user.email,
          certificates: ctx.certificates.countForUser(user.id),
        }
      );
    },
    revocationReasons: () => REVOCATION_CHOICES,
    /** The name an empty Device field gets for this person now (`phone`, then `phone-2`, …). */
    defaultDevice(username: string): string {
      const user = ctx.users.find(username);
      const active = user ? ctx.certificates.activeForUser(user.id, ctx.now()) : [];
      return freeDevice(ctx, user?.id, active, ctx.now());
    },
    /** Two or more active certificates of one person for one device (made before the rule): each pair knocks the other off. */
    deviceCollisions: () => ctx.certificates.deviceCollisions(ctx.now()),

    /** Where phones connect: MQTT_HOST, else the address entered on the Settings page, else none yet. */
    brokerAddress: () => brokerAddress(ctx),
    setBrokerAddress: (input: BrokerAddressInput, actor: Actor) => setBrokerAddress(ctx, input, actor),
    /** Whether phones trust the broker's certificate without the portal's CA, as last checked (Settings page). */
    serverTrust: () => ctx.serverTrust?.current(),

    /**
     * The broker link, for the Broker page: undefined without BROKER_CONTROL_URL. `reconcile` makes
     * dynsec match the database now (audited with the admin's name).
     */
    broker: ctx.broker && {
      overview: ctx.broker.overview,
      reconcile: (actor: Actor) => ctx.broker!.reconcile('on demand', actor),
    },
    /**
     * What the audit log's subjects name, for links: `certificate:3` → its person and device and
     * page, `user:alice` → the person page. Subjects it does not know are left out.
     */
    auditSubjects(subjects: Iterable<string | null>) {
      const named: Record<string, { label: string; href: string }> = {};
      for (const subject of new Set(subjects)) {
        const [kind, key] = subject
          ? [subject.slice(0, subject.indexOf(':')), subject.slice(subject.indexOf(':') + 1)]
          : [];
        if (kind === 'certificate' && /^\d+$/.test(key!)) {
          const found = ctx.certificates.find(Number(key));
          if (found)
            named[subject!] = {
              label: `${found.username}${found.device ? ` (${found.device})` : ''}`,
              href: `/certificates/${found.id}`,
            };
        } else if (kind === 'user') named[subject!] = { label: key!, href: `/people/${encodeURIComponent(key!)}` };
        else if (kind === 'server-certificate')
          named[subject!] = { label: `broker certificate ${key}`, href: '/broker' };
      }
      return named;
    },
    /** People: their devices, their address, revoke all, delete. */
    people: createPeople(ctx, { settleHolds: settleRefused }),

    /** Pickup links: the admin's side (create, resend, cancel, list) and the person's (redeem, files). */
    invitations: {
      async create(request: InviteRequest, actor: Actor) {
        const outcome = await createInvitation(ctx, request, actor);
        if (request.changeEmail) await settleRefused(); // a new address cancelled held mailed links
        return outcome;
      },
      resend: (id: number, actor: Actor) => resendInvitation(ctx, id, actor),
      cancel: (id: number, actor: Actor) => cancelInvitation(ctx, id, actor),
      find(id: number) {
        const row = ctx.invitations.find(id);
        return row && described(row);
      },
      /** Invitations still waiting for their person (open and unexpired). */
      openCount: () => ctx.invitations.openCount(ctx.now()),
      list: (limit = 100) => ctx.invitations.recent(limit).map(described),
      /** The invitation a certificate was picked up through, if any. */
      forCertificate(certificateId: number) {
        const row = ctx.invitations.forCertificate(certificateId);
        return row && described(row);
      },
      /** The person's side: shows nothing about an invitation that cannot be redeemed. */
      preview(token: string) {
        const row = pickupPreview(token);
        return row && { username: row.username, device: row.device, expiresAt: new Date(row.expires_at) };
      },
      redeem: (token: string, code: string, actor: Actor) => redeemInvitation(ctx, holds, token, code, actor),
      /** Whether a hold belongs to this link: its token must name the redeemed invitation. */
      holdFor(token: string, holdId: string) {
        const held = holds.get(holdId);
        if (!held) return undefined;
        const row = tokenRow(token);
        return row && row.id === held.invitationId ? pickupGuide(ctx, holds, holdId) : undefined;
      },
      file: (holdId: string, which: PickupFile, ip?: string) => pickupFile(ctx, holds, holdId, which, ip),
      /** "Done": the files go; a bundle never downloaded is revoked and its invitation reopens. */
      async finish(holdId: string) {
        await settle(() => {
          const held = holds.drop(holdId);
          return held ? [{ held, why: 'Done was tapped before any download' }] : [];
        });
      },
      caProfile: () =>
        caMobileconfig({
          caDer: ctx.ca.certDer,
          caName: ctx.ca.x509.subject.replace(/^CN=/, ''),
          organisation: 'OwnTracks Enroll',
        }),
    },

    serverCertificates: {
      list: () => ctx.serverCertificates.recent(),
      find: (id: number) => ctx.serverCertificates.find(id),
      issue: (request: ServerCertificateRequest, actor: Actor) => issueBrokerCertificate(ctx, request, actor),
      revoke: (id: number, reason: RevocationReason, actor: Actor) => revokeBrokerCertificate(ctx, id, reason, actor),
    },

    outbox: {
      /** The messages, newest first, each with the certificate it carries (named by its serial). */
      list: () =>
        listOutbox(ctx.files.outbox).map((entry) => {
          const serial = /-([0-9a-f]+)\.eml$/.exec(entry.name)?.[1];
          const found = serial ? ctx.certificates.findBySerial(serial) : undefined;
          return {
            ...entry,
            certificate: found && {
              id: found.id,
              username: found.username,
              device: found.device,
              email: found.email,
              delivery: found.delivery,
            },
          };
        }),
      /** How many days a message stays (it goes sooner when its certificate is revoked). */
      retentionDays: ctx.config.outboxRetentionDays,
      /** One message as a stream; undefined for a name that is not in the outbox. */
      open(name: string): { name: string; stream: ReadStream } | undefined {
        const entry = listOutbox(ctx.files.outbox).find((message) => message.name === name);
        return entry && { name: entry.name, stream: createReadStream(path.join(ctx.files.outbox, entry.name)) };
      },
    },

    /**
     * The outbox's retention (the daily job): removes messages older than OUTBOX_RETENTION_DAYS,
     * audited when it removed any. Returns how many it removed.
     */
    pruneOutbox(): number {
      const days = ctx.config.outboxRetentionDays;
      const removed = pruneOutbox(ctx.files.outbox, new Date(ctx.now().getTime() - days * 86400_000));
      if (removed > 0)
        ctx.audited(ctx.now(), (audit) =>
          audit({
            actor: 'system',
            action: 'outbox-prune',
            outcome: 'success',
            detail: `${removed} message${removed === 1 ? '' : 's'} older than ${days} days removed`,
          }),
        );
      return removed;
    },

    caCertificate: () => ({ pem: ctx.ca.certPem, der: ctx.ca.certDer }),
    crl: () => ({ ...ctx.crl.current(), thisUpdate: ctx.crl.thisUpdate }),
    /** Renews the CRL once it is a day old (the freshness timer's job, hourly). */
    renewCrlIfAging: () => ctx.crl.refreshIfAging(),

    /** How the portal is set up, for banners and the Broker page. */
    setup() {
      return {
        mailKind: ctx.mailer.kind,
        smtp: Boolean(ctx.config.smtpUrl),
        caKeyEncrypted: ctx.caKeyEncrypted,
        caDaysLeft: caDaysLeft(ctx),
        /** Whether the CA carries name constraints (made by this version); old and imported CAs do not. */
        caConstrained: caConstraints !== null,
        /** The server names a constrained CA may sign for. */
        caServerNames,
        dataDir: path.resolve(ctx.files.dir),
        mqttHost: ctx.config.mqtt.host,
        mqttPort: ctx.config.mqtt.port,
        reloadCommand: ctx.config.brokerReloadCommand,
        crlPending: ctx.crl.pending,
        reloadFailure: ctx.crl.reloadFailure,
      };
    },

    /** The database, the CA and the CRL: ok, degraded (CRL near its nextUpdate or awaiting a retry), failing. */
    health() {
      const now = ctx.now().getTime();
      let database: Check = 'ok';
      try {
        ping();
      } catch {
        database = 'failing';
      }
      // The CA in its last month: degraded (certificates it issues are cut to its end, and after it
      // every phone is refused), so that a monitor warns in time.
      const caEnds = new Date(ctx.ca.x509.validTo).getTime();
      const ca: Check = caEnds <= now ? 'failing' : caEnds - now < CA_DEGRADED_WITHIN_MS ? 'degraded' : 'ok';
      // Read from the database once per request; a database that fails it is failing, and so is the
      // CRL that cannot be checked (rather than an error page in place of this answer).
      let nextUpdate: Date | undefined;
      try {
        nextUpdate = ctx.crl.nextUpdate;
      } catch {
        database = 'failing';
      }
      const pending = ctx.crl.pending;
      const reloadFailure = ctx.crl.reloadFailure;
      // crl.pem gone: Mosquitto refuses to start without its crlfile. A failed reload: the broker may
      // still use an older CRL, and let a revoked phone in.
      const crl: Check =
        !nextUpdate || nextUpdate.getTime() <= now || !isFile(ctx.files.crl)
          ? 'failing'
          : nextUpdate.getTime() - now < CRL_DEGRADED_WITHIN_MS || pending || reloadFailure
            ? 'degraded'
            : 'ok';
      // The broker link away is degraded, not failing: issuing and revoking still work, kicks wait.
      const checks = { database, ca, crl, ...(ctx.broker && { broker: ctx.broker.health() as Check }) };
      const values = Object.values(checks);
      const status: Check = values.includes('failing') ? 'failing' : values.includes('degraded') ? 'degraded' : 'ok';
      return {
        status,
        checks,
        crlNextUpdate: nextUpdate?.toISOString(),
        ...(pending && { crlPublication: { failingSince: pending.since.toISOString(), error: pending.error } }),
        ...(reloadFailure && {
          brokerReload: { failingSince: reloadFailure.since.toISOString(), error: reloadFailure.message },
        }),
        caExpires: new Date(caEnds).toISOString(),
        ...(ctx.broker && { brokerLink: brokerLinkHealth(ctx.broker.state()) }),
      };
    },

    /** Start-up work: revoke what a crash left undelivered, publish a fresh CRL, keep it fresh. */
    async start(portalLog: Log) {
      log = portalLog;
      ctx.crl.removeStaleTemporaries();
      const reopened = reopenInterrupted(ctx);
      if (reopened > 0) log.warn(`Reopened ${reopened} pickup invitation(s) interrupted by an earlier stop`);
      const undelivered = revokeUndelivered(ctx);
      if (undelivered > 0)
        log.warn(
          `Revoked ${undelivered} certificate${undelivered === 1 ? '' : 's'} left undelivered by an earlier stop`,
        );
      const publication = await ctx.crl.publishUnlessCurrent('system', 'start');
      log.info(
        'current' in publication
          ? `CRL ${publication.crlNumber} in ${ctx.crl.file} is current; kept`
          : `Published CRL ${publication.crlNumber} with ${publication.entries} entries to ${ctx.crl.file}`,
      );
      ctx.crl.startFreshnessTimer((error) => log.error({ err: error }, 'CRL renewal failed'));
      ctx.minter.start();
      clearInterval(holdSweep);
      holdSweep = setInterval(() => void sweepHolds(), 60_000).unref();
    },
    sweepPickups: sweepHolds,
    async stop() {
      clearInterval(holdSweep);
      ctx.crl.stop();
      await ctx.minter.close();
      ctx.mailer.close();
    },
  };
}

export type Enrollment = ReturnType<typeof createEnrollment>;
