// Server-side admin sessions in SQLite, flash messages, and CSRF tokens on every POST form.
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFlash from '@fastify/flash';
import fastifySession from '@fastify/session';
import fp from 'fastify-plugin';
import type { Session } from 'fastify';
import { sessionsRepository } from '../../db/sessions.js';

export const SESSION_COOKIE = 'enroll_session';
/** Signed out after 30 minutes without a request, and 8 hours after signing in whatever happens. */
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 8 * 3600_000;

export default fp(
  async (app) => {
    const { config, db, now, settings } = app.portal;
    const secret = settings.getOrCreate('session_secret', () => randomBytes(32).toString('hex'));
    const sessions = sessionsRepository<Session>(db, now, SESSION_IDLE_MS);

    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret,
      cookieName: SESSION_COOKIE,
      store: sessions.store,
      saveUninitialized: false,
      rolling: true,
      cookie: {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: config.publicUrl.startsWith('https://'),
        maxAge: SESSION_IDLE_MS,
      },
    });
    await app.register(fastifyFlash);
    await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });

    // Every POST route checks its token. preValidation, not onRequest: the form body is parsed
    // by then, and not yet replaced by the schema's output (which would drop `_csrf`).
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (!methods.includes('POST')) return;
      const existing = route.preValidation ? [route.preValidation].flat() : [];
      route.preValidation = [app.csrfProtection, ...existing];
    });
  },
  { name: 'session', dependencies: [] },
);
