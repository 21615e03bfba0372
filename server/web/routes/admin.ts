// Every page behind sign-in: one encapsulated context whose preHandler is the admin guard. Each
// page's plugin gets only the use cases it needs.
import type { FastifyPluginAsync } from 'fastify';
import type { Accounts } from '../../accounts/accounts.js';
import type { BackupScheduler } from '../../backup/scheduler.js';
import type { Enrollment } from '../../enroll/enrollment.js';
import type { Sharing } from '../../enroll/sharing.js';
import type { Services } from '../../services.js';
import type { OneTimeSecrets, Passphrases } from '../one-time-secrets.js';
import type { HeldBundles, PickupTicket } from '../held-bundles.js';
import invitationRoutes from './invitations.js';
import auditRoutes from './audit.js';
import backupRoutes from './backups.js';
import brokerRoutes from './broker.js';
import certificateRoutes from './certificates.js';
import groupRoutes from './groups.js';
import issueRoutes from './issue.js';
import outboxRoutes from './outbox.js';
import settingsRoutes from './settings.js';
import peopleRoutes from './people.js';

export interface AdminOptions {
  enrollment: Enrollment;
  backups: BackupScheduler | undefined;
  /** Confirms an admin's password before a backup leaves the portal. */
  accounts: Pick<Accounts, 'confirmPassword'>;
  audit: Services['audit'];
  passphrases: Passphrases;
  sharing: Sharing;
  bundles: HeldBundles;
  pickupTickets: OneTimeSecrets<PickupTicket>;
}

const adminRoutes: FastifyPluginAsync<AdminOptions> = async (
  app,
  { enrollment, backups, accounts, audit, passphrases, sharing, bundles, pickupTickets },
) => {
  app.addHook('preHandler', app.requireAdmin);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  await app.register(issueRoutes, { enrollment, passphrases, bundles, pickupTickets });
  await app.register(invitationRoutes, { enrollment, pickupTickets });
  await app.register(certificateRoutes, { enrollment, passphrases });
  await app.register(outboxRoutes, { enrollment });
  await app.register(peopleRoutes, { enrollment });
  await app.register(auditRoutes, { audit, enrollment });
  await app.register(brokerRoutes, { enrollment });
  await app.register(backupRoutes, { backups, accounts });
  await app.register(settingsRoutes, { enrollment });
  await app.register(groupRoutes, { sharing });
};
export default adminRoutes;
