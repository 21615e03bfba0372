// GET /certificates/new, POST /certificates: the issue form; the result shows the passphrase once.
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
} from '../../enroll/rules.js';
import type { Passphrases } from '../one-time-secrets.js';
import { fieldErrors, formValue, type FieldErrors } from '../forms.js';

/** The issue form: the enrollment rules, plus the form's own fields (passphrase mode, the tick). */
const issueBody = z
  .object({
    username: usernameSchema,
    email: emailSchema,
    device: deviceSchema.default(''),
    days: daysSchema,
    keyBits: z
      .enum(CLIENT_KEY_SIZES.map(String) as [string, ...string[]], { error: 'Choose a key size' })
      .default('2048')
      .transform(Number),
    format: z.enum(BUNDLE_FORMATS, { error: 'Choose a bundle format' }).default('compatible'),
    passphraseMode: z.enum(['generate', 'custom'], { error: 'Choose how to set the passphrase' }).default('generate'),
    passphrase: z.string().max(256, 'Use at most 256 characters').default(''),
    changeEmail: z.literal('yes').optional(),
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
};

const issueRoutes: FastifyPluginAsyncZod<{
  enrollment: Pick<Enrollment, 'issue' | 'person' | 'certificate' | 'setup' | 'brokerAddress' | 'defaultDevice'>;
  passphrases: Passphrases;
}> = async (app, { enrollment, passphrases }) => {
  const renderForm = (
    reply: { page: FastifyReply['page'] },
    values: Record<string, string>,
    errors: FieldErrors,
    extra: Record<string, unknown> = {},
  ) => {
    const username = usernameSchema.safeParse(values.username ?? '');
    const existing = username.success ? enrollment.person(username.data) : undefined;
    return reply.page('certificates/new', {
      title: 'Issue a certificate',
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
      const outcome = await enrollment.issue(
        {
          username: body.username,
          email: body.email,
          device: body.device,
          days: body.days,
          keyBits: body.keyBits,
          format: body.format,
          passphrase: body.passphraseMode === 'custom' ? body.passphrase : undefined,
          changeEmail: body.changeEmail === 'yes',
        },
        { name: request.session.admin!, ip: request.ip },
      );
      if (outcome.ok) {
        const ticket = passphrases.put({ certificateId: outcome.certificateId, passphrase: outcome.passphrase });
        return reply.redirect(`/certificates/${outcome.certificateId}/issued?ticket=${ticket}`, 303);
      }
      if (outcome.reason === 'invalid') return renderForm(reply.status(400), values, outcome.issues);
      if (outcome.reason === 'outlives-ca') {
        return renderForm(reply.status(400), values, {
          days: `The CA expires in ${outcome.caDaysLeft} days (${outcome.caExpires.toISOString().slice(0, 10)}): choose at most ${outcome.caDaysLeft}`,
        });
      }
      if (outcome.reason === 'email-differs') {
        return renderForm(
          reply.status(409),
          values,
          {
            email: `${body.username} is registered with ${outcome.currentEmail}. To send this certificate to the new address and keep it for ${body.username}, tick “Change the address”.`,
          },
          { offerEmailChange: true },
        );
      }
      if (outcome.reason === 'device-taken') {
        return renderForm(
          reply.status(409),
          values,
          {
            device: `${body.username} already has an active certificate for ${outcome.device} (serial ${outcome.existing.serial}). One device has one certificate: replace it, or choose another device name.`,
          },
          { deviceTaken: { id: outcome.existing.id, device: outcome.device } },
        );
      }
      return reply.status(502).page('certificates/mail-failed', {
        title: 'The mail could not be sent',
        outcome,
        username: body.username,
        email: body.email,
      });
    },
  );

  app.get(
    '/certificates/:id/issued',
    {
      schema: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        querystring: z.object({ ticket: z.string().max(64).default('') }),
      },
    },
    async (request, reply) => {
      const certificate = enrollment.certificate(request.params.id);
      if (!certificate) return reply.callNotFound();
      const secret = passphrases.take(request.query.ticket);
      const passphrase = secret?.certificateId === certificate.id ? secret.passphrase : undefined;
      return reply.page('certificates/issued', {
        title: 'Certificate issued',
        certificate,
        passphrase,
        brokerAddress: enrollment.brokerAddress(),
        scripts: ['/static/js/copy.js'],
      });
    },
  );
};
export default issueRoutes;
