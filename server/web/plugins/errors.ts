// One error handler: a page that explains, never a stack trace; and a proper 404 page.
import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';

function messageFor(error: FastifyError, status: number): string {
  if (status === 403 && error.code?.startsWith('FST_CSRF')) {
    return 'This form expired or did not come from this portal. Go back, reload the page and try again.';
  }
  if (status === 429) return error.message;
  if (status === 413) return 'What you sent is too large.';
  if (status >= 500) return 'Something went wrong on our side. The details are in the portal’s log.';
  return 'The request could not be handled.';
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
            ? 'Too many requests'
            : 'Too many attempts'
          : status === 403
            ? 'Not allowed'
            : status >= 500
              ? 'Server error'
              : 'Bad request';
      try {
        return await reply.status(status).page('error', { title, status, message: messageFor(error, status) });
      } catch (renderError) {
        request.log.error({ err: renderError }, 'error page failed');
        return reply.status(status).type('text/plain; charset=utf-8').send(`${status} ${title}`);
      }
    });

    app.setNotFoundHandler(async (_request, reply) =>
      reply.status(404).page('error', {
        title: 'Page not found',
        status: 404,
        message: 'There is no page at this address.',
      }),
    );
  },
  { name: 'errors', dependencies: ['views'] },
);
