// The enrollment rules, in one place: every entry point (the issue form, the Broker page, the CLI,
// and the API and bulk enrollment to come) validates against these schemas, and so does each use
// case itself, so no path can sign a name the broker would misread.
import { isIP } from 'node:net';
import { z } from 'zod';
import { CLIENT_KEY_SIZES } from '../pki/keys.js';
import { BUNDLE_FORMATS } from '../pki/pkcs12.js';
import { REVOCATION_REASONS, type RevocationReason } from '../pki/crl.js';
import { SERVER_MAX_DAYS } from '../pki/issue.js';
import { permitsName, permittedNames, type NameConstraints } from '../pki/name-constraints.js';
import type { FieldIssues } from '../outcome.js';

export { BUNDLE_FORMATS, CLIENT_KEY_SIZES, type RevocationReason };

/** The longest a client certificate may be valid for (and never beyond the CA's own expiry). */
export const CLIENT_MAX_DAYS = 3650;

/** username = certificate CN = MQTT username = a topic level: no `/`, `+`, `#`, spaces or upper case. */
export const usernameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'Use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

/** A device name (the OwnTracks deviceId and part of the file names); empty means none. */
export const deviceSchema = z
  .string()
  .trim()
  .regex(/^$|^[a-z0-9][a-z0-9._-]{0,31}$/, 'Use up to 32 lower-case letters, digits, dots, dashes or underscores')
  .transform((value) => value || null);

export const emailSchema = z
  .string()
  .refine((value) => !/[\r\n]/.test(value), 'An address cannot contain line breaks')
  .transform((value) => value.trim())
  .pipe(z.email('Enter a valid email address').max(254, 'Enter a valid email address'));

const daysMessage = `Enter a whole number of days from 1 to ${CLIENT_MAX_DAYS}`;
export const daysSchema = z.coerce
  .number({ error: daysMessage })
  .int(daysMessage)
  .min(1, daysMessage)
  .max(CLIENT_MAX_DAYS, daysMessage);

const keyBitsSchema = z.coerce
  .number({ error: 'Choose a key size' })
  .refine((bits) => (CLIENT_KEY_SIZES as readonly number[]).includes(bits), 'Choose a key size');

const bundleFormatSchema = z.enum(BUNDLE_FORMATS, { error: 'Choose a bundle format' });

/** At least 12 printable ASCII characters: phones type accents differently. */
export const typedPassphraseSchema = z
  .string()
  .regex(
    /^[\x20-\x7e]{12,256}$/,
    'Use at least 12 printable ASCII characters (no accents: phones type them differently)',
  );

/** What a use case accepts for a new client certificate, whatever the entry point. */
export const issueRequestSchema = z.object({
  username: usernameSchema,
  email: emailSchema,
  device: z
    .string()
    .nullable()
    .pipe(z.union([z.null(), deviceSchema])),
  days: daysSchema,
  keyBits: keyBitsSchema,
  format: bundleFormatSchema,
  passphrase: typedPassphraseSchema.optional(),
  changeEmail: z.boolean(),
});

export const REASON_LABELS: Record<RevocationReason, string> = {
  unspecified: 'Unspecified',
  keyCompromise: 'Key compromise (lost or stolen device, leaked bundle)',
  affiliationChanged: 'Affiliation changed (left the family or company)',
  superseded: 'Superseded (replaced by a new certificate)',
  cessationOfOperation: 'Cessation of operation (device retired, or never delivered)',
};

export const revocationReasonSchema = z.enum(
  Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]],
  {
    error: 'Choose a reason',
  },
);

/** The reasons an admin can choose, in the order the form lists them. */
export const REVOCATION_CHOICES = (Object.keys(REVOCATION_REASONS) as RevocationReason[]).map((value) => ({
  value,
  label: REASON_LABELS[value],
}));

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The broker's server certificate: host names and IP addresses the phones use, and a lifetime. */
export const serverCertificateRequestSchema = z
  .object({
    hosts: z.array(
      z.string().regex(HOST_NAME, 'Use host names such as mqtt.example.org, separated by spaces or commas'),
    ),
    ips: z.array(
      z.string().refine((ip) => isIP(ip) !== 0, {
        error: (issue) => `Not an IP address: ${String(issue.input)}. Use addresses such as 192.0.2.10 or 2001:db8::1`,
      }),
    ),
    days: z.coerce
      .number()
      .int(`A server certificate is valid for 1 to ${SERVER_MAX_DAYS} days`)
      .min(1, `A server certificate is valid for 1 to ${SERVER_MAX_DAYS} days`)
      .max(SERVER_MAX_DAYS, `A server certificate is valid for 1 to ${SERVER_MAX_DAYS} days`)
      .default(SERVER_MAX_DAYS),
  })
  .refine((request) => request.hosts.length + request.ips.length > 0, {
    path: ['hosts'],
    message: 'Give at least one host name or IP address the phones use to reach the broker',
  });
export type ServerCertificateRequest = z.input<typeof serverCertificateRequestSchema>;

/**
 * The names of a server certificate request that the CA's name constraints do not permit, as field
 * messages: clients would refuse such a certificate, so it is never signed. An unconstrained CA
 * (made before, or imported) permits everything.
 */
export function namesOutsideCa(
  constraints: NameConstraints | null,
  request: { hosts: string[]; ips: string[] },
): FieldIssues {
  const issues: FieldIssues = {};
  if (!constraints) return issues;
  const allowed = permittedNames(constraints);
  const explain = (outside: string[]) =>
    `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside what this CA may sign for ` +
    `(${allowed.length ? allowed.join(', ') : 'no server names'}): its names were fixed when it was made (CA_SERVER_NAMES)`;
  const hosts = request.hosts.filter((name) => !permitsName(constraints, name));
  const ips = request.ips.filter((name) => !permitsName(constraints, name));
  if (hosts.length) issues['hosts'] = explain(hosts);
  if (ips.length) issues['ips'] = explain(ips);
  return issues;
}

/** "mqtt.example.org, 192.0.2.10 other" → the names, split on spaces and commas. */
export const splitNames = (value: string) => value.split(/[\s,]+/).filter(Boolean);

export type DisplayStatus = 'active' | 'revoked' | 'expired';

/** "expired" is derived from not_after, never stored. */
export function displayStatus(row: { status: string; not_after: string }, now: Date): DisplayStatus {
  if (row.status === 'revoked') return 'revoked';
  return new Date(row.not_after).getTime() < now.getTime() ? 'expired' : 'active';
}

/**
 * The names a person's bundle files carry: `<user>-<device>` when a device is named, so that a
 * phone's files are told from a tablet's; the `.otrc`'s `clientpkcs` names the `.otrp`.
 */
export function bundleFileNames(username: string, device: string | null): { p12: string; otrp: string; otrc: string } {
  const base = device ? `${username}-${device}` : username;
  return { p12: `${base}.p12`, otrp: `${base}.otrp`, otrc: `${base}.otrc` };
}
