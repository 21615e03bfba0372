// Every page behind sign-in: one encapsulated context whose preHandler is the admin guard.
import type { FastifyPluginAsync } from 'fastify';
import auditRoutes from './audit.js';
import backupRoutes from './backups.js';
import brokerRoutes from './broker.js';
import certificateRoutes from './certificates.js';
import issueRoutes from './issue.js';
import outboxRoutes from './outbox.js';

const adminRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('preHandler', app.requireAdmin);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  await app.register(issueRoutes);
  await app.register(certificateRoutes);
  await app.register(outboxRoutes);
  await app.register(auditRoutes);
  await app.register(brokerRoutes);
  await app.register(backupRoutes);
};
export default adminRoutes;
