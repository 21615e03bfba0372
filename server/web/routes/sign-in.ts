// GET/POST /login, POST /logout, and GET / (the list when signed in, sign-in otherwise).
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Accounts } from '../../accounts/accounts.js';
import { KNOWN_DEVICE_COOKIE, KNOWN_DEVICE_MAX_AGE_SECONDS } from '../../accounts/known-device.js';
import { CONTROL_CHARACTERS } from '../../accounts/admins.js';
import { wordsFor } from '../../words/index.js';
import { fieldErrors, formValue, safeNext } from '../forms.js';
import { signInRateLimit } from '../plugins/rate-limit.js';

const words = wordsFor().admin.login;

const signInBody = z.object({
  username: z
    .string()
    .trim()
    .min(1, words.enterUsername)
    .max(64, words.tooLong)
    .refine((name) => !CONTROL_CHARACTERS.test(name), words.enterUsername),
  password: z.string().min(1, words.enterPassword).max(1024, words.tooLong),
  next: z.string().max(2048).optional(),
});

/** What each refused sign-in answers: a wrong password and an unknown or disabled name look the same. */
const refusals: Record<
  'invalid' | 'backoff' | 'checking' | 'overloaded-address' | 'overloaded-server',
  { status: number; message: (seconds: number) => string }
> = {
  invalid: { status: 401, message: () => words.invalid },
  backoff: {
    status: 429,
    message: words.backoff,
  },
  checking: {
    status: 429,
    message: () => words.checking,
  },
  'overloaded-address': {
    status: 429,
    message: words.overloadedAddress,
  },
  'overloaded-server': {
    status: 503,
    message: words.overloadedServer,
  },
};

const signInRoutes: FastifyPluginAsyncZod<{
  accounts: Pick<Accounts, 'signIn' | 'signOut' | 'knownDevice'>;
  now: () => Date;
}> = async (app, { accounts, now }) => {
  app.get('/', async (request, reply) => reply.redirect(request.session.admin ? '/certificates' : '/login', 303));

  app.get(
    '/login',
    {
      schema: {
        querystring: z.object({
          next: z.string().max(2048).optional(),
          expired: z.string().optional(),
          signedOut: z.string().optional(),
          created: z.string().optional(),
        }),
      },
    },
    async (request, reply) => {
      if (request.session.admin) return reply.redirect(safeNext(request.query.next), 303);
      // Notices come as query parameters: a visitor has no session to hold a flash message.
      const notice = request.query.expired
        ? words.expired
        : request.query.signedOut
          ? words.signedOut
          : request.query.created
            ? words.created
            : undefined;
      return reply.page('login', {
        title: words.title,
        values: { next: request.query.next ?? '' },
        errors: {},
        notice,
      });
    },
  );

  app.post(
    '/login',
    { schema: { body: signInBody }, attachValidation: true, config: signInRateLimit },
    async (request, reply) => {
      const values = { username: formValue(request.body, 'username'), next: formValue(request.body, 'next') };
      if (request.validationError) {
        return reply
          .status(400)
          .page('login', { title: words.title, values, errors: fieldErrors(request.validationError) });
      }
      const { username, password, next } = request.body;
      const result = await accounts.signIn(
        { username, password },
        { ip: request.ip, device: request.cookies[KNOWN_DEVICE_COOKIE] },
      );
      if (!result.ok) {
        const refusal =
          refusals[result.reason === 'overloaded' ? (`overloaded-${result.scope}` as const) : result.reason];
        if ('retryAfterSeconds' in result) reply.header('retry-after', String(result.retryAfterSeconds));
        return reply.status(refusal.status).page('login', {
          title: words.title,
          values,
          errors: { form: refusal.message('retryAfterSeconds' in result ? result.retryAfterSeconds : 0) },
        });
      }
      await request.session.regenerate();
      request.session.admin = result.username;
      request.session.signedInAt = now().getTime();
      request.session.lastSeenAt = now().getTime();
      // This browser signed in: during a flood of sign-ins it waits in the reserved line.
      reply.setCookie(KNOWN_DEVICE_COOKIE, accounts.knownDevice(result.username), {
        path: '/login',
        httpOnly: true,
        sameSite: 'lax',
        secure: 'auto',
        maxAge: KNOWN_DEVICE_MAX_AGE_SECONDS,
      });
      return reply.redirect(safeNext(next), 303);
    },
  );

  app.post('/logout', async (request, reply) => {
    const admin = request.session.admin;
    if (admin) accounts.signOut(admin, request.ip);
    await request.session.destroy();
    return reply.redirect('/login?signedOut=1', 303);
  });
};
export default signInRoutes;
