// The person page (/people/:username): every device with its state, the address, revoke all of a
// person's devices, delete the person. Revoke all and delete ask first on a confirmation page.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { revocationReasonSchema } from '../../enroll/rules.js';
import { wordsFor } from '../../words/index.js';
import type { FastifyRequest } from 'fastify';
import { describeKick, describePublication } from '../presenters.js';
import type { FieldErrors } from '../forms.js';

const words = wordsFor().pages.people;

const nameParams = z.object({ username: z.string().max(64) });

/** After revoking a person's certificates: what became of their devices' connections. */
function flashKick(request: FastifyRequest, outcome: { serials: string[]; kick: Parameters<typeof describeKick>[0] }) {
  if (!outcome.serials.length) return;
  const notice = describeKick(outcome.kick, { all: true });
  if (notice) request.flash(notice.kind, notice.message);
}

const peopleRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'people' | 'revocationReasons' | 'broker'>;
}> = async (app, { enrollment }) => {
  const { people } = enrollment;
  const actorOf = (request: { session: { admin?: string }; ip: string }) => ({
    name: request.session.admin!,
    ip: request.ip,
  });
  const base = (username: string) => `/people/${encodeURIComponent(username)}`;

  const renderPerson = (username: string, values: { email?: string } = {}, errors: FieldErrors = {}) => {
    const person = people.find(username);
    if (!person) return undefined;
    return {
      title: person.username,
      person,
      values: { email: values.email ?? person.email },
      errors,
      reasons: enrollment.revocationReasons(),
    };
  };

  app.get('/people/:username', { schema: { params: nameParams } }, async (request, reply) => {
    const data = renderPerson(request.params.username);
    return data ? reply.page('people/person', data) : reply.callNotFound();
  });

  app.post(
    '/people/:username/email',
    { schema: { params: nameParams, body: z.object({ email: z.string().max(300).default('') }) } },
    async (request, reply) => {
      const { username } = request.params;
      const outcome = people.changeEmail(username, request.body.email, actorOf(request));
      if (!outcome.ok && outcome.reason === 'not-found') return reply.callNotFound();
      if (!outcome.ok)
        return reply.status(400).page('people/person', renderPerson(username, request.body, outcome.issues)!);
      request.flash('success', words.emailChanged(outcome.email));
      return reply.redirect(base(username), 303);
    },
  );

  const reasonQuery = z.object({ reason: z.string().max(40).default('') });

  app.get(
    '/people/:username/revoke-all',
    { schema: { params: nameParams, querystring: reasonQuery } },
    async (request, reply) => {
      const person = people.find(request.params.username);
      if (!person) return reply.callNotFound();
      const reason = revocationReasonSchema.safeParse(request.query.reason);
      if (!reason.success || person.active.length === 0) return reply.redirect(base(person.username), 303);
      return reply.page('people/confirm', {
        title: words.revokeAllTitle(person.username, person.active.length),
        person,
        action: 'revoke-all',
        reason: reason.data,
        reasonLabel: enrollment.revocationReasons().find((choice) => choice.value === reason.data)!.label,
        explanation:
          words.revokeAllExplanation(enrollment.broker !== undefined) + words.linksCancelledToo(person.openLinks),
        button: words.revokeAllButton,
      });
    },
  );

  app.post(
    '/people/:username/revoke-all',
    { schema: { params: nameParams, body: z.object({ reason: revocationReasonSchema }) } },
    async (request, reply) => {
      const outcome = await people.revokeAll(request.params.username, request.body.reason, actorOf(request));
      if (!outcome.ok) return reply.callNotFound();
      const done = words.revokedAll(outcome.serials.length, outcome.cancelledLinks);
      if (outcome.publication)
        for (const notice of describePublication(done, outcome.publication)) request.flash(notice.kind, notice.message);
      else request.flash('info', done);
      flashKick(request, outcome);
      return reply.redirect(base(request.params.username), 303);
    },
  );

  app.get('/people/:username/delete', { schema: { params: nameParams } }, async (request, reply) => {
    const person = people.find(request.params.username);
    if (!person) return reply.callNotFound();
    if (person.deletedAt) return reply.redirect(base(person.username), 303);
    return reply.page('people/confirm', {
      title: words.deleteTitle(person.username),
      person,
      action: 'delete',
      explanation: words.deleteExplanation(person.active.length) + words.linksCancelledToo(person.openLinks),
      button: words.deleteButton,
    });
  });

  app.post('/people/:username/delete', { schema: { params: nameParams } }, async (request, reply) => {
    const outcome = await people.remove(request.params.username, actorOf(request));
    if (!outcome.ok && outcome.reason === 'not-found') return reply.callNotFound();
    if (!outcome.ok) request.flash('warning', words.alreadyDeleted);
    else {
      const done = words.deleted(request.params.username, outcome.serials.length);
      if (outcome.publication)
        for (const notice of describePublication(done, outcome.publication)) request.flash(notice.kind, notice.message);
      else request.flash('success', done);
      flashKick(request, outcome);
      if (outcome.groupsNotUpdated !== undefined)
        request.flash('warning', words.groupsNotUpdated(request.params.username, outcome.groupsNotUpdated));
    }
    return reply.redirect(base(request.params.username), 303);
  });
};
export default peopleRoutes;
