// Per-IP rate limits for the routes that guess at secrets (sign-in, setup); opt-in per route.
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';

/** Route config for the sign-in style forms: 10 attempts a minute from one address. */
export const signInRateLimit = { rateLimit: { max: 10, timeWindow: 60_000 } };

export default fp(
  async (app) => {
    await app.register(rateLimit, {
      global: false,
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
