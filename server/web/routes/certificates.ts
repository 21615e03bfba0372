// The issued certificates: the list (search, filters, sort, pages), a detail page, the
// certificate's public part, and revocation.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { revocationReasonSchema } from '../../enroll/rules.js';
import type { Passphrases } from '../one-time-secrets.js';
import { fieldErrors } from '../forms.js';
import { describePublication } from '../presenters.js';

const PAGE_SIZE = 50;

const listQuery = z.object({
  q: z.string().max(254).default(''),
  status: z.enum(['all', 'active', 'revoked', 'expired']).catch('all'),
  expiring: z.literal('30').optional().catch(undefined),
  sort: z.enum(['issued', 'expiry']).catch('issued'),
  after: z
    .string()
    .max(100)
    .regex(/^[^|]+\|\d+$/)
    .optional()
    .catch(undefined),
});

const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

const revokeBody = z.object({ reason: revocationReasonSchema });

const certificateRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<
    Enrollment,
    'list' | 'detail' | 'certificate' | 'revoke' | 'replace' | 'setup' | 'revocationReasons' | 'now' | 'invitations'
  >;
  passphrases: Passphrases;
}> = async (app, { enrollment, passphrases }) => {
  app.get('/certificates', { schema: { querystring: listQuery } }, async (request, reply) => {
    const query = request.query;
    const [afterKey, afterId] = query.after ? query.after.split('|') : [];
    const page = enrollment.list({
      search: query.q,
      status: query.status,
      expiringWithinDays: query.expiring ? 30 : undefined,
      sort: query.sort,
      after: afterKey && afterId ? { key: afterKey, id: Number(afterId) } : undefined,
      limit: PAGE_SIZE,
    });
    const filters = { q: query.q, status: query.status, expiring: query.expiring ?? '', sort: query.sort };
    const nextUrl = page.next
      ? `/certificates?${new URLSearchParams({ ...filters, after: `${page.next.key}|${page.next.id}` })}`
      : undefined;
    const firstUrl = query.after ? `/certificates?${new URLSearchParams(filters)}` : undefined;
    const setup = enrollment.setup();
    return reply.page('certificates/list', {
      title: 'Certificates',
      rows: page.rows,
      filters,
      nextUrl,
      firstUrl,
      isEmpty: page.isEmpty,
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
      title: `Certificate of ${detail.certificate.username}`,
      ...detail,
      reasons: enrollment.revocationReasons(),
      invitation: enrollment.invitations.forCertificate(id),
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
      const outcome = await enrollment.revoke(id, request.body.reason, {
        name: request.session.admin!,
        ip: request.ip,
      });
      if (!outcome.ok) {
        request.flash('warning', 'This certificate was already revoked.');
      } else {
        for (const notice of describePublication('Certificate revoked.', outcome.publication))
          request.flash(notice.kind, notice.message);
        request.flash('info', 'Phones already connected stay connected until they reconnect or the broker restarts.');
      }
      return reply.redirect(`/certificates/${id}`, 303);
    },
  );

  app.post('/certificates/:id/replace', { schema: { params: idParams } }, async (request, reply) => {
    const outcome = await enrollment.replace(request.params.id, {
      name: request.session.admin!,
      ip: request.ip,
    });
    if (outcome.ok) {
      const ticket = passphrases.put({
        certificateId: outcome.issued.certificateId,
        passphrase: outcome.issued.passphrase,
      });
      const superseded = outcome.superseded;
      if (superseded.ok || superseded.reason === 'crl-failed')
        for (const notice of describePublication(
          `New certificate mailed; the old one (serial ${outcome.oldSerial}) is revoked as superseded.`,
          superseded,
        ))
          request.flash(notice.kind, notice.message);
      else
        request.flash(
          'success',
          `New certificate mailed; the old one (serial ${outcome.oldSerial}) had been revoked meanwhile.`,
        );
      return reply.redirect(`/certificates/${outcome.issued.certificateId}/issued?ticket=${ticket}`, 303);
    }
    if (outcome.reason === 'not-found') return reply.callNotFound();
    const old = enrollment.certificate(request.params.id)!;
    if (outcome.reason === 'mail-failed') {
      return reply.status(502).page('certificates/mail-failed', {
        title: 'The mail could not be sent',
        outcome,
        username: old.username,
        email: old.email,
        oldKept: true,
      });
    }
    request.flash(
      'warning',
      outcome.reason === 'outlives-ca'
        ? `The CA expires in ${outcome.caDaysLeft} days: no new certificate can be issued under it.`
        : outcome.reason === 'invalid'
          ? `No new certificate was issued: ${Object.values(outcome.issues).join('; ')}`
          : outcome.reason === 'email-differs'
            ? `No new certificate was issued: ${old.username} is now registered with ${outcome.currentEmail}.`
            : 'Only an active certificate can be replaced.',
    );
    return reply.redirect(`/certificates/${request.params.id}`, 303);
  });
};
export default certificateRoutes;
