// Per-IP rate limits for the routes that guess at secrets (sign-in, setup); opt-in per route.
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Route config for the sign-in style forms: 10 attempts a minute from one address. */
export const signInRateLimit = { rateLimit: { max: 10, timeWindow: 60_000 } };

interface RateLimitOptions {
  /** Whom a request counts against (default: its address); tests name their clients with it. */
  key?: ((request: FastifyRequest) => string) | undefined;
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
        message: `Too many attempts from your address. Wait ${context.after} and try again.`,
      }),
    });
  },
  { name: 'rate-limit' },
);
