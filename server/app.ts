// buildApp(config, deps): the whole web application, without listening. Tests use app.inject().
import formBody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { createAdmin } from './accounts/admins.js';
import type { PasswordCost } from './accounts/password.js';
import { SetupToken } from './accounts/setup-token.js';
import { BackupScheduler } from './backup/scheduler.js';
import type { Config } from './config.js';
import { adminsRepository } from './db/admins.js';
import { auditRepository } from './db/audit.js';
import { certificatesRepository } from './db/certificates.js';
import type { Db } from './db/database.js';
import { serverCertificatesRepository } from './db/server-certificates.js';
import { settingsRepository } from './db/settings.js';
import { usersRepository } from './db/users.js';
import type { EnrollContext } from './enroll/context.js';
import { CrlPublisher } from './enroll/crl-publisher.js';
import { createMinter, type Minter } from './enroll/minter.js';
import { revokeUndelivered } from './enroll/revoke.js';
import { loggerOptions } from './logging.js';
import { createMailer, type Mailer } from './mail/transport.js';
import type { Ca } from './pki/ca.js';
import type { Portal } from './web/context.js';
import { OneTimeSecrets } from './web/one-time-secrets.js';
import authPlugin from './web/plugins/auth.js';
import errorsPlugin from './web/plugins/errors.js';
import rateLimitPlugin from './web/plugins/rate-limit.js';
import securityPlugin from './web/plugins/security.js';
import sessionPlugin from './web/plugins/session.js';
import viewsPlugin from './web/plugins/views.js';
import adminRoutes from './web/routes/admin.js';
import healthRoutes from './web/routes/health.js';
import publicFileRoutes from './web/routes/public-files.js';
import setupRoutes from './web/routes/setup.js';
import signInRoutes from './web/routes/sign-in.js';

export interface AppDeps {
  db: Db;
  ca: Ca;
  /** Whether DATA_DIR/ca.key is encrypted at rest. */
  caKeyEncrypted: boolean;
  /** The clock; tests pass their own to age sessions and CRLs. */
  now?: () => Date;
  /** Where the log goes (default stdout); tests capture it. */
  logStream?: NodeJS.WritableStream;
  mailer?: Mailer;
  minter?: Minter;
  /** scrypt cost of new admin passwords (default: DEFAULT_COST); tests pass a cheap one. */
  passwordCost?: PasswordCost;
  /** Whom a request counts against in the rate limit (default: its address); tests name their clients. */
  rateLimitKey?: (request: FastifyRequest) => string;
}

export async function buildApp(config: Config, deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    logger: loggerOptions(config.logLevel, deps.logStream) as FastifyServerOptions['logger'],
    trustProxy: true,
    bodyLimit: 64 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const { db, ca } = deps;
  const audit = auditRepository(db);
  const settings = settingsRepository(db);
  const certificates = certificatesRepository(db);
  const serverCertificates = serverCertificatesRepository(db);
  const enroll: EnrollContext = {
    config,
    db,
    ca,
    now,
    users: usersRepository(db),
    certificates,
    serverCertificates,
    audit,
    minter:
      deps.minter ??
      createMinter(ca, { onError: (error) => app.log.error({ err: error }, 'key pre-generation failed') }),
    mailer: deps.mailer ?? createMailer(config.smtpUrl, config.dataDir),
    crl: new CrlPublisher({
      db,
      ca,
      dataDir: config.dataDir,
      settings,
      audit,
      now,
      reloadCommand: config.brokerReloadCommand,
      revoked: function* () {
        yield* certificates.revokedEntries();
        yield* serverCertificates.revokedEntries();
      },
    }),
  };
  const portal: Portal = {
    config,
    db,
    now,
    admins: adminsRepository(db),
    audit,
    settings,
    setupToken: new SetupToken(),
    enroll,
    passphrases: new OneTimeSecrets(now),
    caKeyEncrypted: deps.caKeyEncrypted,
    passwordCost: deps.passwordCost,
    backups: config.backup
      ? new BackupScheduler(config.backup, { db, dataDir: config.dataDir, settings, audit, now })
      : undefined,
  };
  app.decorate('portal', portal);

  await app.register(formBody, { bodyLimit: 64 * 1024 });
  await app.register(securityPlugin);
  await app.register(sessionPlugin);
  await app.register(viewsPlugin);
  await app.register(errorsPlugin);
  await app.register(rateLimitPlugin, { key: deps.rateLimitKey });
  await app.register(authPlugin);

  await app.register(healthRoutes);
  await app.register(signInRoutes);
  await app.register(setupRoutes);
  await app.register(publicFileRoutes);
  await app.register(adminRoutes);

  await ensureFirstAdmin(portal, app.log);
  await startEnrollment(enroll, app.log);
  const stopFreshnessTimer = enroll.crl.startFreshnessTimer((error) =>
    app.log.error({ err: error }, 'CRL renewal failed'),
  );
  const stopBackups = portal.backups?.start((error) => app.log.error({ err: error }, 'scheduled backup failed'));
  app.addHook('onClose', async () => {
    stopFreshnessTimer();
    stopBackups?.();
    await enroll.minter.close();
    enroll.mailer.close();
  });
  return app;
}

/** Revokes what a crash left undelivered, then publishes a fresh CRL (the broker needs a valid one). */
async function startEnrollment(enroll: EnrollContext, log: FastifyBaseLogger) {
  const undelivered = revokeUndelivered(enroll);
  if (undelivered > 0) log.warn(`Revoked ${undelivered} certificate(s) left undelivered by an earlier stop`);
  const publication = await enroll.crl.publish('system', 'start');
  log.info(`Published CRL ${publication.crlNumber} with ${publication.entries} entries to ${enroll.crl.file}`);
}

/** Creates the configured first admin, or prints a one-time setup link when there is no admin. */
async function ensureFirstAdmin(portal: Portal, log: FastifyBaseLogger) {
  if (portal.admins.count() > 0) return;
  const initial = portal.config.initialAdmin;
  if (initial) {
    await createAdmin(portal.admins, initial.username, initial.password, portal.now(), portal.passwordCost);
    portal.audit.record(
      {
        actor: 'system',
        action: 'admin-created',
        subject: initial.username,
        outcome: 'success',
        detail: 'ADMIN_USERNAME',
      },
      portal.now(),
    );
    log.info(`Created admin ${initial.username} from ADMIN_USERNAME`);
    return;
  }
  const token = portal.setupToken.issue();
  log.warn(`No admin exists yet. Create the first one at ${portal.config.publicUrl}/setup?token=${token}`);
}
