// Server-side admin sessions in SQLite, flash messages, and CSRF tokens on every POST form.
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFlash from '@fastify/flash';
import fastifySession from '@fastify/session';
import fp from 'fastify-plugin';

const SESSION_COOKIE = 'enroll_session';
/** Signed out after 30 minutes without a request, and 8 hours after signing in whatever happens. */
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 8 * 3600_000;

export interface SessionOptions {
  /** Signs the session cookie. */
  secret: string;
  /** Where sessions are kept (the Accounts use cases own the table). */
  sessionStore: (idleMs: number) => fastifySession.SessionStore;
  /** Secure cookies when PUBLIC_URL is https. */
  secureCookies: boolean;
}

export default fp<SessionOptions>(
  async (app, options) => {
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: options.secret,
      cookieName: SESSION_COOKIE,
      store: options.sessionStore(SESSION_IDLE_MS),
      saveUninitialized: false,
      rolling: true,
      cookie: {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secureCookies,
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
