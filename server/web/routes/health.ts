// GET /healthz: 200 when the database, the CA and the CRL are usable; "degraded" (still 200) when
// the CRL is within three days of its nextUpdate or a failed publication awaits its retry; 503
// when something is failing.
import type { FastifyPluginAsync } from 'fastify';
import type { Enrollment } from '../../enroll/enrollment.js';

const healthRoutes: FastifyPluginAsync<{ enrollment: Pick<Enrollment, 'health'> }> = async (app, { enrollment }) => {
  // Without Helmet's page headers: monitors poll this JSON (every 10 ms in bench:presence), and
  // @fastify/helmet builds its middlewares, the CSP's parse included, for every request it serves.
  app.get('/healthz', { helmet: false }, async (_request, reply) => {
    const health = enrollment.health();
    return reply
      .status(health.status === 'failing' ? 503 : 200)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(health);
  });
};
export default healthRoutes;
