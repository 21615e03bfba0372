// GET /broker: the mosquitto.conf lines for this portal, the broker's TLS server certificate, and
// with a broker link its state, the last reconcile and kicks, and a button to reconcile now.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { revocationReasonSchema, splitNames } from '../../enroll/rules.js';
import { describePublication } from '../presenters.js';
import { fieldErrors, formValue, type FieldErrors } from '../forms.js';
import { wordsFor } from '../../words/index.js';

const serverCertBody = z.object({
  hosts: z.string().max(2000).default(''),
  ips: z.string().max(2000).default(''),
});

const brokerRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'serverCertificates' | 'setup' | 'revocationReasons' | 'broker'>;
}> = async (app, { enrollment }) => {
  const render = (extra: { values?: { hosts: string; ips: string }; errors?: FieldErrors; issued?: unknown } = {}) => {
    const setup = enrollment.setup();
    return {
      title: 'Broker',
      dataDir: setup.dataDir,
      mqttPort: setup.mqttPort,
      reloadCommand: setup.reloadCommand,
      crlPending: setup.crlPending,
      caConstrained: setup.caConstrained,
      caServerNames: setup.caServerNames,
      serverCertificates: enrollment.serverCertificates.list(),
      brokerLink: enrollment.broker?.overview(),
      reasons: enrollment.revocationReasons(),
      values: { hosts: setup.mqttHost ?? '', ips: '' },
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
      if (!outcome.ok) request.flash('warning', 'That server certificate is not active.');
      else
        for (const notice of describePublication('Server certificate revoked.', outcome.publication))
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
      return reply.page('broker', render({ values, issued }));
    },
  );
};
export default brokerRoutes;
