import { isIP } from 'node:net';
// GET /broker: the mosquitto.conf lines for this portal, the broker's TLS server certificate, and
// with a broker link its state, the last reconcile and kicks, and a button to reconcile now.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { revocationReasonSchema, splitNames } from '../../enroll/rules.js';
import { describePublication } from '../presenters.js';
import { fieldErrors, formValue, type FieldErrors } from '../forms.js';
import { OneTimeSecrets } from '../one-time-secrets.js';
import { wordsFor } from '../../words/index.js';

const serverCertBody = z.object({
  hosts: z.string().max(2000).default(''),
  ips: z.string().max(2000).default(''),
});

/**
 * The mosquitto.conf lines the page offers, built here as one text: eta drops the newline after a
 * tag, which once joined the listener line with the next one in the template.
 */
function mosquittoConf(setup: { dataDir: string; mqttPort: number }, withAclFile: boolean): string {
  return [
    `listener ${setup.mqttPort}`,
    `cafile ${setup.dataDir}/ca.crt`,
    'certfile /etc/mosquitto/certs/server.crt',
    'keyfile /etc/mosquitto/certs/server.key',
    `crlfile ${setup.dataDir}/crl.pem`,
    'require_certificate true',
    'use_identity_as_username true',
    // With a broker link, access is the dynsec plugin's alone (README, "The broker link").
    ...(withAclFile ? ['acl_file /etc/mosquitto/acl'] : []),
  ].join('\n');
}

const brokerRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<
    Enrollment,
    'serverCertificates' | 'setup' | 'revocationReasons' | 'now' | 'broker' | 'brokerAddress'
  >;
}> = async (app, { enrollment }) => {
  // A new server certificate's key, in memory only, for ten minutes: the result page (which a reload
  // shows again, issuing nothing) and its download read it; then it is gone for good.
  const issuedKeys = new OneTimeSecrets<{ id: number; keyPem: string }>(enrollment.now);
  const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
  const ticketQuery = z.object({ ticket: z.string().max(64).default('') });

  const render = (extra: { values?: { hosts: string; ips: string }; errors?: FieldErrors; issued?: unknown } = {}) => {
    const setup = enrollment.setup();
    // The phones' address as the mail and the pickup guide give it: MQTT_HOST, or the Settings page's.
    const address = enrollment.brokerAddress();
    return {
      title: wordsFor().admin.broker.title,
      dataDir: setup.dataDir,
      mqttPort: address.port,
      mosquittoConf: mosquittoConf({ dataDir: setup.dataDir, mqttPort: address.port }, !enrollment.broker),
      reloadCommand: setup.reloadCommand,
      crlPending: setup.crlPending,
      reloadFailure: setup.reloadFailure,
      caConstrained: setup.caConstrained,
      caServerNames: setup.caServerNames,
      serverCertificates: enrollment.serverCertificates.list(),
      brokerLink: enrollment.broker?.overview(),
      reasons: enrollment.revocationReasons(),
      values:
        address.host && isIP(address.host) ? { hosts: '', ips: address.host } : { hosts: address.host ?? '', ips: '' },
      errors: {},
      scripts: ['/static/js/copy.js'],
      ...extra,
    };
  };

  app.get('/broker', async (_request, reply) => reply.page('broker', render()));

  app.post('/broker/reconcile', async (request, reply) => {
    if (!enrollment.broker) return reply.callNotFound();
    const words = wordsFor().broker.page;
    const report = await enrollment.broker.reconcile({ name: request.session.admin!, ip: request.ip });
    if (report.error) request.flash('error', words.reconcileFailed(report.error));
    else request.flash('success', words.reconcileDone(report.changes.length));
    return reply.redirect('/broker#broker-link', 303);
  });

  app.post(
    '/broker/server-cert/:id/revoke',
    {
      schema: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: z.object({ reason: revocationReasonSchema }),
      },
    },
    async (request, reply) => {
      const outcome = await enrollment.serverCertificates.revoke(request.params.id, request.body.reason, {
        name: request.session.admin!,
        ip: request.ip,
      });
      if (!outcome.ok) request.flash('warning', wordsFor().admin.broker.notActive);
      else
        for (const notice of describePublication(wordsFor().admin.broker.serverRevoked, outcome.publication))
          request.flash(notice.kind, notice.message);
      return reply.redirect('/broker', 303);
    },
  );

  app.post(
    '/broker/server-cert',
    { schema: { body: serverCertBody }, attachValidation: true },
    async (request, reply) => {
      const values = { hosts: formValue(request.body, 'hosts'), ips: formValue(request.body, 'ips') };
      if (request.validationError)
        return reply.status(400).page('broker', render({ values, errors: fieldErrors(request.validationError) }));
      const issued = await enrollment.serverCertificates.issue(
        { hosts: splitNames(request.body.hosts), ips: splitNames(request.body.ips) },
        { name: request.session.admin!, ip: request.ip },
      );
      if (!issued.ok) return reply.status(400).page('broker', render({ values, errors: issued.issues }));
      const ticket = issuedKeys.put({ id: issued.id, keyPem: issued.keyPem });
      return reply.redirect(`/broker/server-cert/${issued.id}/issued?ticket=${encodeURIComponent(ticket)}`, 303);
    },
  );

  /** The result of POST /broker/server-cert: the certificate, and its key while it is held. */
  app.get(
    '/broker/server-cert/:id/issued',
    { schema: { params: idParams, querystring: ticketQuery } },
    async (request, reply) => {
      const certificate = enrollment.serverCertificates.find(request.params.id);
      if (!certificate) return reply.callNotFound();
      const held = issuedKeys.peek(request.query.ticket);
      const keyPem = held?.id === certificate.id ? held.keyPem : undefined;
      const ticket = encodeURIComponent(request.query.ticket);
      return reply.page(
        'broker',
        render({
          issued: {
            id: certificate.id,
            serial: certificate.serial,
            notAfter: new Date(certificate.not_after),
            certPem: certificate.pem,
            keyPem,
            keyUrl: keyPem ? `/broker/server-cert/${certificate.id}/server.key?ticket=${ticket}` : undefined,
            certUrl: `/broker/server-cert/${certificate.id}/server.crt`,
          },
        }),
      );
    },
  );

  app.get(
    '/broker/server-cert/:id/server.key',
    { schema: { params: idParams, querystring: ticketQuery } },
    async (request, reply) => {
      const held = issuedKeys.peek(request.query.ticket);
      if (!held || held.id !== request.params.id) return reply.callNotFound();
      return reply
        .type('application/x-pem-file')
        .header('content-disposition', 'attachment; filename="server.key"')
        .send(held.keyPem);
    },
  );

  app.get('/broker/server-cert/:id/server.crt', { schema: { params: idParams } }, async (request, reply) => {
    const certificate = enrollment.serverCertificates.find(request.params.id);
    if (!certificate) return reply.callNotFound();
    return reply
      .type('application/x-pem-file')
      .header('content-disposition', 'attachment; filename="server.crt"')
      .send(certificate.pem);
  });
};
export default brokerRoutes;
