// GET /healthz: 200 when the database, the CA and the CRL are usable; "degraded" (still 200) when
// the CRL is within three days of its nextUpdate; 503 when something is failing.
import type { FastifyPluginAsync } from 'fastify';
import { databasePing } from '../../db/database.js';
import { CRL_DEGRADED_WITHIN_MS } from '../../enroll/crl-publisher.js';

type Check = 'ok' | 'degraded' | 'failing';

const healthRoutes: FastifyPluginAsync = async (app) => {
  const { db, enroll, now } = app.portal;

  const ping = databasePing(db);
  const checkDatabase = (): Check => {
    try {
      ping();
      return 'ok';
    } catch {
      return 'failing';
    }
  };
  const checkCa = (): Check => (new Date(enroll.ca.x509.validTo).getTime() > now().getTime() ? 'ok' : 'failing');
  const checkCrl = (nextUpdate: Date | undefined): Check => {
    if (!nextUpdate || nextUpdate.getTime() <= now().getTime()) return 'failing';
    return nextUpdate.getTime() - now().getTime() < CRL_DEGRADED_WITHIN_MS ? 'degraded' : 'ok';
  };

  app.get('/healthz', async (_request, reply) => {
    const crlNextUpdate = enroll.crl.nextUpdate; // read from the database once per request
    const checks = { database: checkDatabase(), ca: checkCa(), crl: checkCrl(crlNextUpdate) };
    const values = Object.values(checks);
    const status: Check = values.includes('failing') ? 'failing' : values.includes('degraded') ? 'degraded' : 'ok';
    return reply
      .status(status === 'failing' ? 503 : 200)
      .header('cache-control', 'no-store')
      .send({ status, checks, crlNextUpdate: crlNextUpdate?.toISOString() });
  });
};
export default healthRoutes;
