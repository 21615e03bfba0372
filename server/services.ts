// The composition root: the repositories, the CA, the mailer and the minter wired into the use-case
// facades the web layer and the admin commands see (Enrollment, Accounts, Backups). Building them
// starts nothing; `start` does the start-up work (first admin, recovery, first CRL, timers, threads)
// and `stop` undoes it.
import type { PasswordCost } from './accounts/password.js';
import { createAccounts } from './accounts/accounts.js';
import { AUDIT_PRUNE_INTERVAL_MS } from './accounts/audit-retention.js';
import type { HashLimits } from './accounts/sign-in-limits.js';
import { BackupScheduler } from './backup/scheduler.js';
import { createBrokerAccess, type BrokerAccess } from './broker/access.js';
import type { DynsecCommands } from './broker/groups.js';
import { linkMessageSource, PresenceRecorder, type MessageSource } from './broker/presence.js';
import { ServerTrustMonitor, type checkServerTrust } from './broker/server-trust.js';
import type { Config } from './config.js';
import { dataFiles } from './data-dir.js';
import { adminsRepository } from './db/admins.js';
import { auditedTransactions, auditRepository } from './db/audit.js';
import { brokerRepository } from './db/broker.js';
import { carriedRevocationsRepository } from './db/carried-revocations.js';
import { certificateQueries } from './db/certificate-list.js';
import { certificatesRepository } from './db/certificates.js';
import { invitationsRepository } from './db/invitations.js';
import type { Db } from './db/database.js';
import { groupsRepository } from './db/groups.js';
import { presenceRepository } from './db/presence.js';
import { serverCertificatesRepository } from './db/server-certificates.js';
import { settingsRepository } from './db/settings.js';
import { usersRepository } from './db/users.js';
import { brokerAddress } from './enroll/broker-address.js';
import { CrlPublisher } from './enroll/crl-publisher.js';
import { createEnrollment } from './enroll/enrollment.js';
import { createMinter, type Minter } from './enroll/minter.js';
import { mergeTimes } from './enroll/presence.js';
import { createSharing } from './enroll/sharing.js';
import { createMailer, type Mailer } from './mail/transport.js';
import type { Ca } from './pki/ca.js';

export interface ServiceDeps {
  db: Db;
  ca: Ca;
  /** Whether DATA_DIR/ca.key is encrypted at rest. */
  caKeyEncrypted: boolean;
  /** The clock; tests pass their own to age sessions and CRLs. */
  now?: () => Date;
  mailer?: Mailer;
  minter?: Minter;
  /** scrypt cost of new password hashes; tests make it cheap. */
  passwordCost?: PasswordCost;
  /** Bounds on concurrent password checks at sign-in; tests make them small. */
  hashLimits?: HashLimits;
  /** First retry delay of a failed CRL publication; tests shorten it. */
  crlRetryFirstMs?: number;
  /** The broker link's back-off and probe deadlines; tests shorten them. */
  brokerTimings?: Parameters<typeof createBrokerAccess>[0]['timings'];
  /**
   * Where the presence recorder hears the OwnTracks topics; unset: the broker link's connection when
   * there is one (else presence is not recorded). Tests may pass an MQTT.js client of their own.
   */
  messageSource?: MessageSource;
  /** Sharing groups' dynsec command layer; unset: the broker link's (without a link, groups are unavailable). */
  dynsec?: DynsecCommands;
  /**
   * The broker link's access management in place of the one BROKER_CONTROL_URL makes: tests of
   * races with its calls pass a stand-in (and no presence is recorded through it).
   */
  brokerAccess?: BrokerAccess;
  /** How the phones' trust in the broker's certificate is checked; tests pass one with roots of their own. */
  trustCheck?: typeof checkServerTrust;
}

interface StartLog {
  info(message: string): void;
  warn(message: string): void;
  error(details: object, message: string): void;
}

export function createServices(config: Config, deps: ServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const { db, ca } = deps;
  const files = dataFiles(config.dataDir);
  const audit = auditRepository(db);
  const audited = auditedTransactions(db, audit);
  const settings = settingsRepository(db);
  const certificates = certificatesRepository(db);
  const serverCertificates = serverCertificatesRepository(db);
  const brokerRecords = brokerRepository(db);
  const carried = carriedRevocationsRepository(db);
  // Background failures (key pre-generation) are logged once start() has a log to write to.
  let reportBackgroundError: (error: unknown) => void = () => undefined;
  let reportPresenceError: (error: unknown) => void = () => undefined;
  const presenceStore = presenceRepository(db);
  const groups = groupsRepository(db);

  const crl = new CrlPublisher({
    db,
    ca,
    file: files.crl,
    settings,
    audit,
    now,
    reloadCommand: config.brokerReloadCommand,
    ...(deps.crlRetryFirstMs !== undefined && { retryFirstMs: deps.crlRetryFirstMs }),
    revokedMark: () =>
      [
        certificates.revokedMark(),
        serverCertificates.revokedMark(),
        config.brokerControl ? brokerRecords.probeMark(now()) : '',
        carried.mark(),
      ].join(' '),
    revoked: function* () {
      yield* certificates.revokedEntries();
      yield* serverCertificates.revokedEntries();
      // Revoked after a backup that was then restored: unknown to this database, never let back in.
      yield* carried.entries();
      // The broker link's probe certificates, revoked from the start (server/broker/probe.ts).
      if (config.brokerControl) yield* brokerRecords.probeEntries(now());
    },
  });
  // With BROKER_CONTROL_URL: access in the broker's dynamic security, kicks after revocations.
  const broker =
    deps.brokerAccess ??
    (config.brokerControl
      ? createBrokerAccess({
          control: config.brokerControl,
          ca,
          repository: brokerRecords,
          settings,
          audited,
          now,
          publishCrl: (cause) => crl.publish('system', cause),
          groups: () => groups.list().map((group) => ({ id: group.id, members: group.members })),
          ...(deps.brokerTimings && { timings: deps.brokerTimings }),
        })
      : undefined);
  // Presence hears the OwnTracks topics through the broker link's one connection (its subscriptions
  // are renewed on every reconnect); tests without a link may pass a source of their own.
  const messageSource = deps.messageSource ?? (broker && !deps.brokerAccess ? linkMessageSource(broker) : undefined);
  const presence = messageSource
    ? new PresenceRecorder(presenceStore, { now, onError: (error) => reportPresenceError(error) })
    : undefined;
  // Whether phones trust the broker's certificate without the portal's CA: checked at start, every
  // ten minutes and when the address changes; the setup steps skip the CA only on a verified "public".
  const serverTrust = new ServerTrustMonitor({
    address: () => brokerAddress({ config, settings }),
    now,
    ...(deps.trustCheck && { check: deps.trustCheck }),
  });
  const mailer = deps.mailer ?? createMailer(config.smtpUrl, files.outbox);
  const enrollment = createEnrollment({
    config,
    files,
    db,
    ca,
    caKeyEncrypted: deps.caKeyEncrypted,
    now,
    audited,
    users: usersRepository(db),
    certificates,
    certificateQueries: certificateQueries(db),
    invitations: invitationsRepository(db),
    serverCertificates,
    settings,
    audit,
    minter: deps.minter ?? createMinter(ca, { onError: (error) => reportBackgroundError(error) }),
    mailer,
    presence: {
      recording: presence !== undefined,
      times: (key) => mergeTimes(presenceStore.find(key), presence?.heldFor(key)),
      endOf: (id) => certificates.endOf(id),
    },
    crl,
    broker,
    serverTrust,
  });
  const accounts = createAccounts({
    config,
    db,
    admins: adminsRepository(db),
    audit,
    settings,
    audited,
    now,
    passwordCost: deps.passwordCost,
    hashLimits: deps.hashLimits,
  });
  const sharing = createSharing({
    groups,
    users: usersRepository(db),
    audited,
    now,
    // The broker link's command layer when there is a link; tests may pass a stand-in.
    dynsec: deps.dynsec ?? broker?.groupCommands,
  });
  const backups = config.backup
    ? new BackupScheduler(config.backup, { db, dataDir: config.dataDir, settings, audited, now })
    : undefined;

  // The retention jobs (outbox, audit log) run at start and then daily; revocations remove their
  // outbox message at once.
  const timers: NodeJS.Timeout[] = [];

  return {
    now,
    enrollment,
    accounts,
    backups,
    /** The broker link (undefined without BROKER_CONTROL_URL); presence subscribes through `broker.subscribe`. */
    broker,
    sharing,
    audit: { page: audit.page, actions: audit.actions },

    /** Start-up work, in order; the portal listens only after it. */
    async start(log: StartLog) {
      reportBackgroundError = (error) => log.error({ err: error }, 'key pre-generation failed');
      await accounts.ensureFirstAdmin(log);
      await enrollment.start(log);
      serverTrust.start();
      // The mail server, checked once in the background: a wrong SMTP_URL is said at start, not only
      // at the first issue (whose page explains the failure in full).
      void mailer.verify?.().then(
        () => log.info('The SMTP server answers (SMTP_URL)'),
        (error: unknown) =>
          log.warn(
            `SMTP_URL: the mail server does not answer (${error instanceof Error ? error.message : String(error)}): mail to people will fail until it does`,
          ),
      );
      // The link connects in the background; each connection reconciles (start included).
      broker?.start(log);
      reportPresenceError = (error) => log.error({ err: error }, 'presence recording failed');
      if (presence && messageSource) presence.start(messageSource);
      for (const timer of timers.splice(0)) clearInterval(timer);
      const daily = (what: string, work: () => void, everyMs = 86400_000) => {
        const run = () => {
          try {
            work();
          } catch (error) {
            log.error({ err: error }, `${what} failed`);
          }
        };
        run();
        timers.push(setInterval(run, everyMs).unref());
      };
      daily('outbox prune', () => enrollment.pruneOutbox());
      backups?.start((error) => log.error({ err: error }, 'scheduled backup failed'));
      if (config.auditRetentionDays !== undefined)
        daily(
          'audit retention prune',
          () => {
            const pruned = accounts.pruneAudit({ name: 'system' });
            if (pruned.ok && pruned.removed > 0)
              log.info(`Pruned ${pruned.removed} audit row(s) older than ${pruned.before.toISOString()}`);
          },
          AUDIT_PRUNE_INTERVAL_MS,
        );
    },
    async stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      serverTrust.stop();
      backups?.stop();
      presence?.stop(); // writes the times held in memory
      await broker?.stop();
      await enrollment.stop();
    },
  };
}

export type Services = ReturnType<typeof createServices>;
