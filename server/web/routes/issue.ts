// GET /certificates/new, POST /certificates: the issue form; the result shows the passphrase once.
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { issueCertificate } from '../../enroll/issue.js';
import { CLIENT_KEY_SIZES } from '../../pki/keys.js';
import { BUNDLE_FORMATS } from '../../pki/pkcs12.js';
import { fieldErrors, type FieldErrors } from '../forms.js';

/** username = certificate CN = MQTT username = a topic level: no `/`, `+`, `#`, spaces or upper case. */
export const usernameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'Use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

const deviceSchema = z
  .string()
  .trim()
  .regex(/^$|^[a-z0-9][a-z0-9._-]{0,31}$/, 'Use up to 32 lower-case letters, digits, dots, dashes or underscores')
  .transform((value) => value || null);

export const emailSchema = z
  .string()
  .refine((value) => !/[\r\n]/.test(value), 'An address cannot contain line breaks')
  .transform((value) => value.trim())
  .pipe(z.email('Enter a valid email address').max(254, 'Enter a valid email address'));

const daysSchema = z.coerce
  .number({ error: 'Enter a whole number of days from 1 to 3650' })
  .int('Enter a whole number of days from 1 to 3650')
  .min(1, 'Enter a whole number of days from 1 to 3650')
  .max(3650, 'Enter a whole number of days from 1 to 3650');

export const issueBody = z
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
    if (body.passphraseMode === 'custom' && !/^[\x20-\x7e]{12,}$/.test(body.passphrase)) {
      ctx.addIssue({
        code: 'custom',
        path: ['passphrase'],
        message: 'Use at least 12 printable ASCII characters (no accents: phones type them differently)',
      });
    }
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

const issueRoutes: FastifyPluginAsyncZod = async (app) => {
  const { enroll, passphrases } = app.portal;

  const renderForm = (
    reply: { page: FastifyReply['page'] },
    values: Record<string, string>,
    errors: FieldErrors,
    extra: Record<string, unknown> = {},
  ) => {
    const existing = values.username ? enroll.users.find(values.username) : undefined;
    return reply.page('certificates/new', {
      title: 'Issue a certificate',
      values: { ...FORM_DEFAULTS, ...values, passphrase: '' }, // a typed passphrase is never echoed back
      errors,
      existing: existing
        ? { email: existing.email, certificates: enroll.certificates.countForUser(existing.id) }
        : undefined,
      mailKind: enroll.mailer.kind,
      ...extra,
    });
  };

  app.get(
    '/certificates/new',
    { schema: { querystring: z.object({ username: z.string().max(64).optional() }) } },
    async (request, reply) => {
      const username = usernameSchema.safeParse(request.query.username ?? '');
      const user = username.success ? enroll.users.find(username.data) : undefined;
      return renderForm(reply, user ? { username: user.username, email: user.email } : {}, {});
    },
  );

  app.post('/certificates', { schema: { body: issueBody }, attachValidation: true }, async (request, reply) => {
    const raw = request.body as unknown as Record<string, unknown>;
    const values = Object.fromEntries(
      Object.keys(FORM_DEFAULTS)
        .concat('changeEmail')
        .map((key) => [key, typeof raw[key] === 'string' ? (raw[key] as string) : '']),
    );
    if (request.validationError) return renderForm(reply.status(400), values, fieldErrors(request.validationError));

    const body = request.body;
    const outcome = await issueCertificate(
      enroll,
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
    return reply.status(502).page('certificates/mail-failed', {
      title: 'The mail could not be sent',
      outcome,
      username: body.username,
      email: body.email,
    });
  });

  app.get(
    '/certificates/:id/issued',
    {
      schema: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        querystring: z.object({ ticket: z.string().max(64).default('') }),
      },
    },
    async (request, reply) => {
      const certificate = enroll.certificates.find(request.params.id);
      if (!certificate) return reply.callNotFound();
      const secret = passphrases.take(request.query.ticket);
      const passphrase = secret?.certificateId === certificate.id ? secret.passphrase : undefined;
      return reply.page('certificates/issued', {
        title: 'Certificate issued',
        certificate,
        passphrase,
        scripts: ['/static/js/copy.js'],
      });
    },
  );
};
export default issueRoutes;
