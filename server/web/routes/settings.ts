// GET/POST /settings: stored settings, for now the broker's address for people's phones (what the
// mail and the .otrc tell the app to connect to). DESIGN.md gives this page to owners; until roles
// exist every signed-in admin is an owner here. MQTT_HOST, when set, decides and is shown read-only.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { wordsFor } from '../../words/index.js';
import { formValue, type FieldErrors } from '../forms.js';
import { relativeTime, type Notice } from '../presenters.js';

/** What the page says about the phones' trust in the broker's certificate. */
function trustNotice(trust: ReturnType<Enrollment['serverTrust']>): Notice {
  const words = wordsFor().admin.settings.trust;
  if (!trust) return { kind: 'info', message: words.pending };
  const checked = relativeTime(trust.checkedAt, new Date());
  if (trust.verdict === 'public')
    return { kind: 'success', message: words.public(trust.address, trust.issuer, checked) };
  if (trust.verdict === 'private')
    return { kind: 'info', message: words.private(trust.address, trust.reason, checked) };
  return { kind: 'warning', message: words.unknown(trust.address, trust.reason, checked) };
}

const settingsRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'brokerAddress' | 'setBrokerAddress' | 'serverTrust'>;
}> = async (app, { enrollment }) => {
  const render = (values?: { host: string; port: string }, errors: FieldErrors = {}) => {
    const address = enrollment.brokerAddress();
    return {
      title: wordsFor().admin.settings.title,
      address,
      trust: trustNotice(enrollment.serverTrust()),
      values: values ?? { host: address.host ?? '', port: String(address.port) },
      errors,
    };
  };

  app.get('/settings', async (_request, reply) => reply.page('settings', render()));

  app.post(
    '/settings/broker-address',
    { schema: { body: z.object({ host: z.string().max(300).default(''), port: z.string().max(20).default('') }) } },
    async (request, reply) => {
      const values = { host: formValue(request.body, 'host'), port: formValue(request.body, 'port') };
      const outcome = enrollment.setBrokerAddress(values, { name: request.session.admin!, ip: request.ip });
      if (outcome.ok) {
        request.flash('success', wordsFor().admin.settings.saved(outcome.address.host, outcome.address.port));
        return reply.redirect('/settings', 303);
      }
      if (outcome.reason === 'set-by-environment') return reply.status(409).page('settings', render());
      return reply.status(400).page('settings', render(values, outcome.issues));
    },
  );
};
export default settingsRoutes;
