// The admin's side of pickup links: the list (with each one's status), one invitation with its
// code shown once after it was made or resent, the QR code for in-person pickup, resend, cancel.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import type { OneTimeSecrets } from '../one-time-secrets.js';
import type { PickupTicket } from '../held-bundles.js';
import { wordsFor } from '../../words/index.js';
import { newSubmissionId, submissionSchema, Submissions } from '../submissions.js';
import type { Notice } from '../presenters.js';

const words = wordsFor().admin.invitations;

const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
/** The Resend form: its rendering's submission id (submissions.ts), so that a double click resends once. */
const resendBody = z.object({ submission: submissionSchema });

/** An SVG QR code, inline in the page (no script, no style attribute: the CSP stays strict). */
/**
 * A QR code as an SVG image in a data: URL, for an <img> (CSP allows data: images): the view prints
 * it escaped like any other value. The qrcode module is loaded with the first one: most starts draw none.
 */
/**
 * Where a created (or resent) invitation goes: its page, which shows the code and link once. They
 * travel there in memory under a one-time ticket, never in the URL.
 */
export function invitationPage(
  pickupTickets: OneTimeSecrets<PickupTicket>,
  invited: { invitationId: number; code: string; url: string; expiresAt: Date },
): string {
  const { invitationId, code, url, expiresAt } = invited;
  return `/invitations/${invitationId}?ticket=${pickupTickets.put({ invitationId, code, url, expiresAt })}`;
}

export const qrImage = async (text: string) => {
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
};

const invitationRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'invitations' | 'now'>;
  pickupTickets: OneTimeSecrets<PickupTicket>;
}> = async (app, { enrollment, pickupTickets }) => {
  /** Resend forms sent (submissions.ts): a double click resends once. */
  const submissions = new Submissions(enrollment.now);
  app.get('/invitations', async (_request, reply) =>
    reply.page('invitations/list', {
      title: wordsFor().pickup.admin.listTitle,
      invitations: enrollment.invitations.list(),
    }),
  );

  app.get(
    '/invitations/:id',
    {
      // The pickup code is shown once: a HEAD must not use it up.
      exposeHeadRoute: false,
      schema: { params: idParams, querystring: z.object({ ticket: z.string().max(64).default('') }) },
    },
    async (request, reply) => {
      const invitation = enrollment.invitations.find(request.params.id);
      if (!invitation) return reply.callNotFound();
      const secret = pickupTickets.take(request.query.ticket);
      const fresh = secret?.invitationId === invitation.id ? secret : undefined;
      // In person, the QR code carries the code too (in the fragment, never sent to the server):
      // scanned, nothing needs typing. The link's text, for those who cannot scan, does not.
      const qrTarget = fresh && invitation.kind === 'qr' ? `${fresh.url}#code=${fresh.code}` : undefined;
      return reply.page('invitations/detail', {
        title: fresh ? words.linkCreated : words.titleFor(invitation.username),
        invitation,
        fresh,
        qr: qrTarget && (await qrImage(qrTarget)),
        submission: newSubmissionId(),
        cancelSubmission: newSubmissionId(),
      });
    },
  );

  app.post('/invitations/:id/resend', { schema: { params: idParams, body: resendBody } }, async (request, reply) => {
    /**
     * Resends and says how it went (flash); answers where to go (undefined for no such invitation),
     * and whether the same form may try again (a refusal or a failure: nothing new was made).
     */
    const resend = async (): Promise<{ location?: string; retry?: boolean }> => {
      const outcome = await enrollment.invitations.resend(request.params.id, {
        name: request.session.admin!,
        ip: request.ip,
      });
      if (outcome.ok) return { location: invitationPage(pickupTickets, outcome) };
      if (outcome.reason === 'not-found') return {};
      request.flash(
        'warning',
        outcome.reason === 'redeemed'
          ? words.alreadyPickedUp
          : outcome.reason === 'device-taken'
            ? words.deviceTaken
            : outcome.reason === 'mail-failed'
              ? words.mailFailed(outcome.mailError)
              : words.noNewLink,
      );
      return { location: `/invitations/${request.params.id}`, retry: true };
    };
    // A second POST of the same page (a double click) is sent where the first went: to the new code,
    // with one mail sent and its link the live one (submissions.ts).
    return submissions.respond(request, reply, request.body.submission, resend);
  });

  app.post(
    '/invitations/:id/cancel',
    { schema: { params: idParams, body: z.object({ submission: submissionSchema }) } },
    async (request, reply) => {
      const cancel = async (): Promise<{ location?: string; notices?: Notice[] }> => {
        const outcome = enrollment.invitations.cancel(request.params.id, {
          name: request.session.admin!,
          ip: request.ip,
        });
        if (!outcome.ok && outcome.reason === 'not-found') return {};
        const notice: Notice = outcome.ok
          ? { kind: 'success', message: words.cancelled }
          : { kind: 'warning', message: words.notOpen };
        return { location: `/invitations/${request.params.id}`, notices: [notice] };
      };
      // A double click cancels once and shows the first answer (submissions.ts).
      return submissions.respond(request, reply, request.body.submission, cancel);
    },
  );
};
export default invitationRoutes;
