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
import { wordsFor } from '../words/index.js';

const words = wordsFor().rules;

export { BUNDLE_FORMATS, CLIENT_KEY_SIZES, type RevocationReason };

/** The longest a client certificate may be valid for (and never beyond the CA's own expiry). */
export const CLIENT_MAX_DAYS = 3650;

/** username = certificate CN = MQTT username = a topic level: no `/`, `+`, `#`, spaces or upper case. */
export const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, words.username);

/** A device name (the OwnTracks deviceId and part of the file names); empty means none. */
export const deviceSchema = z
  .string()
  .trim()
  .regex(/^$|^[a-z0-9][a-z0-9._-]{0,31}$/, words.device)
  .transform((value) => value || null);

export const emailSchema = z
  .string()
  .refine((value) => !/[\r\n]/.test(value), words.emailLineBreaks)
  .transform((value) => value.trim())
  .pipe(z.email(words.email).max(254, words.email));

const daysMessage = words.days(CLIENT_MAX_DAYS);
export const daysSchema = z.coerce
  .number({ error: daysMessage })
  .int(daysMessage)
  .min(1, daysMessage)
  .max(CLIENT_MAX_DAYS, daysMessage);

const keyBitsSchema = z.coerce
  .number({ error: words.keySize })
  .refine((bits) => (CLIENT_KEY_SIZES as readonly number[]).includes(bits), words.keySize);

const bundleFormatSchema = z.enum(BUNDLE_FORMATS, { error: words.bundleFormat });

/** At least 12 printable ASCII characters: phones type accents differently. */
export const typedPassphraseSchema = z.string().regex(/^[\x20-\x7e]{12,256}$/, words.passphrase);

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
  /** The active certificate this one replaces (Replace revokes it in the same step). */
  replaces: z.number().int().positive().optional(),
});

/**
 * The device name an unnamed device gets, and the OwnTracks deviceId of an old certificate stored
 * without one: two devices with the same deviceId share a client id and knock each other off.
 */
const DEFAULT_DEVICE = 'phone';

/** The device a certificate stands for; certificates of an older version may have none (`phone`). */
export const deviceOf = (device: string | null): string => device ?? DEFAULT_DEVICE;

/** The name an empty Device field gets: `phone`, else `phone-2`, `phone-3`, … the first no active certificate of the person uses. */
export function defaultDeviceName(taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(DEFAULT_DEVICE)) return DEFAULT_DEVICE;
  for (let n = 2; ; n++) if (!used.has(`${DEFAULT_DEVICE}-${n}`)) return `${DEFAULT_DEVICE}-${n}`;
}

/**
 * The names a person's bundle and configuration travel under: `<user>-<device>.p12` (Android),
 * `.otrp` (iOS, the same bytes) and `.otrc` (whose `clientpkcs` names the `.otrp`), so that a
 * phone's files are told from a tablet's. `<user>.p12` only for certificates stored without a device.
 */
export function bundleFileNames(username: string, device: string | null): { p12: string; otrp: string; otrc: string } {
  const base = device ? `${username}-${device}` : username;
  return { p12: `${base}.p12`, otrp: `${base}.otrp`, otrc: `${base}.otrc` };
}

/**
 * DESIGN.md's rule: one active certificate (or open invitation) per person and device. Returns the
 * active certificate a new one for `device` would collide with, if any. The one exception is the
 * certificate being replaced (`replaces`), which Replace revokes in the same step; a renewal's
 * grace period, the other exception DESIGN.md names, does not exist yet.
 */
export function deviceConflict<T extends { id: number; device: string | null }>(
  active: readonly T[],
  device: string,
  replaces?: number,
): T | undefined {
  return active.find((certificate) => deviceOf(certificate.device) === device && certificate.id !== replaces);
}

export const REASON_LABELS: Record<RevocationReason, string> = {
  unspecified: words.reasons.unspecified,
  keyCompromise: words.reasons.keyCompromise,
  affiliationChanged: words.reasons.affiliationChanged,
  superseded: words.reasons.superseded,
  cessationOfOperation: words.reasons.cessationOfOperation,
};

export const revocationReasonSchema = z.enum(
  Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]],
  {
    error: words.reason,
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
    hosts: z.array(z.string().regex(HOST_NAME, words.serverHosts)),
    ips: z.array(
      z.string().refine((ip) => isIP(ip) !== 0, {
        error: (issue) => words.notAnIp(String(issue.input)),
      }),
    ),
    days: z.coerce
      .number({ error: words.serverDays(SERVER_MAX_DAYS) })
      .int(words.serverDays(SERVER_MAX_DAYS))
      .min(1, words.serverDays(SERVER_MAX_DAYS))
      .max(SERVER_MAX_DAYS, words.serverDays(SERVER_MAX_DAYS))
      .default(SERVER_MAX_DAYS),
  })
  .refine((request) => request.hosts.length + request.ips.length > 0, {
    path: ['hosts'],
    message: words.serverNamesMissing,
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

const portMessage = words.port;

/** The broker's address as phones reach it (Settings): a host name or IP address, and a TCP port. */
export const brokerAddressSchema = z.object({
  host: z
    .string()
    .trim()
    .toLowerCase()
    // A name whose last label is all digits is no host name but a mistyped address (1.2.3, 999);
    // an address with a zone (fe80::1%eth0) means nothing to a phone.
    .refine(
      (host) => (HOST_NAME.test(host) && !/(^|\.)\d+$/.test(host)) || (isIP(host) !== 0 && !host.includes('%')),
      words.brokerHost,
    ),
  // Decimal digits only: Number() would also read 0x22C4 or 1e3 as a port.
  port: z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, portMessage)
    .transform(Number)
    .pipe(z.number().int().min(1, portMessage).max(65535, portMessage)),
});
export type BrokerAddressInput = z.input<typeof brokerAddressSchema>;

/** "mqtt.example.org, 192.0.2.10 other" → the names, split on spaces and commas. */
export const splitNames = (value: string) => value.split(/[\s,]+/).filter(Boolean);

export type DisplayStatus = 'active' | 'revoked' | 'expired';

/** "expired" is derived from not_after, never stored. */
export function displayStatus(row: { status: string; not_after: string }, now: Date): DisplayStatus {
  if (row.status === 'revoked') return 'revoked';
  return new Date(row.not_after).getTime() < now.getTime() ? 'expired' : 'active';
}
