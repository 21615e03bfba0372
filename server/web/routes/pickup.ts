// The person's side of a pickup link. GET shows a page and consumes nothing (mail scanners and chat
// previews fetch links); POST with the code redeems. Every link that cannot be redeemed (unknown,
// used, expired, cancelled) gets the same page and status. After redemption the bundle stays in
// memory, named by a signed, HttpOnly, short-lived cookie (no session row for anonymous visitors),
// so the guide survives the trips to Settings and OwnTracks and a reload of the tab.
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { PICKUP_HOLD_MS } from '../../enroll/pickup-rules.js';
import { detectPlatform } from '../platform.js';
import { qrImage } from './invitations.js';
import { wordsFor } from '../../words/index.js';

const words = wordsFor().pickup;

const PICKUP_COOKIE = 'enroll_pickup';
const tokenParams = z.object({ token: z.string().max(64) });
/** Per link, not per address: 500 people behind one venue NAT must all get through. */
const perToken = {
  rateLimit: {
    max: 120,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => `pickup:${(request.params as { token?: string }).token ?? ''}`,
  },
};

const pickupRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'invitations'>;
  publicUrl: string;
  secureCookies: boolean;
}> = async (app, { enrollment, publicUrl, secureCookies }) => {
  const pickups = enrollment.invitations;
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  const holdOf = (request: FastifyRequest): string | undefined => {
    const raw = request.cookies[PICKUP_COOKIE];
    if (!raw) return undefined;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value ? unsigned.value : undefined;
  };
  const cookieOptions = {
    path: '/pickup',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: secureCookies,
    signed: true,
  };

  /** One page for every link that cannot be redeemed: no hint which it was. */
  const unavailable = (reply: FastifyReply) =>
    reply.status(404).page('pickup/unavailable', { title: words.unavailable.title, narrow: true });

  const redeemPage = async (
    token: string,
    request: FastifyRequest,
    reply: FastifyReply,
    os: string | undefined,
    extra: Record<string, unknown> = {},
  ) => {
    const preview = pickups.preview(token);
    if (!preview) return unavailable(reply);
    const platform = detectPlatform(request.headers['user-agent'], os);
    const ownUrl = `${publicUrl}/pickup/${token}`;
    return reply.page('pickup/redeem', {
      title: words.redeem.title,
      narrow: true,
      token,
      preview,
      platform,
      qr: platform.os === 'desktop' ? await qrImage(ownUrl) : undefined,
      ownUrl,
      scripts: ['/static/js/pickup.js'],
      ...extra,
    });
  };

  app.get('/ca.mobileconfig', async (_request, reply) =>
    reply
      .type('application/x-apple-aspen-config')
      .header('content-disposition', 'attachment; filename="owntracks-ca.mobileconfig"')
      .send(pickups.caProfile()),
  );

  app.get('/pickup/finished', async (_request, reply) =>
    reply.page('pickup/finished', { title: words.guide.finishedTitle, narrow: true }),
  );

  app.get(
    '/pickup/:token',
    {
      config: perToken,
      schema: {
        params: tokenParams,
        querystring: z.object({ os: z.enum(['ios', 'android']).optional().catch(undefined) }),
      },
    },
    async (request, reply) => {
      const holdId = holdOf(request);
      const guide = holdId ? pickups.holdFor(request.params.token, holdId) : undefined;
      if (!guide) return redeemPage(request.params.token, request, reply, request.query.os);
      const platform = detectPlatform(request.headers['user-agent'], request.query.os);
      return reply.page('pickup/guide', {
        title: words.guide.title,
        narrow: true,
        token: request.params.token,
        guide,
        platform,
        // The guide is for a phone; a desktop that redeemed sees the iPhone steps until it switches.
        os: platform.os === 'desktop' ? 'ios' : platform.os,
        holdMinutes: PICKUP_HOLD_MS / 60_000,
        scripts: ['/static/js/copy.js'],
      });
    },
  );

  app.post(
    '/pickup/:token',
    {
      config: perToken,
      schema: { params: tokenParams, body: z.object({ code: z.string().max(32).default('') }) },
    },
    async (request, reply) => {
      const token = request.params.token;
      const outcome = await pickups.redeem(token, request.body.code, { name: 'pickup', ip: request.ip });
      if (outcome.ok) {
        reply.setCookie(PICKUP_COOKIE, outcome.holdId, { ...cookieOptions, maxAge: PICKUP_HOLD_MS / 1000 });
        return reply.redirect(`/pickup/${token}`, 303);
      }
      if (outcome.reason === 'unavailable') return unavailable(reply);
      if (outcome.reason === 'wrong-code')
        return outcome.left === 0
          ? unavailable(reply)
          : redeemPage(token, request, reply.status(400), undefined, { codeLeft: outcome.left });
      return redeemPage(token, request, reply.status(409), undefined, { refusal: outcome.reason });
    },
  );

  app.get(
    '/pickup/:token/files/:file',
    {
      // The first download marks the bundle picked up (Done then keeps it): a HEAD sends no bundle.
      exposeHeadRoute: false,
      config: perToken,
      schema: { params: tokenParams.extend({ file: z.enum(['otrp', 'p12', 'otrc']) }) },
    },
    async (request, reply) => {
      const holdId = holdOf(request);
      if (!holdId || !pickups.holdFor(request.params.token, holdId)) return unavailable(reply);
      const file = pickups.file(holdId, request.params.file, request.ip);
      if (!file) return unavailable(reply);
      return reply
        .type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .send(file.body);
    },
  );

  app.post('/pickup/:token/done', { config: perToken, schema: { params: tokenParams } }, async (request, reply) => {
    const holdId = holdOf(request);
    if (holdId && pickups.holdFor(request.params.token, holdId)) await pickups.finish(holdId);
    reply.clearCookie(PICKUP_COOKIE, { path: '/pickup' });
    return reply.redirect('/pickup/finished', 303);
  });
};
export default pickupRoutes;
