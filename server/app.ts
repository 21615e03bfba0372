// buildApp(config, services): the whole web application, without listening and without side
// effects (no timer, thread, file or row is made here). Each route plugin is handed only the use
// cases it needs, so its dependencies are visible in its options' type. Tests use app.inject().
import formBody from '@fastify/formbody';
import Fastify, { type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import { loggerOptions } from './logging.js';
import type { Services } from './services.js';
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

export interface AppOptions {
  /** Where the log goes (default stdout); tests capture it. */
  logStream?: NodeJS.WritableStream;
  /** Whom a request counts against in the rate limit (default: its address); tests name their clients. */
  rateLimitKey?: (request: FastifyRequest) => string;
}

export async function buildApp(config: Config, services: Services, options: AppOptions = {}) {
  const { now, enrollment, accounts, backups, audit } = services;
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream) as FastifyServerOptions['logger'],
    trustProxy: true,
    bodyLimit: 64 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(formBody, { bodyLimit: 64 * 1024 });
  await app.register(securityPlugin, { publicUrl: config.publicUrl });
  await app.register(sessionPlugin, {
    secret: accounts.sessionSecret(),
    sessionStore: accounts.sessionStore,
    secureCookies: config.publicUrl.startsWith('https://'),
  });
  await app.register(viewsPlugin, { now });
  await app.register(errorsPlugin);
  await app.register(rateLimitPlugin, { key: options.rateLimitKey });
  await app.register(authPlugin, { now });

  await app.register(healthRoutes, { enrollment });
  await app.register(signInRoutes, { accounts, now });
  await app.register(setupRoutes, { accounts });
  await app.register(publicFileRoutes, { enrollment });
  await app.register(adminRoutes, {
    enrollment,
    backups,
    accounts,
    audit,
    // Passphrases of just-issued bundles, shown once on the result page; memory only.
    passphrases: new OneTimeSecrets<{ certificateId: number; passphrase: string }>(now),
  });
  return app;
}
