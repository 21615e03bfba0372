// GET /backups: the last scheduled backup and the archives in BACKUP_DIR; back up now; download.
// An archive holds the CA key: downloading one asks for the admin's password again, so that a
// session left open (or taken) is not enough to carry the CA away.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Accounts } from '../../accounts/accounts.js';
import { BACKUP_FILE, type BackupScheduler } from '../../backup/scheduler.js';
import { wordsFor } from '../../words/index.js';
import { signInRateLimit } from '../plugins/rate-limit.js';

const archiveParams = z.object({ name: z.string().regex(BACKUP_FILE) });

const backupRoutes: FastifyPluginAsyncZod<{
  backups: BackupScheduler | undefined;
  accounts: Pick<Accounts, 'confirmPassword'>;
}> = async (app, { backups, accounts }) => {
  app.get('/backups', async (_request, reply) =>
    reply.page('backups', {
      title: wordsFor().admin.backups.title,
      schedule: backups?.schedule,
      last: backups?.last,
      files: backups?.files() ?? [],
    }),
  );

  app.post('/backups', async (request, reply) => {
    if (!backups) return reply.callNotFound();
    const last = await backups.run(request.session.admin!);
    if (last.outcome === 'success')
      request.flash('success', wordsFor().admin.backups.written(last.file, Math.ceil((last.size ?? 0) / 1024)));
    else request.flash('error', wordsFor().admin.backups.runFailed(last.error));
    return reply.redirect('/backups', 303);
  });

  const exists = (name: string) => backups?.files().some((file) => file.name === name) ?? false;
  const form = (name: string, error?: string) => ({
    title: wordsFor().admin.backupDownload.title,
    name,
    errors: error ? { form: error } : {},
  });

  // The link on the Backups page leads here: the password form, never the archive itself.
  app.get('/backups/:name', { schema: { params: archiveParams } }, async (request, reply) => {
    if (!exists(request.params.name)) return reply.callNotFound();
    return reply.page('backup-download', form(request.params.name));
  });

  app.post(
    '/backups/:name',
    {
      schema: { params: archiveParams, body: z.object({ password: z.string().max(1024).optional() }) },
      config: signInRateLimit, // a password guess, like a sign-in
    },
    async (request, reply) => {
      const { name } = request.params;
      if (!exists(name)) return reply.callNotFound();
      const confirmed = await accounts.confirmPassword(request.session.admin!, request.body.password ?? '', {
        subject: `backup:${name}`,
        ip: request.ip,
      });
      if (!confirmed.ok) {
        const words = wordsFor().admin.backupDownload;
        if (confirmed.reason === 'sessions-ended') {
          // Too many wrong passwords: every session of this admin ended, this one too.
          await request.session.destroy();
          return reply.redirect('/login', 303);
        }
        if (confirmed.reason === 'wrong-password')
          return reply.status(401).page('backup-download', form(name, words.wrongPassword));
        return reply
          .status(429)
          .header('retry-after', String(confirmed.retryAfterSeconds))
          .page('backup-download', form(name, words.busy));
      }
      const archive = backups?.open(name);
      if (!archive) return reply.callNotFound();
      return reply
        .type('application/gzip')
        .header('content-disposition', `attachment; filename="${archive.name}"`)
        .send(archive.stream);
    },
  );
};
export default backupRoutes;
