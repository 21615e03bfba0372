// The issued certificates: the list (search, filters, sort, pages), a detail page, the
// certificate's public part, and revocation.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { certificateList } from '../../db/certificate-list.js';
import { replaceCertificate } from '../../enroll/replace.js';
import { revokeCertificate } from '../../enroll/revoke.js';
import { REVOCATION_REASONS, type RevocationReason } from '../../pki/crl.js';
import { fieldErrors } from '../forms.js';
import { describeReload, displayStatus, REASON_LABELS } from '../presenters.js';

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

const revokeBody = z.object({
  reason: z.enum(Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]], {
    error: 'Choose a reason',
  }),
});

const certificateRoutes: FastifyPluginAsyncZod = async (app) => {
  const { enroll, audit } = app.portal;
  const list = certificateList(enroll.db);

  app.get('/certificates', { schema: { querystring: listQuery } }, async (request, reply) => {
    const query = request.query;
    const [afterKey, afterId] = query.after ? query.after.split('|') : [];
    const now = enroll.now();
    const page = list.page({
      search: query.q,
      status: query.status,
      expiringWithinDays: query.expiring ? 30 : undefined,
      sort: query.sort,
      after: afterKey && afterId ? { key: afterKey, id: Number(afterId) } : undefined,
      limit: PAGE_SIZE,
      now,
    });
    const filters = { q: query.q, status: query.status, expiring: query.expiring ?? '', sort: query.sort };
    const nextUrl = page.next
      ? `/certificates?${new URLSearchParams({ ...filters, after: `${page.next.key}|${page.next.id}` })}`
      : undefined;
    const firstUrl = query.after ? `/certificates?${new URLSearchParams(filters)}` : undefined;
    const isEmpty = enroll.certificates.count() === 0;
    return reply.page('certificates/list', {
      title: 'Certificates',
      rows: page.rows.map((row) => ({ ...row, displayStatus: displayStatus(row, now) })),
      filters,
      nextUrl,
      firstUrl,
      isEmpty,
      now,
      mailKind: enroll.mailer.kind,
      caKeyEncrypted: app.portal.caKeyEncrypted,
    });
  });

  const renderDetail = (id: number, extra: Record<string, unknown> = {}) => {
    const certificate = enroll.certificates.find(id);
    if (!certificate) return undefined;
    const now = enroll.now();
    return {
      title: `Certificate of ${certificate.username}`,
      certificate: { ...certificate, displayStatus: displayStatus(certificate, now) },
      trail: audit.forSubject(`certificate:${id}`),
      reasons: Object.keys(REVOCATION_REASONS).map((value) => ({
        value,
        label: REASON_LABELS[value as RevocationReason],
      })),
      reasonLabel: certificate.revocation_reason
        ? REASON_LABELS[certificate.revocation_reason as RevocationReason]
        : undefined,
      errors: {},
      ...extra,
    };
  };

  app.get('/certificates/:id', { schema: { params: idParams } }, async (request, reply) => {
    const data = renderDetail(request.params.id);
    return data ? reply.page('certificates/detail', data) : reply.callNotFound();
  });

  app.get('/certificates/:id/certificate.pem', { schema: { params: idParams } }, async (request, reply) => {
    const certificate = enroll.certificates.find(request.params.id);
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
      if (!Number.isSafeInteger(id) || !enroll.certificates.find(id)) return reply.callNotFound();
      if (request.validationError) {
        return reply
          .status(400)
          .page('certificates/detail', renderDetail(id, { errors: fieldErrors(request.validationError) })!);
      }
      const outcome = await revokeCertificate(enroll, id, request.body.reason, {
        name: request.session.admin!,
        ip: request.ip,
      });
      if (!outcome.ok) {
        request.flash('warning', 'This certificate was already revoked.');
      } else {
        request.flash(
          'success',
          `Certificate revoked. CRL ${outcome.publication.crlNumber} published with ${outcome.publication.entries} entries. Phones already connected stay connected until they reconnect or the broker restarts.`,
        );
        const reload = describeReload(outcome.publication.reload);
        if (reload) request.flash(reload.ok ? 'info' : 'error', reload.message);
      }
      return reply.redirect(`/certificates/${id}`, 303);
    },
  );

  app.post('/certificates/:id/replace', { schema: { params: idParams } }, async (request, reply) => {
    const outcome = await replaceCertificate(enroll, request.params.id, {
      name: request.session.admin!,
      ip: request.ip,
    });
    if (outcome.ok) {
      const ticket = app.portal.passphrases.put({
        certificateId: outcome.issued.certificateId,
        passphrase: outcome.issued.passphrase,
      });
      request.flash(
        'success',
        `New certificate mailed; the old one (serial ${enroll.certificates.find(request.params.id)!.serial}) is revoked as superseded.`,
      );
      return reply.redirect(`/certificates/${outcome.issued.certificateId}/issued?ticket=${ticket}`, 303);
    }
    if (outcome.reason === 'not-found') return reply.callNotFound();
    if (outcome.reason === 'mail-failed') {
      const old = enroll.certificates.find(request.params.id)!;
      return reply
        .status(502)
        .page('certificates/mail-failed', {
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
        : 'Only an active certificate can be replaced.',
    );
    return reply.redirect(`/certificates/${request.params.id}`, 303);
  });
};
export default certificateRoutes;
