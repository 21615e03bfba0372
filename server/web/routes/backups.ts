// GET /backups: the last scheduled backup and the archives in BACKUP_DIR; back up now; download.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BACKUP_FILE, type BackupScheduler } from '../../backup/scheduler.js';

const backupRoutes: FastifyPluginAsyncZod<{ backups: BackupScheduler | undefined }> = async (app, { backups }) => {
  app.get('/backups', async (_request, reply) =>
    reply.page('backups', {
      title: 'Backups',
      schedule: backups?.schedule,
      last: backups?.last,
      files: backups?.files() ?? [],
    }),
  );

  app.post('/backups', async (request, reply) => {
    if (!backups) return reply.callNotFound();
    const last = await backups.run(request.session.admin!);
    if (last.outcome === 'success')
      request.flash('success', `Backup ${last.file} written (${Math.ceil((last.size ?? 0) / 1024)} KiB).`);
    else request.flash('error', `The backup failed: ${last.error}`);
    return reply.redirect('/backups', 303);
  });

  app.get(
    '/backups/:name',
    { schema: { params: z.object({ name: z.string().regex(BACKUP_FILE) }) } },
    async (request, reply) => {
      const archive = backups?.open(request.params.name);
      if (!archive) return reply.callNotFound();
      return reply
        .type('application/gzip')
        .header('content-disposition', `attachment; filename="${archive.name}"`)
        .send(archive.stream);
    },
  );
};
export default backupRoutes;
