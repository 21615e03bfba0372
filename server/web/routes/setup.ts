// GET/POST /setup: the one-time link from the log creates the first admin; then the link dies.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Accounts } from '../../accounts/accounts.js';
import { adminPasswordSchema, adminUsernameSchema } from '../../accounts/admins.js';
import { wordsFor } from '../../words/index.js';
import { fieldErrors, formValue } from '../forms.js';
import { signInRateLimit } from '../plugins/rate-limit.js';

const words = wordsFor().admin.setup;

const setupBody = z
  .object({
    token: z.string().max(200),
    username: adminUsernameSchema,
    password: adminPasswordSchema,
    confirm: z.string().max(1024),
  })
  .refine((body) => body.password === body.confirm, { path: ['confirm'], message: words.mismatch });

const setupRoutes: FastifyPluginAsyncZod<{
  accounts: Pick<Accounts, 'setupLinkUsable' | 'createFirstAdmin'>;
}> = async (app, { accounts }) => {
  const usable = accounts.setupLinkUsable;
  const gone = {
    title: words.goneTitle,
    status: 404,
    message: words.gone,
  };

  app.get(
    '/setup',
    { schema: { querystring: z.object({ token: z.string().max(200).default('') }) } },
    async (request, reply) => {
      if (!usable(request.query.token)) return reply.status(404).page('error', gone);
      return reply.page('setup', {
        title: words.title,
        values: { token: request.query.token, username: '' },
        errors: {},
      });
    },
  );

  app.post(
    '/setup',
    { schema: { body: setupBody }, attachValidation: true, config: signInRateLimit },
    async (request, reply) => {
      const values = { token: formValue(request.body, 'token'), username: formValue(request.body, 'username') };
      if (!usable(values.token)) return reply.status(404).page('error', gone);
      if (request.validationError) {
        return reply
          .status(400)
          .page('setup', { title: words.title, values, errors: fieldErrors(request.validationError) });
      }
      const created = await accounts.createFirstAdmin(
        { token: values.token, username: request.body.username, password: request.body.password },
        request.ip,
      );
      if (!created.ok) {
        if (created.reason === 'invalid')
          return reply.status(400).page('setup', { title: words.title, values, errors: created.issues });
        return reply.status(404).page('error', gone); // the link was used meanwhile
      }
      // A query parameter, not a flash message: a visitor has no session to keep one in.
      return reply.redirect('/login?created=1', 303);
    },
  );
};
export default setupRoutes;
