// Server-side admin sessions in SQLite, flash messages, and CSRF tokens on every POST form.
// Only a signed-in admin has a session row: a visitor's request reads none and writes none
// (DESIGN.md, "Anonymous visitors get no session row"). CSRF therefore uses the signed
// double-submit cookie of @fastify/csrf-protection, which needs no stored state: the secret lives
// in a signed, HttpOnly, SameSite=Strict cookie and each form carries a token made from it. Once
// an admin is signed in, tokens are also bound to the session's id, so a secret planted in the
// browser beforehand (or one of the admin's own from another session) does not make a valid token.
import { createHmac } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFlash from '@fastify/flash';
import fastifySession from '@fastify/session';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

const SESSION_COOKIE = 'enroll_session';
/** Signed out after 30 minutes without a request, and 8 hours after signing in whatever happens. */
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 8 * 3600_000;
/**
 * How precisely the idle limit is kept: the session (its row and cookie) is saved only when the
 * admin's last-seen time moves by this much, not on every request, since each save is a database
 * write on the request's path. The row and the cookie outlive the idle limit by this
 * much, so that the exact check (plugins/auth.ts, on lastSeenAt) is the one that ends a session.
 */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface SessionOptions {
  /** Signs the session and CSRF cookies. */
  secret: string;
  /** Where sessions are kept (the Accounts use cases own the table). */
  sessionStore: (idleMs: number) => fastifySession.SessionStore;
  /** Secure cookies when PUBLIC_URL is https. */
  secureCookies: boolean;
}

/** What a CSRF token is bound to besides its secret: the session of a signed-in admin, else no one. */
export function csrfUserInfo(request: FastifyRequest): string {
  return request.session?.admin ? `session:${request.session.sessionId}` : 'anonymous';
}

export default fp<SessionOptions>(
  async (app, options) => {
    await app.register(fastifyCookie, { secret: options.secret });
    await app.register(fastifySession, {
      secret: options.secret,
      cookieName: SESSION_COOKIE,
      store: options.sessionStore(SESSION_IDLE_MS + LAST_SEEN_RESOLUTION_MS),
      // Nothing is stored until sign-in puts an admin in the session, and afterwards only when it
      // changes (lastSeenAt at most once a minute): not rolling, which wrote the row on every request.
      saveUninitialized: false,
      rolling: false,
      cookie: {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secureCookies,
        maxAge: SESSION_IDLE_MS + LAST_SEEN_RESOLUTION_MS,
      },
    });
    await app.register(fastifyFlash);
    await app.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      // `__Host-`: only this host over https may set it (no cookie tossing from a sibling domain).
      cookieKey: options.secureCookies ? '__Host-enroll_csrf' : 'enroll_csrf',
      cookieOpts: { signed: true, httpOnly: true, sameSite: 'strict', path: '/', secure: options.secureCookies },
      csrfOpts: { userInfo: true, hmacKey: createHmac('sha256', options.secret).update('csrf tokens').digest() },
      getUserInfo: csrfUserInfo,
    });

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
