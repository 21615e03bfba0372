// Page rendering (eta, escaped by default) and the static assets under public/.
// A page costs no database write: a CSRF token is made only where a form is rendered (every
// signed-in page has the sign-out form; of the anonymous ones, sign-in and setup), and flash
// messages are read only when the session holds some.
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import { publicDir, viewsDir } from '../../paths.js';
import type { PageData } from '../context.js';
import { wordsFor } from '../../words/index.js';
import { relativeTime } from '../presenters.js';
import { csrfUserInfo } from './session.js';

const cache = process.env.NODE_ENV !== 'development';
const eta = new Eta({ views: viewsDir, cache, autoEscape: true });

/** The pages a visitor who is not signed in gets a form on. */
const ANONYMOUS_FORMS = new Set(['login', 'setup', 'pickup/redeem', 'pickup/guide']);

export default fp<{ now: () => Date }>(
  async (app, options) => {
    // `production` says the same as `cache` above: @fastify/view sets eta's cache to it before every
    // render, and by default only under NODE_ENV=production, so elsewhere (the tests, a service run
    // without NODE_ENV) each page compiled its templates again; about a tenth of the unit tier's time.
    await app.register(fastifyView, { engine: { eta }, root: viewsDir, production: cache });
    await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', maxAge: '1h' });

    app.decorateReply('page', async function page(this: FastifyReply, view: string, data: PageData) {
      const request = this.request;
      const session = request.session;
      const stored = (session as unknown as Record<string, unknown> | undefined)?.flash;
      const hasFlash = typeof stored === 'object' && stored !== null && Object.keys(stored).length > 0;
      const flash = hasFlash ? this.flash() : {};
      const withForm = Boolean(session?.admin) || ANONYMOUS_FORMS.has(view);
      const html = await this.viewAsync(view, {
        ...data,
        admin: session?.admin,
        path: request.url.split('?')[0],
        flash,
        csrfToken: withForm ? this.generateCsrf({ userInfo: csrfUserInfo(request) }) : '',
        proxyWarning: request.proxyWarning,
        productName: 'OwnTracks Enroll',
        words: wordsFor(),
        relative: (date: Date | string) => relativeTime(date, options.now()),
        now: options.now(),
        scripts: ['/static/js/local-time.js', ...((data.scripts as string[] | undefined) ?? [])],
      });
      return this.type('text/html; charset=utf-8').send(html);
    });
  },
  { name: 'views', dependencies: ['session', 'proxy'] },
);
