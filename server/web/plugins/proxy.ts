// The TLS-proxy trap. With an https PUBLIC_URL the session cookie is Secure, and @fastify/session
// sets it only on a request that arrived over https. Behind a TLS proxy that the portal does not
// trust (TRUST_PROXY unset), every request looks like plain HTTP: the cookie is never set and
// sign-in fails without a word. Say so at start, in the log at the first proxied request, and on
// the sign-in page, with the setting that fixes it.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request came through a proxy the portal does not trust while PUBLIC_URL is https. */
    proxyWarning?: { proxyAddress: string } | undefined;
  }
}

export interface ProxyOptions {
  publicUrl: string;
  /** TRUST_PROXY as configured: false when unset. */
  trustProxy: false | number | string[];
}

const FORWARDING_HEADERS = ['x-forwarded-proto', 'x-forwarded-for', 'x-forwarded-host', 'forwarded'];

const forwarded = (request: FastifyRequest) => FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined);

export default fp<ProxyOptions>(
  async (app, options) => {
    app.decorateRequest('proxyWarning', undefined);
    if (options.trustProxy !== false || !options.publicUrl.startsWith('https://')) return;

    app.addHook('onReady', async () => {
      app.log.warn(
        `PUBLIC_URL is ${options.publicUrl} but TRUST_PROXY is unset, so X-Forwarded-* headers are ignored and ` +
          'every request counts as plain HTTP: the Secure session cookie is not set and sign-in fails. Behind a ' +
          'TLS proxy, set TRUST_PROXY to the number of proxies in front (usually one) or to their addresses.',
      );
    });

    let warned = false;
    app.addHook('onRequest', async (request) => {
      if (request.protocol !== 'http' || !forwarded(request)) return;
      const proxyAddress = request.socket.remoteAddress ?? 'the proxy’s address';
      request.proxyWarning = { proxyAddress };
      if (warned) return;
      warned = true;
      request.log.warn(
        { proxyAddress },
        `A request came through a proxy (X-Forwarded-* headers, from ${proxyAddress}) that is not trusted while ` +
          `PUBLIC_URL is https: sign-in cannot work. Set TRUST_PROXY=1 (one proxy in front) or ` +
          `TRUST_PROXY=${proxyAddress} (this proxy's address) and restart.`,
      );
    });
  },
  { name: 'proxy' },
);
