// GET /healthz: 200 when the database (and, once loaded, the CA) is usable, 503 otherwise.
import type { FastifyPluginAsync } from 'fastify';

const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      app.portal.db.prepare('SELECT 1').get();
      checks.database = 'ok';
    } catch {
      checks.database = 'failing';
    }
    const healthy = Object.values(checks).every((value) => value === 'ok');
    return reply.status(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'failing', checks });
  });
};
export default healthRoutes;
