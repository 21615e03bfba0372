// GET /certificates/new, POST /certificates: the issue form; the result shows the passphrase once.
// Every answer to the POST that is not the form again is a redirect, the failed mail included, so
// that reloading the page it leads to re-posts (and issues) nothing. The POST answers once the
// certificate is recorded, and the page it leads to waits for the mail server's answer: the mail
// (4-15 ms) goes while the browser follows the redirect, and a failed mail still replaces the
// passphrase page with the error page.
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Enrollment } from '../../enroll/enrollment.js';
import {
  BUNDLE_FORMATS,
  CLIENT_KEY_SIZES,
  daysSchema,
  deviceSchema,
  emailSchema,
  typedPassphraseSchema,
  usernameSchema,
  bundleFileNames,
} from '../../enroll/rules.js';
import { OneTimeSecrets, type Passphrases } from '../one-time-secrets.js';
import { ADMIN_DOWNLOAD_MS, type HeldBundles, type PickupTicket } from '../held-bundles.js';
import { fieldErrors, formValue, type FieldErrors } from '../forms.js';
import { wordsFor } from '../../words/index.js';
import { invitationPage } from './invitations.js';
import { newSubmissionId, submissionSchema, Submissions } from '../submissions.js';
import { Deliveries } from '../deliveries.js';
import type { Recorded } from '../../enroll/issue.js';

const words = wordsFor().admin;

/** The issue form: the enrollment rules, plus the form's own fields (passphrase mode, the tick). */
const issueBody = z
  .object({
    username: usernameSchema,
    email: emailSchema,
    device: deviceSchema.default(''),
    days: daysSchema,
    keyBits: z
      .enum(CLIENT_KEY_SIZES.map(String) as [string, ...string[]], { error: words.certificateNew.chooseKeySize })
      .default('2048')
      .transform(Number),
    format: z.enum(BUNDLE_FORMATS, { error: words.certificateNew.chooseFormat }).default('compatible'),
    passphraseMode: z
      .enum(['generate', 'custom'], {
        error: words.certificateNew.choosePassphraseMode,
      })
      .default('generate'),
    passphrase: z.string().max(256, words.certificateNew.passphraseTooLong).default(''),
    changeEmail: z.literal('yes').optional(),
    // Mail the bundle (today's path), mail a pickup link, or show a pickup QR code.
    delivery: z.enum(['bundle', 'link', 'qr'], { error: words.certificateNew.chooseDelivery }).default('bundle'),
    // This rendering of the form (submissions.ts): a second POST of it is not a second issue.
    submission: submissionSchema,
  })
  .superRefine((body, ctx) => {
    if (body.passphraseMode !== 'custom') return;
    const typed = typedPassphraseSchema.safeParse(body.passphrase);
    if (!typed.success) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: typed.error.issues[0]!.message });
  });

const FORM_DEFAULTS = {
  username: '',
  email: '',
  device: '',
  days: '365',
  keyBits: '2048',
  format: 'compatible',
  passphraseMode: 'generate',
  passphrase: '',
  delivery: 'bundle',
};

const issueRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<
    Enrollment,
    'now' | 'issue' | 'person' | 'certificate' | 'setup' | 'brokerAddress' | 'defaultDevice' | 'invitations'
  >;
  passphrases: Passphrases;
  /** The bundles of mailed issues, for the admin's own download (15 minutes). */
  bundles: HeldBundles;
  /** A new invitation's code and link, for the admin's one look. */
  pickupTickets: OneTimeSecrets<PickupTicket>;
}> = async (app, { enrollment, passphrases, bundles, pickupTickets }) => {
  /** A failed mail's page, held in memory for the GET the POST redirects to (ten minutes, reloads included). */
  type MailFailed = Extract<Awaited<ReturnType<typeof enrollment.issue>>, { reason: 'mail-failed' }>;
  const mailFailures = new OneTimeSecrets<{
    outcome: MailFailed;
    username: string;
    email: string;
  }>(enrollment.now);
  const submissions = new Submissions(enrollment.now);
  const mailFailedPage = (outcome: MailFailed, person: { username: string; email: string }) =>
    `/certificates/mail-failed?ticket=${mailFailures.put({ outcome, username: person.username, email: person.email })}`;
  /** Issues whose mail is on its way: their result page waits for it. */
  const deliveries = new Deliveries(enrollment.now);
  /** Result pages waiting, by passphrase ticket: how many asked so far, while any waits. */
  const waiting = new Map<string, number>();
  /** What a POST of the form comes to: a page to redirect to, or the form again with messages. */
  type Answer = {
    location?: string | undefined;
    form?: { status: number; values: Record<string, string>; errors: FieldErrors; extra?: Record<string, unknown> };
  };
  const form = (
    status: number,
    values: Record<string, string>,
    errors: FieldErrors,
    extra?: Record<string, unknown>,
  ): Answer => ({ form: { status, values, errors, ...(extra && { extra }) } });
  const renderForm = (
    reply: { page: FastifyReply['page'] },
    values: Record<string, string>,
    errors: FieldErrors,
    extra: Record<string, unknown> = {},
  ) => {
    const username = usernameSchema.safeParse(values.username ?? '');
    const existing = username.success ? enrollment.person(username.data) : undefined;
    return reply.page('certificates/new', {
      title: words.certificateNew.title,
      nav: '/certificates/new', // the form answered at POST /certificates is still the Issue page
      // A typed passphrase is never echoed back; a choice left out falls back to its default.
      values: {
        ...FORM_DEFAULTS,
        ...values,
        keyBits: values.keyBits || FORM_DEFAULTS.keyBits,
        format: values.format || FORM_DEFAULTS.format,
        passphraseMode: values.passphraseMode || FORM_DEFAULTS.passphraseMode,
        passphrase: '',
      },
      errors,
      existing,
      mailKind: enrollment.setup().mailKind,
      brokerAddress: enrollment.brokerAddress(),
      // What an empty Device becomes, shown before issuing; the script updates it as the username changes.
      defaultDevice: enrollment.defaultDevice(username.success ? username.data : ''),
      scripts: ['/static/js/device-default.js'],
      submission: newSubmissionId(),
      ...extra,
    });
  };

  app.get(
    '/certificates/new',
    { schema: { querystring: z.object({ username: z.string().max(64).optional() }) } },
    async (request, reply) => {
      const username = usernameSchema.safeParse(request.query.username ?? '');
      const user = username.success ? enrollment.person(username.data) : undefined;
      return renderForm(reply, user ? { username: user.username, email: user.email } : {}, {});
    },
  );

  /** The default device name for a username, for the issue form's script (JSON). */
  app.get(
    '/certificates/new/device',
    { schema: { querystring: z.object({ username: z.string().max(64).default('') }) } },
    async (request) => {
      const username = usernameSchema.safeParse(request.query.username);
      return { device: enrollment.defaultDevice(username.success ? username.data : '') };
    },
  );

  // The form as typed, kept before validation replaces the body with its parsed values (numbers,
  // defaults): a form sent back must show what the admin entered, not an empty "Valid for".
  const typed = new WeakMap<object, Record<string, string>>();
  const keepTyped = async (request: { body: unknown; raw: object }) => {
    typed.set(
      request.raw,
      Object.fromEntries(
        Object.keys(FORM_DEFAULTS)
          .concat('changeEmail')
          .map((key) => [key, formValue(request.body, key)]),
      ),
    );
  };

  app.post(
    '/certificates',
    { schema: { body: issueBody }, attachValidation: true, preValidation: keepTyped },
    async (request, reply) => {
      const values = typed.get(request.raw) ?? {};
      if (request.validationError) return renderForm(reply.status(400), values, fieldErrors(request.validationError));

      const body = request.body;
      const actor = { name: request.session.admin!, ip: request.ip };
      // A second POST of the same rendering of the form (a double click) goes where the first went.
      const key = body.submission && `${actor.name}\u0000${body.submission}`;
      // What both deliveries ask for; a mailed bundle adds the passphrase, a pickup link its kind.
      const fields = {
        username: body.username,
        email: body.email,
        device: body.device,
        days: body.days,
        keyBits: body.keyBits,
        format: body.format,
        changeEmail: body.changeEmail === 'yes',
      };
      const answer = await submissions.once(key, async (): Promise<Answer> => {
        if (body.delivery !== 'bundle') {
          const invited = await enrollment.invitations.create(
            { ...fields, kind: body.delivery === 'qr' ? 'qr' : 'mail' },
            actor,
          );
          if (invited.ok) return { location: invitationPage(pickupTickets, invited) };
          if (invited.reason === 'device-taken')
            return form(409, values, {
              device:
                invited.by === 'invitation'
                  ? words.certificateNew.deviceInvited(body.username)
                  : words.certificateNew.deviceTaken(body.username),
            });
          if (invited.reason === 'mail-failed')
            return form(502, values, { email: words.certificateNew.linkMailFailed(invited.mailError) });
          return issueFailure(values, body, invited);
        }
        // The answer goes once the certificate is recorded; its page waits for the mail server
        // (deliveries), so the mail and the redirect's round trip overlap.
        let onRecorded: (recorded: Recorded) => void = () => undefined;
        const recorded = new Promise<Recorded>((resolve) => (onRecorded = resolve));
        const issuing = enrollment.issue(
          { ...fields, passphrase: body.passphraseMode === 'custom' ? body.passphrase : undefined },
          actor,
          onRecorded,
        );
        const first = await Promise.race([recorded, issuing]);
        if (!('ok' in first)) {
          const ticket = passphrases.put({ certificateId: first.certificateId, passphrase: first.passphrase });
          const download = bundles.put({ certificateId: first.certificateId, pkcs12: first.pkcs12 });
          // Undelivered (revoked already), or failed after the record: neither its passphrase nor
          // its bundle is ever shown.
          const letGo = () => {
            passphrases.take(ticket);
            bundles.drop(download);
          };
          deliveries.track(
            first.certificateId,
            issuing.then(
              (outcome) => {
                if (outcome.ok) return undefined;
                letGo();
                return outcome.reason === 'mail-failed'
                  ? mailFailedPage(outcome, body)
                  : `/certificates/${first.certificateId}`;
              },
              (error: unknown) => {
                letGo();
                throw error;
              },
            ),
          );
          return { location: `/certificates/${first.certificateId}/issued?ticket=${ticket}&download=${download}` };
        }
        const outcome = first;
        // Issued or mailed (or not) only after the record, whose onRecorded answered above.
        if (outcome.ok || outcome.reason === 'mail-failed') throw new Error('an issue answered before it was recorded');
        if (outcome.reason === 'device-invited')
          return form(409, values, { device: words.certificateNew.deviceInvited(body.username) });
        if (outcome.reason === 'deleted-meanwhile')
          return form(409, values, { username: words.certificateNew.deletedMeanwhile(body.username) });
        if (outcome.reason === 'device-taken')
          return form(
            409,
            values,
            { device: words.certificateNew.deviceTakenSerial(body.username, outcome.device, outcome.existing.serial) },
            { deviceTaken: { id: outcome.existing.id, device: outcome.device } },
          );
        return issueFailure(values, body, outcome);
      });
      if (answer.location !== undefined || !('form' in answer) || !answer.form)
        return reply.redirect(answer.location ?? '/certificates/new', 303);
      const { status, values: shown, errors, extra } = answer.form;
      return renderForm(reply.status(status), shown, errors, extra);
    },
  );

  app.get(
    '/certificates/mail-failed',
    { schema: { querystring: z.object({ ticket: z.string().max(64).default('') }) } },
    async (request, reply) => {
      const failure = mailFailures.peek(request.query.ticket);
      if (!failure) return reply.redirect('/certificates/new', 303);
      return reply.page('certificates/mail-failed', { title: words.mailFailed.title, ...failure });
    },
  );

  /** The refusals both deliveries share: invalid fields, a CA too close to its end, another address. */
  function issueFailure(
    values: Record<string, string>,
    body: { username: string; email: string },
    outcome:
      | { reason: 'invalid'; issues: FieldErrors }
      | { reason: 'outlives-ca'; caDaysLeft: number; caExpires: Date }
      | { reason: 'email-differs'; currentEmail: string },
  ): Answer {
    if (outcome.reason === 'invalid') return form(400, values, outcome.issues);
    if (outcome.reason === 'outlives-ca')
      return form(400, values, {
        days: words.certificateNew.outlivesCa(outcome.caDaysLeft, outcome.caExpires.toISOString().slice(0, 10)),
      });
    return form(
      409,
      values,
      { email: words.certificateNew.emailDiffers(body.username, outcome.currentEmail) },
      { offerEmailChange: true },
    );
  }

  app.get(
    '/certificates/:id/issued',
    {
      // The passphrase is shown once: a HEAD (a link checker, a prefetch) must not use it up.
      exposeHeadRoute: false,
      schema: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        querystring: z.object({
          ticket: z.string().max(64).default(''),
          download: z.string().max(64).default(''),
        }),
      },
    },
    async (request, reply) => {
      // Shown once the mail server has taken the bundle; a failed mail's page instead.
      const { ticket } = request.query;
      const turn = (waiting.get(ticket) ?? 0) + 1;
      waiting.set(ticket, turn);
      // The passphrase, shown once, goes to the request asked last (a reload while the mail was on
      // its way), and never to one whose connection closed while it waited: the page the browser
      // shows has it, whether the request it gave up is gone (http.int.test.ts, over a real
      // socket) or still held open by a proxy in front.
      let latest: boolean;
      let elsewhere: string | undefined;
      try {
        elsewhere = await deliveries.settled(request.params.id);
      } finally {
        latest = waiting.get(ticket) === turn;
        if (latest) waiting.delete(ticket);
      }
      if (elsewhere !== undefined) return reply.redirect(elsewhere, 303);
      const certificate = enrollment.certificate(request.params.id);
      if (!certificate) return reply.callNotFound();
      const gone = !latest || request.raw.destroyed || reply.raw.destroyed;
      const secret = gone ? undefined : passphrases.take(ticket);
      // Revoked meanwhile (another admin, while its mail was on its way): the passphrase opens a
      // bundle that no broker accepts, so it is let go rather than handed over.
      const revoked = certificate.status !== 'active';
      const passphrase = secret?.certificateId === certificate.id && !revoked ? secret.passphrase : undefined;
      // The bundle files, for handing over in person, while the memory holds them.
      const held = bundles.get(request.query.download, certificate);
      const names = bundleFileNames(certificate.username, certificate.device);
      return reply.page('certificates/issued', {
        title: words.certificateIssued.title,
        certificate,
        passphrase,
        revoked,
        brokerAddress: enrollment.brokerAddress(),
        downloads: held && {
          ticket: request.query.download,
          files: [names.p12, names.otrp],
          minutes: ADMIN_DOWNLOAD_MS / 60_000,
        },
        scripts: ['/static/js/copy.js'],
      });
    },
  );

  app.get(
    '/certificates/:id/bundle/:file',
    {
      schema: {
        params: z.object({ id: z.coerce.number().int().positive(), file: z.string().max(200) }),
        querystring: z.object({ download: z.string().max(64).default('') }),
      },
    },
    async (request, reply) => {
      // Not before the mail went (the ticket is in the redirect already), and never after it failed.
      if ((await deliveries.settled(request.params.id)) !== undefined) return reply.callNotFound();
      const certificate = enrollment.certificate(request.params.id);
      const held = certificate && bundles.get(request.query.download, certificate);
      if (!certificate || !held) return reply.callNotFound();
      const names = bundleFileNames(certificate.username, certificate.device);
      if (request.params.file !== names.p12 && request.params.file !== names.otrp) return reply.callNotFound();
      return reply
        .type(request.params.file === names.p12 ? 'application/x-pkcs12' : 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${request.params.file}"`)
        .send(Buffer.from(held.pkcs12));
    },
  );
};
export default issueRoutes;
