// GET /broker: the mosquitto.conf lines for this portal, and the broker's TLS server certificate.
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { issueBrokerCertificate, revokeBrokerCertificate } from '../../enroll/server-cert.js';
import { REVOCATION_REASONS, type RevocationReason } from '../../pki/crl.js';
import { describeReload, REASON_LABELS } from '../presenters.js';
import { fieldErrors } from '../forms.js';

const names = (value: string) => value.split(/[\s,]+/).filter(Boolean);
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const serverCertBody = z
  .object({
    hosts: z
      .string()
      .max(2000)
      .default('')
      .refine(
        (v) => names(v).every((h) => HOST.test(h)),
        'Use host names such as mqtt.example.org, separated by spaces or commas',
      ),
    ips: z
      .string()
      .max(2000)
      .default('')
      .refine((v) => names(v).every((ip) => isIP(ip) !== 0), 'Use IP addresses such as 192.0.2.10 or 2001:db8::1'),
  })
  .refine((body) => names(body.hosts).length + names(body.ips).length > 0, {
    path: ['hosts'],
    message: 'Give at least one host name or IP address the phones use to reach the broker',
  });

const brokerRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config, enroll } = app.portal;

  const render = (extra: Record<string, unknown> = {}) => ({
    title: 'Broker',
    dataDir: path.resolve(config.dataDir),
    mqttPort: config.mqtt.port,
    reloadCommand: config.brokerReloadCommand,
    serverCertificates: enroll.serverCertificates.recent(),
    reasons: Object.entries(REASON_LABELS).map(([value, label]) => ({ value, label })),
    values: { hosts: config.mqtt.host ?? '', ips: '' },
    errors: {},
    scripts: ['/static/js/copy.js'],
    ...extra,
  });

  app.get('/broker', async (_request, reply) => reply.page('broker', render()));

  app.post(
    '/broker/server-cert/:id/revoke',
    {
      schema: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: z.object({
          reason: z.enum(Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]]),
        }),
      },
    },
    async (request, reply) => {
      const publication = await revokeBrokerCertificate(enroll, request.params.id, request.body.reason, {
        name: request.session.admin!,
        ip: request.ip,
      });
      if (!publication) {
        request.flash('warning', 'That server certificate is not active.');
      } else {
        request.flash('success', `Server certificate revoked. CRL ${publication.crlNumber} published.`);
        const reload = describeReload(publication.reload);
        if (reload) request.flash(reload.ok ? 'info' : 'error', reload.message);
      }
      return reply.redirect('/broker', 303);
    },
  );

  app.post(
    '/broker/server-cert',
    { schema: { body: serverCertBody }, attachValidation: true },
    async (request, reply) => {
      const raw = request.body as Record<string, unknown>;
      const values = { hosts: String(raw.hosts ?? ''), ips: String(raw.ips ?? '') };
      if (request.validationError)
        return reply.status(400).page('broker', render({ values, errors: fieldErrors(request.validationError) }));
      const issued = await issueBrokerCertificate(
        enroll,
        { hosts: names(request.body.hosts), ips: names(request.body.ips) },
        { name: request.session.admin!, ip: request.ip },
      );
      return reply.page('broker', render({ values, issued }));
    },
  );
};
export default brokerRoutes;
