// GET /backups: the last scheduled backup and the archives in BACKUP_DIR; back up now; download.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BACKUP_FILE } from '../../backup/scheduler.js';

const backupRoutes: FastifyPluginAsyncZod = async (app) => {
  const { backups } = app.portal;

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
      const file = backups?.files().find((entry) => entry.name === request.params.name);
      if (!backups || !file) return reply.callNotFound();
      return reply
        .type('application/gzip')
        .header('content-disposition', `attachment; filename="${file.name}"`)
        .send(createReadStream(path.join(backups.schedule.dir, file.name)));
    },
  );
};
export default backupRoutes;
