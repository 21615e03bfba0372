// The person page (/people/:username): every device with its state, the address, revoke all of a
// person's devices, delete the person. Revoke all and delete ask first on a confirmation page.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import { revocationReasonSchema } from '../../enroll/rules.js';
import { wordsFor } from '../../words/index.js';
import { describeKick, describePublication, type Notice } from '../presenters.js';
import { newSubmissionId, submissionSchema, Submissions } from '../submissions.js';
import type { FieldErrors } from '../forms.js';

const words = wordsFor().pages.people;

const nameParams = z.object({ username: z.string().max(64) });

/** After revoking a person's certificates: what became of their devices' connections. */
function kickNotices(outcome: { serials: string[]; kick: Parameters<typeof describeKick>[0] }): Notice[] {
  const notice = outcome.serials.length ? describeKick(outcome.kick, { all: true }) : undefined;
  return notice ? [notice] : [];
}

const peopleRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'people' | 'revocationReasons' | 'broker' | 'now'>;
}> = async (app, { enrollment }) => {
  const { people } = enrollment;
  /** Revoke-all and delete confirmations sent (submissions.ts): a double click acts once. */
  const submissions = new Submissions(enrollment.now);

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
      const outcome = await people.changeEmail(username, request.body.email, actorOf(request));
      if (!outcome.ok && outcome.reason === 'not-found') return reply.callNotFound();
      if (!outcome.ok)
        return reply.status(400).page('people/person', renderPerson(username, request.body, outcome.issues)!);
      request.flash('success', words.emailChanged(outcome.email, outcome.cancelledLinks));
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
        submission: newSubmissionId(),
      });
    },
  );

  app.post(
    '/people/:username/revoke-all',
    {
      schema: {
        params: nameParams,
        body: z.object({ reason: revocationReasonSchema, submission: submissionSchema }),
      },
    },
    async (request, reply) =>
      submissions.respond(request, reply, request.body.submission, async () => {
        const outcome = await people.revokeAll(request.params.username, request.body.reason, actorOf(request));
        if (!outcome.ok) return {};
        const done = words.revokedAll(outcome.serials.length, outcome.cancelledLinks);
        const notices: Notice[] = outcome.publication
          ? describePublication(done, outcome.publication)
          : [{ kind: 'info', message: done }];
        return { location: base(request.params.username), notices: [...notices, ...kickNotices(outcome)] };
      }),
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
      submission: newSubmissionId(),
    });
  });

  app.post(
    '/people/:username/delete',
    { schema: { params: nameParams, body: z.object({ submission: submissionSchema }) } },
    async (request, reply) =>
      submissions.respond(request, reply, request.body.submission, async () => {
        const outcome = await people.remove(request.params.username, actorOf(request));
        const location = base(request.params.username);
        if (!outcome.ok && outcome.reason === 'not-found') return {};
        if (!outcome.ok) return { location, notices: [{ kind: 'warning', message: words.alreadyDeleted }] };
        const done = words.deleted(request.params.username, outcome.serials.length);
        const notices: Notice[] = outcome.publication
          ? describePublication(done, outcome.publication)
          : [{ kind: 'success', message: done }];
        notices.push(...kickNotices(outcome));
        if (outcome.groupsNotUpdated !== undefined)
          notices.push({
            kind: 'warning',
            message: words.groupsNotUpdated(request.params.username, outcome.groupsNotUpdated),
          });
        return { location, notices };
      }),
  );
};
export default peopleRoutes;
