// One error handler: a page that explains, never a stack trace; and a proper 404 page.
import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { wordsFor } from '../../words/index.js';

const words = wordsFor().admin.error;

function messageFor(error: FastifyError, status: number): string {
  if (status === 403 && error.code?.startsWith('FST_CSRF')) {
    return words.csrf;
  }
  if (status === 429) return error.message;
  if (status === 413) return words.tooLarge;
  if (status >= 500) return words.server;
  return words.bad;
}

export default fp(
  async (app) => {
    app.setErrorHandler(async (error: FastifyError & { headers?: Record<string, string> }, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: error.code, status }, error.message);
      if (status === 429 && error.headers) reply.headers(error.headers);
      const title =
        status === 429
          ? error.code === 'ANONYMOUS_RATE_LIMITED'
            ? words.tooManyRequests
            : words.tooManyAttempts
          : status === 403
            ? words.notAllowed
            : status >= 500
              ? words.serverError
              : words.badRequest;
      try {
        return await reply.status(status).page('error', { title, status, message: messageFor(error, status) });
      } catch (renderError) {
        request.log.error({ err: renderError }, 'error page failed');
        return reply.status(status).type('text/plain; charset=utf-8').send(`${status} ${title}`);
      }
    });

    app.setNotFoundHandler(async (_request, reply) =>
      reply.status(404).page('error', {
        title: words.notFoundTitle,
        status: 404,
        message: words.notFound,
      }),
    );
  },
  { name: 'errors', dependencies: ['views'] },
);
