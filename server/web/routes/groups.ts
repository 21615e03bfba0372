// Sharing groups: the list with their members, and forms to create, rename, add and remove people.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sharing } from '../../enroll/sharing.js';
import { wordsFor } from '../../words/index.js';

const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const nameBody = z.object({ name: z.string().max(1000).default('') });
const personBody = z.object({ username: z.string().max(64).default('') });

const groupRoutes: FastifyPluginAsyncZod<{ sharing: Sharing }> = async (app, { sharing }) => {
  const words = wordsFor().groups;

  app.get('/groups', async (_request, reply) => {
    const { groups, people } = sharing.available ? sharing.list() : { groups: [], people: [] };
    return reply.page('groups', { title: words.title, available: sharing.available, groups, people });
  });

  const actor = (request: { session: { admin?: string }; ip: string }) => ({
    name: request.session.admin!,
    ip: request.ip,
  });
  type Result = { ok: true; brokerError?: string } | { ok: false; reason: string; issues?: Record<string, string> };
  const tell = (request: { flash(kind: string, message: string): void }, result: Result, success: string) => {
    if (result.ok) {
      request.flash('success', success);
      if (result.brokerError) request.flash('error', words.brokerFailed(result.brokerError));
    } else if (result.reason === 'invalid') request.flash('warning', Object.values(result.issues ?? {}).join('; '));
    else if (result.reason === 'unchanged') request.flash('info', words.unchanged);
    else if (result.reason === 'no-broker-link') request.flash('warning', words.noLink);
    else request.flash('warning', words.notFound);
  };

  app.post('/groups', { schema: { body: nameBody } }, async (request, reply) => {
    const result = await sharing.create(request.body.name, actor(request));
    tell(request, result, words.created(request.body.name.trim()));
    return reply.redirect('/groups', 303);
  });

  app.post('/groups/:id/rename', { schema: { params: idParams, body: nameBody } }, async (request, reply) => {
    tell(request, sharing.rename(request.params.id, request.body.name, actor(request)), words.renamed);
    return reply.redirect('/groups', 303);
  });

  app.post('/groups/:id/members', { schema: { params: idParams, body: personBody } }, async (request, reply) => {
    const result = await sharing.addMember(request.params.id, request.body.username, actor(request));
    tell(request, result, words.added(request.body.username));
    return reply.redirect('/groups', 303);
  });

  app.post('/groups/:id/members/remove', { schema: { params: idParams, body: personBody } }, async (request, reply) => {
    const result = await sharing.removeMember(request.params.id, request.body.username, actor(request));
    tell(request, result, words.removed(request.body.username));
    return reply.redirect('/groups', 303);
  });
};
export default groupRoutes;
