// GET/POST /login, POST /logout, and GET / (the list when signed in, sign-in otherwise).
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { signIn, UnknownNameFailures } from '../../accounts/admins.js';
import { fieldErrors, safeNext } from '../forms.js';
import { signInRateLimit } from '../plugins/rate-limit.js';

const signInBody = z.object({
  username: z.string().trim().min(1, 'Enter your username').max(64, 'Too long'),
  password: z.string().min(1, 'Enter your password').max(1024, 'Too long'),
  next: z.string().max(2048).optional(),
});

const signInRoutes: FastifyPluginAsyncZod = async (app) => {
  const { admins, audit, now, passwordCost } = app.portal;
  const unknownNames = new UnknownNameFailures();

  app.get('/', async (request, reply) => reply.redirect(request.session.admin ? '/certificates' : '/login', 303));

  app.get(
    '/login',
    {
      schema: {
        querystring: z.object({
          next: z.string().max(2048).optional(),
          expired: z.string().optional(),
          signedOut: z.string().optional(),
        }),
      },
    },
    async (request, reply) => {
      if (request.session.admin) return reply.redirect(safeNext(request.query.next), 303);
      const notice = request.query.expired
        ? 'Your session ended. Sign in again.'
        : request.query.signedOut
          ? 'You are signed out.'
          : undefined;
      return reply.page('login', { title: 'Sign in', values: { next: request.query.next ?? '' }, errors: {}, notice });
    },
  );

  app.post(
    '/login',
    { schema: { body: signInBody }, attachValidation: true, config: signInRateLimit },
    async (request, reply) => {
      const raw = request.body as Record<string, unknown>;
      const values = { username: String(raw.username ?? ''), next: String(raw.next ?? '') };
      if (request.validationError) {
        return reply
          .status(400)
          .page('login', { title: 'Sign in', values, errors: fieldErrors(request.validationError) });
      }
      const { username, password, next } = request.body;
      const result = await signIn(admins, unknownNames, username, password, now(), passwordCost);
      audit.record(
        {
          actor: username,
          action: 'sign-in',
          outcome: result.ok ? 'success' : 'failure',
          detail: result.ok ? null : result.reason,
          ip: request.ip,
        },
        now(),
      );
      if (!result.ok) {
        const message =
          result.reason === 'backoff'
            ? `Too many failed attempts for this account. Wait ${result.retryAfterSeconds} seconds and try again.`
            : 'Username or password is wrong.';
        if (result.reason === 'backoff') reply.header('retry-after', String(result.retryAfterSeconds));
        return reply
          .status(result.reason === 'backoff' ? 429 : 401)
          .page('login', { title: 'Sign in', values, errors: { form: message } });
      }
      await request.session.regenerate();
      request.session.admin = result.username;
      request.session.signedInAt = now().getTime();
      request.session.lastSeenAt = now().getTime();
      return reply.redirect(safeNext(next), 303);
    },
  );

  app.post('/logout', async (request, reply) => {
    const admin = request.session.admin;
    if (admin) audit.record({ actor: admin, action: 'sign-out', outcome: 'success', ip: request.ip }, now());
    await request.session.destroy();
    return reply.redirect('/login?signedOut=1', 303);
  });
};
export default signInRoutes;
