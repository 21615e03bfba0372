// GET /outbox: with no SMTP server configured, mail lands in DATA_DIR/outbox; admins fetch it here
// until its certificate is revoked or OUTBOX_RETENTION_DAYS have passed.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { newSubmissionId } from '../submissions.js';
import { wordsFor } from '../../words/index.js';

const outboxRoutes: FastifyPluginAsyncZod<{ enrollment: Pick<Enrollment, 'outbox' | 'setup'> }> = async (
  app,
  { enrollment },
) => {
  app.get('/outbox', async (_request, reply) =>
    reply.page('outbox', {
      title: wordsFor().admin.outbox.title,
      messages: enrollment.outbox.list(),
      retentionDays: enrollment.outbox.retentionDays,
      smtp: enrollment.setup().smtp,
      // One for the page's Mark as forwarded forms (the certificate is part of the key).
      forwardSubmission: newSubmissionId(),
    }),
  );

  app.get(
    '/outbox/:name',
    { schema: { params: z.object({ name: z.string().regex(/^[\w.-]+\.eml$/) }) } },
    async (request, reply) => {
      const message = enrollment.outbox.open(request.params.name);
      if (!message) return reply.callNotFound();
      return reply
        .type('message/rfc822')
        .header('content-disposition', `attachment; filename="${message.name}"`)
        .send(message.stream);
    },
  );
};
export default outboxRoutes;
