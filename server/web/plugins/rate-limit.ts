// Per-address rate limits. Routes that guess at secrets (sign-in, setup) opt in to a tight limit;
// every other request from a visitor who is not signed in counts against a general one, so that
// one address cannot keep the portal busy rendering pages. Signed-in admins are not held by the
// general limit, nor are the paths that brokers and monitors poll, nor the static files.
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { wordsFor } from '../../words/index.js';

/** Route config for the sign-in style forms: 10 attempts a minute from one address. */
export const signInRateLimit = { rateLimit: { max: 10, timeWindow: 60_000 } };

/** Anonymous requests, any page: 300 a minute from one address. */
export const ANONYMOUS_RATE_LIMIT = { max: 300, timeWindow: 60_000 };

/** Pickup pages from one address: 500 people behind one venue NAT, ten requests each, in a few minutes. */
const PICKUP_ADDRESS_RATE_LIMIT = { max: 6000, timeWindow: 60_000 };

/** Never limited: polled by brokers and monitors, or static (by route, so `/static/..` tricks do not count). */
const EXEMPT_ROUTES = new Set(['/healthz', '/ca.crt', '/ca.otre', '/crl.pem']);
const exempt = (request: FastifyRequest) => {
  const route = request.routeOptions.url;
  return route !== undefined && (EXEMPT_ROUTES.has(route) || route.startsWith('/static/'));
};

export interface RateLimitOptions {
  /** Whom a request counts against (default: its address); tests name their clients with it. */
  key?: ((request: FastifyRequest) => string) | undefined;
}

class RateLimited extends Error {
  readonly statusCode = 429;
  readonly code = 'ANONYMOUS_RATE_LIMITED';
  constructor(
    message: string,
    readonly headers: Record<string, string>,
  ) {
    super(message);
  }
}

export default fp<RateLimitOptions>(
  async (app, options) => {
    await app.register(rateLimit, {
      global: false,
      ...(options.key && { keyGenerator: options.key }),
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        error: 'Too Many Requests',
        message: wordsFor().admin.error.rateLimited(context.after),
      }),
    });

    // After the session is loaded (registered before this plugin), before routing work.
    const anonymousLimit = app.createRateLimit(ANONYMOUS_RATE_LIMIT);
    // Pickup pages count per link (their own route limit); per address only a wide bound, so that
    // a whole event behind one NAT gets through.
    const pickupAddressLimit = app.createRateLimit(PICKUP_ADDRESS_RATE_LIMIT);
    app.addHook('onRequest', async (request) => {
      if (request.session?.admin || exempt(request)) return;
      const route = request.routeOptions.url ?? '';
      const pickup = route.startsWith('/pickup/') || route === '/ca.mobileconfig';
      const limit = await (pickup ? pickupAddressLimit : anonymousLimit)(request);
      if (!limit.isAllowed && limit.isExceeded) {
        const wait = limit.ttlInSeconds;
        throw new RateLimited(wordsFor().admin.error.anonymousLimited(wait), { 'retry-after': String(wait) });
      }
    });
  },
  { name: 'rate-limit', dependencies: ['session'] },
);
