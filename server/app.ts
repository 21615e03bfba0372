// buildApp(config, deps): the whole web application, without listening. Tests use app.inject().
import formBody from '@fastify/formbody';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { adminsRepository } from './db/admins.js';
import { auditRepository } from './db/audit.js';
import { settingsRepository } from './db/settings.js';
import { SetupToken } from './accounts/setup-token.js';
import { createAdmin } from './accounts/admins.js';
import type { Portal } from './web/context.js';
import authPlugin from './web/plugins/auth.js';
import errorsPlugin from './web/plugins/errors.js';
import rateLimitPlugin from './web/plugins/rate-limit.js';
import securityPlugin from './web/plugins/security.js';
import sessionPlugin from './web/plugins/session.js';
import viewsPlugin from './web/plugins/views.js';
import healthRoutes from './web/routes/health.js';
import setupRoutes from './web/routes/setup.js';
import signInRoutes from './web/routes/sign-in.js';
import { loggerOptions } from './logging.js';

export interface AppDeps {
  db: Db;
  /** The clock; tests pass their own to age sessions and CRLs. */
  now?: () => Date;
  /** Where the log goes (default stdout); tests capture it. */
  logStream?: NodeJS.WritableStream;
}

export async function buildApp(config: Config, deps: AppDeps) {
  const now = deps.now ?? (() => new Date());
  const portal: Portal = {
    config,
    db: deps.db,
    now,
    admins: adminsRepository(deps.db),
    audit: auditRepository(deps.db),
    settings: settingsRepository(deps.db),
    setupToken: new SetupToken(),
  };

  const app = Fastify({
    logger: loggerOptions(config.logLevel, deps.logStream) as FastifyServerOptions['logger'],
    trustProxy: true,
    bodyLimit: 64 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('portal', portal);

  await app.register(formBody, { bodyLimit: 64 * 1024 });
  await app.register(securityPlugin);
  await app.register(sessionPlugin);
  await app.register(viewsPlugin);
  await app.register(errorsPlugin);
  await app.register(rateLimitPlugin);
  await app.register(authPlugin);

  await app.register(healthRoutes);
  await app.register(signInRoutes);
  await app.register(setupRoutes);

  await ensureFirstAdmin(app.portal, app.log);
  return app;
}

/** Creates the configured first admin, or prints a one-time setup link when there is no admin. */
async function ensureFirstAdmin(portal: Portal, log: { warn: (msg: string) => void; info: (msg: string) => void }) {
  if (portal.admins.count() > 0) return;
  const initial = portal.config.initialAdmin;
  if (initial) {
    await createAdmin(portal.admins, initial.username, initial.password, portal.now());
    portal.audit.record({ actor: 'system', action: 'admin-created', subject: initial.username, outcome: 'success', detail: 'ADMIN_USERNAME' }, portal.now());
    log.info(`Created admin ${initial.username} from ADMIN_USERNAME`);
    return;
  }
  const token = portal.setupToken.issue();
  log.warn(`No admin exists yet. Create the first one at ${portal.config.publicUrl}/setup?token=${token}`);
}

export type App = Awaited<ReturnType<typeof buildApp>>;
