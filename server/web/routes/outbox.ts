// GET /outbox: with no SMTP server configured, mail lands in DATA_DIR/outbox; admins fetch it here.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { listOutbox, outboxDir } from '../../mail/transport.js';

const outboxRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config } = app.portal;

  app.get('/outbox', async (_request, reply) =>
    reply.page('outbox', { title: 'Outbox', messages: listOutbox(config.dataDir), smtp: Boolean(config.smtpUrl) }),
  );

  app.get(
    '/outbox/:name',
    { schema: { params: z.object({ name: z.string().regex(/^[\w.-]+\.eml$/) }) } },
    async (request, reply) => {
      const entry = listOutbox(config.dataDir).find((message) => message.name === request.params.name);
      if (!entry) return reply.callNotFound();
      return reply
        .type('message/rfc822')
        .header('content-disposition', `attachment; filename="${entry.name}"`)
        .send(createReadStream(path.join(outboxDir(config.dataDir), entry.name)));
    },
  );
};
export default outboxRoutes;
