// GET /audit: who did what, when and from where; filter by actor and action, pages.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import type { Services } from '../../services.js';
import { wordsFor } from '../../words/index.js';

const PAGE_SIZE = 100;

const auditRoutes: FastifyPluginAsyncZod<{
  audit: Services['audit'];
  enrollment: Pick<Enrollment, 'auditSubjects'>;
}> = async (app, { audit, enrollment }) => {
  app.get(
    '/audit',
    {
      schema: {
        querystring: z.object({
          actor: z.string().max(100).default(''),
          action: z.string().max(50).default(''),
          before: z.coerce.number().int().positive().optional().catch(undefined),
        }),
      },
    },
    async (request, reply) => {
      const { actor, action, before } = request.query;
      const page = audit.page({
        actor: actor || undefined,
        action: action || undefined,
        beforeId: before,
        limit: PAGE_SIZE,
      });
      const filters = { actor, action };
      return reply.page('audit', {
        title: wordsFor().admin.audit.title,
        rows: page.rows,
        subjects: enrollment.auditSubjects(page.rows.map((row) => row.subject)),
        actions: audit.actions(),
        filters,
        nextUrl: page.nextBeforeId
          ? `/audit?${new URLSearchParams({ ...filters, before: String(page.nextBeforeId) })}`
          : undefined,
        firstUrl: before ? `/audit?${new URLSearchParams(filters)}` : undefined,
      });
    },
  );
};
export default auditRoutes;
