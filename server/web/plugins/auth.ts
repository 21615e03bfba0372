// Who is signed in: the guard for admin pages, with idle and absolute session limits.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LAST_SEEN_RESOLUTION_MS, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from './session.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for admin routes: redirects to sign-in unless a live admin session exists. */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export default fp<{ now: () => Date }>(
  async (app, options) => {
    app.decorate('requireAdmin', async (request: FastifyRequest, reply: FastifyReply) => {
      const session = request.session;
      const now = options.now().getTime();
      if (!session.admin) {
        const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
        return reply.redirect(`/login${next}`, 303);
      }
      const idle = now - (session.lastSeenAt ?? 0) > SESSION_IDLE_MS;
      const tooOld = now - (session.signedInAt ?? 0) > SESSION_ABSOLUTE_MS;
      if (idle || tooOld) {
        await session.destroy();
        return reply.redirect('/login?expired=1', 303);
      }
      // Saved at most once a minute: every change is a database write on the request's path.
      if (now - (session.lastSeenAt ?? 0) >= LAST_SEEN_RESOLUTION_MS) session.lastSeenAt = now;
    });
  },
  { name: 'auth', dependencies: ['session'] },
);
