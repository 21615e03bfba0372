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
import { HeldBundles, type PickupTicket } from './web/held-bundles.js';
import pickupRoutes from './web/routes/pickup.js';
import authPlugin from './web/plugins/auth.js';
import errorsPlugin from './web/plugins/errors.js';
import proxyPlugin from './web/plugins/proxy.js';
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
  rateLimitKey?: ((request: FastifyRequest) => string) | undefined;
  /** The longest a request may take to arrive, headers and body (default 30 s); tests shorten it. */
  requestTimeoutMs?: number | undefined;
}

/** A whole request (headers and body) must arrive within this; then the connection gets a 408. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * An idle kept-alive connection is closed after this: longer than the 60 s that proxies (nginx,
 * load balancers) keep theirs open, so the portal never closes one a proxy is about to reuse.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** A socket on which nothing moves for this long is closed, whatever state it is in. */
const CONNECTION_TIMEOUT_MS = 75_000;

/**
 * TRUST_PROXY as fastify takes it. Unset: the socket's address is the client's and X-Forwarded-*
 * are ignored. A list: those proxies' headers are believed. A hop count: that many peers from the
 * socket inwards are proxies, so the client is the n-th address from the right of X-Forwarded-For
 * (fastify reads a bare number as "trust nothing", so it is given as a function).
 */
function trustProxyOption(setting: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof setting !== 'number') return setting;
  return (_address: string, hop: number) => hop < setting;
}

export async function buildApp(config: Config, services: Services, options: AppOptions = {}) {
  const { now, enrollment, accounts, backups, audit, sharing } = services;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream) as FastifyServerOptions['logger'],
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: 64 * 1024,
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    http: {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 20_000),
      // How often Node checks those timeouts (its default, 30 s, would let a 30 s limit run to 60 s).
      connectionsCheckingInterval: Math.max(50, Math.min(2000, requestTimeout / 5)),
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(formBody, { bodyLimit: 64 * 1024 });
  await app.register(securityPlugin, { publicUrl: config.publicUrl });
  await app.register(proxyPlugin, { publicUrl: config.publicUrl, trustProxy: config.trustProxy });
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
    sharing,
    // Passphrases of just-issued bundles, shown once on the result page; memory only.
    passphrases: new OneTimeSecrets<{ certificateId: number; passphrase: string }>(now),
    // Bundles of mailed issues for the admin's own download (15 minutes), and new pickup codes; memory only.
    bundles: new HeldBundles(now),
    pickupTickets: new OneTimeSecrets<PickupTicket>(now),
  });
  await app.register(pickupRoutes, {
    enrollment,
    publicUrl: config.publicUrl,
    secureCookies: config.publicUrl.startsWith('https://'),
  });
  return app;
}
