// GET/POST /setup: the one-time link from the log creates the first admin; then the link dies.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { adminPasswordSchema, adminUsernameSchema, createAdmin } from '../../accounts/admins.js';
import { fieldErrors } from '../forms.js';
import { signInRateLimit } from '../plugins/rate-limit.js';

const setupBody = z
  .object({
    token: z.string().max(200),
    username: adminUsernameSchema,
    password: adminPasswordSchema,
    confirm: z.string().max(1024),
  })
  .refine((body) => body.password === body.confirm, { path: ['confirm'], message: 'The passwords do not match' });

const setupRoutes: FastifyPluginAsyncZod = async (app) => {
  const { admins, audit, now, setupToken, passwordCost } = app.portal;
  const usable = (token: string) => admins.count() === 0 && setupToken.matches(token);
  const gone = {
    title: 'Setup link not valid',
    status: 404,
    message:
      'This setup link was used already or is not valid. Sign in, or restart the portal to print a new link if no admin exists.',
  };

  app.get(
    '/setup',
    { schema: { querystring: z.object({ token: z.string().max(200).default('') }) } },
    async (request, reply) => {
      if (!usable(request.query.token)) return reply.status(404).page('error', gone);
      return reply.page('setup', {
        title: 'Create the first admin',
        values: { token: request.query.token, username: '' },
        errors: {},
      });
    },
  );

  app.post(
    '/setup',
    { schema: { body: setupBody }, attachValidation: true, config: signInRateLimit },
    async (request, reply) => {
      const raw = request.body as Record<string, unknown>;
      const values = { token: String(raw.token ?? ''), username: String(raw.username ?? '') };
      if (!usable(values.token)) return reply.status(404).page('error', gone);
      if (request.validationError) {
        return reply
          .status(400)
          .page('setup', { title: 'Create the first admin', values, errors: fieldErrors(request.validationError) });
      }
      setupToken.revoke(); // before the slow hash, so two racing requests cannot both use it
      const username = await createAdmin(admins, request.body.username, request.body.password, now(), passwordCost);
      audit.record(
        {
          actor: username,
          action: 'admin-created',
          subject: username,
          outcome: 'success',
          detail: 'setup link',
          ip: request.ip,
        },
        now(),
      );
      request.flash('success', `Admin ${username} created. Sign in to continue.`);
      return reply.redirect('/login', 303);
    },
  );
};
export default setupRoutes;
