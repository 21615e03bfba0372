// Page rendering (eta, escaped by default) and the static assets under public/.
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import { publicDir, viewsDir } from '../../paths.js';
import type { PageData } from '../context.js';
import { relativeTime } from '../presenters.js';

const eta = new Eta({ views: viewsDir, cache: process.env.NODE_ENV !== 'development', autoEscape: true });

export default fp<{ now: () => Date }>(
  async (app, options) => {
    await app.register(fastifyView, { engine: { eta }, root: viewsDir });
    await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', maxAge: '1h' });

    app.decorateReply('page', async function page(this: FastifyReply, view: string, data: PageData) {
      const request = this.request;
      const session = request.session;
      const flash = typeof this.flash === 'function' ? this.flash() : {};
      const html = await this.viewAsync(view, {
        ...data,
        admin: session?.admin,
        path: request.url.split('?')[0],
        flash,
        csrfToken: session ? this.generateCsrf() : '',
        productName: 'OwnTracks Enroll',
        relative: (date: Date | string) => relativeTime(date, options.now()),
        scripts: ['/static/js/local-time.js', ...((data.scripts as string[] | undefined) ?? [])],
      });
      return this.type('text/html; charset=utf-8').send(html);
    });
  },
  { name: 'views', dependencies: ['session'] },
);
