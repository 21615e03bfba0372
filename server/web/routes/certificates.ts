// The issued certificates: the list (search, filters, sort, pages), a detail page, the
// certificate's public part, and revocation.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { revocationReasonSchema } from '../../enroll/rules.js';
import { OneTimeSecrets, type Passphrases } from '../one-time-secrets.js';
import { newSubmissionId, submissionSchema, Submissions } from '../submissions.js';
import { fieldErrors } from '../forms.js';
import { describeKick, describePublication, type Notice } from '../presenters.js';
import { wordsFor } from '../../words/index.js';

const words = wordsFor().pages;
const admin = wordsFor().admin;

const PAGE_SIZE = 50;

const listQuery = z.object({
  q: z.string().max(254).default(''),
  status: z.enum(['all', 'active', 'revoked', 'expired']).catch('all'),
  expiring: z.literal('30').optional().catch(undefined),
  never: z.literal('1').optional().catch(undefined),
  sort: z.enum(['issued', 'expiry']).catch('issued'),
  after: z
    .string()
    .max(100)
    .regex(/^[^|]+\|\d+$/)
    .optional()
    .catch(undefined),
});

const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

const revokeBody = z.object({ reason: revocationReasonSchema, submission: submissionSchema });
const replaceReason = z.enum(['superseded', 'keyCompromise']);
const replaceBody = z.object({ reason: replaceReason.catch('superseded'), submission: submissionSchema });
const forwardedBody = z.object({ from: z.enum(['outbox', 'detail']).catch('detail'), submission: submissionSchema });

const certificateRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<
    Enrollment,
    | 'list'
    | 'detail'
    | 'certificate'
    | 'revoke'
    | 'replace'
    | 'setup'
    | 'revocationReasons'
    | 'now'
    | 'markForwarded'
    | 'deviceCollisions'
    | 'invitations'
    | 'broker'
  >;
  passphrases: Passphrases;
}> = async (app, { enrollment, passphrases }) => {
  /** Revoke, Replace and Mark as forwarded sent (submissions.ts): a double click acts once. */
  const submissions = new Submissions(enrollment.now);
  /** A failed Replace's page, held in memory for the GET the POST redirects to (ten minutes, reloads included). */
  const replaceFailures = new OneTimeSecrets<{
    certificateId: number;
    outcome: Extract<Awaited<ReturnType<typeof enrollment.replace>>, { reason: 'mail-failed' }>;
    username: string;
    email: string;
    /** Whether the certificate it was to replace is still active (not when its key was compromised). */
    oldKept: boolean;
  }>(enrollment.now);

  app.get('/certificates', { schema: { querystring: listQuery } }, async (request, reply) => {
    const query = request.query;
    const [afterKey, afterId] = query.after ? query.after.split('|') : [];
    const page = enrollment.list({
      search: query.q,
      status: query.status,
      expiringWithinDays: query.expiring ? 30 : undefined,
      neverConnected: query.never === '1',
      sort: query.sort,
      after: afterKey && afterId ? { key: afterKey, id: Number(afterId) } : undefined,
      limit: PAGE_SIZE,
    });
    const filters = {
      q: query.q,
      status: query.status,
      expiring: query.expiring ?? '',
      ...(query.never && { never: query.never }),
      sort: query.sort,
    };
    const nextUrl = page.next
      ? `/certificates?${new URLSearchParams({ ...filters, after: `${page.next.key}|${page.next.id}` })}`
      : undefined;
    const firstUrl = query.after ? `/certificates?${new URLSearchParams(filters)}` : undefined;
    const setup = enrollment.setup();
    return reply.page('certificates/list', {
      title: admin.certificateList.title,
      rows: page.rows,
      deviceCollisions: enrollment.deviceCollisions(),
      filters,
      nextUrl,
      firstUrl,
      isEmpty: page.isEmpty,
      presenceRecorded: page.presenceRecorded,
      now: enrollment.now(),
      mailKind: setup.mailKind,
      caKeyEncrypted: setup.caKeyEncrypted,
      openInvitations: enrollment.invitations.openCount(),
    });
  });

  const renderDetail = (id: number, extra: Record<string, unknown> = {}) => {
    const detail = enrollment.detail(id);
    if (!detail) return undefined;
    return {
      title: admin.certificateDetail.pageTitle(detail.certificate.username),
      ...detail,
      reasons: enrollment.revocationReasons(),
      invitation: enrollment.invitations.forCertificate(id),
      forwardSubmission: newSubmissionId(),
      errors: {},
      ...extra,
    };
  };

  app.get('/certificates/:id', { schema: { params: idParams } }, async (request, reply) => {
    const data = renderDetail(request.params.id);
    return data ? reply.page('certificates/detail', data) : reply.callNotFound();
  });

  app.get('/certificates/:id/certificate.pem', { schema: { params: idParams } }, async (request, reply) => {
    const certificate = enrollment.certificate(request.params.id);
    if (!certificate) return reply.callNotFound();
    const name = `${certificate.username}${certificate.device ? `-${certificate.device}` : ''}.crt`;
    return reply
      .type('application/x-pem-file')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(certificate.pem);
  });

  // Revoke and Replace ask first, on a page that names the person and the device.
  const confirmQuery = z.object({ reason: z.string().max(40).default('') });
  app.get(
    '/certificates/:id/revoke',
    { schema: { params: idParams, querystring: confirmQuery } },
    async (request, reply) => {
      const certificate = enrollment.certificate(request.params.id);
      if (!certificate) return reply.callNotFound();
      const reason = revocationReasonSchema.safeParse(request.query.reason);
      if (certificate.status !== 'active' || !reason.success)
        return reply.redirect(`/certificates/${certificate.id}`, 303);
      return reply.page('certificates/confirm', {
        title: words.confirm.revokeTitle(certificate.username, certificate.device),
        certificate,
        action: 'revoke',
        reason: reason.data,
        reasonLabel: enrollment.revocationReasons().find((choice) => choice.value === reason.data)!.label,
        explanation: words.confirm.revokeExplanation(enrollment.broker !== undefined),
        button: admin.certificateDetail.revokeButton,
        buttonClass: 'danger',
        submission: newSubmissionId(),
      });
    },
  );

  app.get(
    '/certificates/:id/replace',
    { schema: { params: idParams, querystring: confirmQuery } },
    async (request, reply) => {
      const certificate = enrollment.certificate(request.params.id);
      if (!certificate) return reply.callNotFound();
      const reason = replaceReason.safeParse(request.query.reason);
      if (certificate.status !== 'active' || !reason.success)
        return reply.redirect(`/certificates/${certificate.id}`, 303);
      const outbox = enrollment.setup().mailKind === 'outbox';
      return reply.page('certificates/confirm', {
        title: words.confirm.replaceTitle(certificate.username, certificate.device),
        certificate,
        action: 'replace',
        reason: reason.data,
        reasonLabel: words.confirm.replaceReasons[reason.data],
        explanation: words.confirm.replaceExplanation(certificate.email, reason.data === 'keyCompromise', outbox),
        button: admin.certificateDetail.replaceButton,
        buttonClass: 'primary',
        submission: newSubmissionId(),
      });
    },
  );

  app.post(
    '/certificates/:id/revoke',
    { schema: { params: idParams, body: revokeBody }, attachValidation: true },
    async (request, reply) => {
      const id = Number((request.params as { id: unknown }).id);
      if (!Number.isSafeInteger(id) || !enrollment.certificate(id)) return reply.callNotFound();
      if (request.validationError) {
        return reply
          .status(400)
          .page('certificates/detail', renderDetail(id, { errors: fieldErrors(request.validationError) })!);
      }
      const revoke = async () => {
        const outcome = await enrollment.revoke(id, request.body.reason, {
          name: request.session.admin!,
          ip: request.ip,
        });
        const kick = outcome.ok ? describeKick(outcome.kick) : undefined;
        const notices: Notice[] = outcome.ok
          ? [
              ...describePublication(admin.certificateDetail.revokedNotice, outcome.publication),
              ...(kick ? [kick] : []),
            ]
          : [{ kind: 'warning', message: admin.certificateDetail.alreadyRevoked }];
        return { location: `/certificates/${id}`, notices };
      };
      // A second POST of the same confirmation page (a double click) waits for the first and shows
      // its notices, not "already revoked" (submissions.ts).
      return submissions.respond(request, reply, request.body.submission, revoke);
    },
  );

  app.post(
    '/certificates/:id/forwarded',
    { schema: { params: idParams, body: forwardedBody } },
    async (request, reply) => {
      const { id } = request.params;
      const location = request.body.from === 'outbox' ? '/outbox' : `/certificates/${id}`;
      const forward = async (): Promise<{ location?: string; notices?: Notice[] }> => {
        const outcome = await enrollment.markForwarded(id, { name: request.session.admin!, ip: request.ip });
        if (!outcome.ok && outcome.reason === 'not-found') return {};
        const notices: Notice[] = !outcome.ok
          ? [{ kind: 'warning', message: words.forward.notInOutbox }]
          : outcome.superseded
            ? describePublication(words.forward.superseded(outcome.superseded.serial), outcome.superseded.publication)
            : [{ kind: 'success', message: words.forward.done }];
        return { location, notices };
      };
      // A double click marks once and shows the first answer (submissions.ts). The outbox page's one
      // submission id serves all its rows: the certificate is part of the key.
      return submissions.respond(request, reply, request.body.submission, forward, `forwarded:${id}`);
    },
  );

  app.post('/certificates/:id/replace', { schema: { params: idParams, body: replaceBody } }, async (request, reply) => {
    /**
     * Replaces and says how it went (flash); answers where to go (undefined for no such certificate),
     * and whether the same form may try again (a refusal or a failure: no new certificate reached
     * anyone).
     */
    const replace = async (): Promise<{ location?: string; retry?: boolean; notices?: Notice[] }> => {
      const outcome = await enrollment.replace(
        request.params.id,
        { name: request.session.admin!, ip: request.ip },
        request.body.reason,
      );
      if (outcome.ok) {
        const ticket = passphrases.put({
          certificateId: outcome.issued.certificateId,
          passphrase: outcome.issued.passphrase,
        });
        const superseded = outcome.superseded;
        // Flashed by the caller, for a double click's second POST too (submissions.ts).
        const notices: Notice[] =
          superseded.ok || superseded.reason === 'crl-failed'
            ? describePublication(
                request.body.reason === 'keyCompromise'
                  ? words.replace.compromised(outcome.oldSerial)
                  : words.replace.sent(outcome.oldSerial),
                superseded,
              )
            : superseded.reason === 'awaiting-forward'
              ? [{ kind: 'info', message: words.replace.waiting(outcome.oldSerial) }]
              : [{ kind: 'success', message: words.replace.raced(outcome.oldSerial) }];
        return { location: `/certificates/${outcome.issued.certificateId}/issued?ticket=${ticket}`, notices };
      }
      if (outcome.reason === 'not-found') return {};
      const old = enrollment.certificate(request.params.id)!;
      const compromised = 'compromisedRevoked' in outcome ? outcome.compromisedRevoked : undefined;
      if (compromised?.ok || compromised?.reason === 'crl-failed')
        for (const notice of describePublication(words.replace.compromisedAlone(old.serial), compromised))
          request.flash(notice.kind, notice.message);
      if (outcome.reason === 'mail-failed') {
        const ticket = replaceFailures.put({
          certificateId: request.params.id,
          outcome,
          username: old.username,
          email: old.email,
          oldKept: old.status === 'active',
        });
        return { location: `/certificates/${request.params.id}/replace-failed?ticket=${ticket}`, retry: true };
      }
      request.flash(
        'warning',
        outcome.reason === 'outlives-ca'
          ? admin.certificateDetail.replaceOutlivesCa(outcome.caDaysLeft)
          : outcome.reason === 'invalid'
            ? admin.certificateDetail.replaceInvalid(Object.values(outcome.issues).join('; '))
            : outcome.reason === 'email-differs'
              ? admin.certificateDetail.replaceEmailDiffers(old.username, outcome.currentEmail)
              : outcome.reason === 'device-taken'
                ? admin.certificateDetail.replaceDeviceTaken(old.username, outcome.device, outcome.existing.serial)
                : admin.certificateDetail.replaceNotActive,
      );
      return { location: `/certificates/${request.params.id}`, retry: true };
    };
    // A second POST of the same confirmation page (a double click) is sent where the first went:
    // to the new passphrase, which the browser would otherwise never show (submissions.ts).
    return submissions.respond(request, reply, request.body.submission, replace);
  });
  app.get(
    '/certificates/:id/replace-failed',
    { schema: { params: idParams, querystring: z.object({ ticket: z.string().max(64).default('') }) } },
    async (request, reply) => {
      const failure = replaceFailures.peek(request.query.ticket);
      if (failure?.certificateId !== request.params.id)
        return reply.redirect(`/certificates/${request.params.id}`, 303);
      return reply.page('certificates/mail-failed', { title: admin.mailFailed.title, ...failure });
    },
  );
};
export default certificateRoutes;
