// The portal's configuration: one zod schema over the environment, parsed once at start.
// Every variable is optional; the defaults make `npm start` work on a fresh machine.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { StartupError } from './errors.js';

/** Secrets may come from `NAME` or from a file named by `NAME_FILE` (Docker secrets). */
const SECRET_VARIABLES = ['ADMIN_PASSWORD', 'CA_KEY_PASSPHRASE', 'SMTP_URL', 'BROKER_CONTROL_URL'] as const;

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number between 1 and 65535' })
    .int('must be a whole number between 1 and 65535')
    .min(1, 'must be a whole number between 1 and 65535')
    .max(65535, 'must be a whole number between 1 and 65535')
    .default(fallback);

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Names every new CA permits besides CA_SERVER_NAMES and MQTT_HOST: a broker on the same machine. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** CA_SERVER_NAMES: host names and IP addresses, separated by commas or spaces. */
const serverNames = z
  .string()
  .transform((value) => value.split(/[\s,]+/).filter(Boolean))
  .pipe(
    z.array(
      z
        .string()
        .refine(
          (name) => isIP(name) !== 0 || HOST_NAME.test(name),
          'must list host names (mqtt.example.org) or IP addresses, separated by commas',
        ),
    ),
  )
  .default([]);

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// address' })
  .transform((value) => value.replace(/\/+$/, ''));

const TRUST_PROXY_MESSAGE =
  'must be a hop count (1, 2, …) or a comma-separated list of proxy addresses or CIDRs (10.0.0.2, 10.0.0.0/8)';

/** An IPv4 or IPv6 address, optionally with a prefix length that fits its family. */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Whose X-Forwarded-* headers to believe. Unset: nobody's (the socket's address is the client's).
 * A number: that many proxies in front, counted from the right of X-Forwarded-For. Otherwise the
 * proxies' addresses or CIDRs, as fastify's `trustProxy` takes them.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((value, ctx): number | string[] => {
    if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 100) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.every((entry) => entry !== '' && isAddressOrCidr(entry))) return entries;
    ctx.addIssue({ code: 'custom', message: TRUST_PROXY_MESSAGE });
    return z.NEVER;
  });

/**
 * BROKER_CONTROL_URL: the broker's dynsec control account, `mqtt://user:password@host:port` or
 * `mqtts://`. Both the user and the password are required: the control account is never anonymous.
 */
const brokerControlUrl = z
  .url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// address with a user and a password' })
  .refine((value) => {
    if (!URL.canParse(value)) return true; // already refused above
    const url = new URL(value);
    return url.username !== '' && url.password !== '' && url.hostname !== '';
  }, 'must name the control account: mqtt://user:password@host:port');

/** BROKER_PROBE_URL: where the portal reaches the phones' TLS listener to check the CRL is in force. */
const brokerProbeUrl = z.url({ protocol: /^mqtts$/, error: 'must be an mqtts:// address (the TLS listener)' });

export const environmentSchema = z
  .object({
    PORT: port(3000),
    HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
    DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data'),
    PUBLIC_URL: httpUrl.optional(),
    TRUST_PROXY: trustProxy.optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// address' }).optional(),
    MAIL_FROM: z.string().trim().min(3).default('OwnTracks Enroll <enroll@localhost>'),
    ADMIN_USERNAME: optionalText,
    ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    CA_KEY_PASSPHRASE: z.string().min(8, 'must be at least 8 characters').optional(),
    CA_COMMON_NAME: z.string().trim().min(1, 'must not be empty').max(64).default('OwnTracks Enroll CA'),
    CA_SERVER_NAMES: serverNames,
    MQTT_HOST: optionalText,
    MQTT_PORT: port(8883),
    BROKER_RELOAD_COMMAND: optionalText,
    BROKER_CONTROL_URL: brokerControlUrl.optional(),
    BROKER_PROBE_URL: brokerProbeUrl.optional(),
    BACKUP_DIR: optionalText,
    BACKUP_INTERVAL_HOURS: z.coerce
      .number({ error: 'must be a whole number of hours from 1 to 720' })
      .int('must be a whole number of hours from 1 to 720')
      .min(1, 'must be a whole number of hours from 1 to 720')
      .max(720, 'must be a whole number of hours from 1 to 720')
      .default(24),
    BACKUP_KEEP: z.coerce
      .number({ error: 'must be a whole number from 1 to 1000' })
      .int('must be a whole number from 1 to 1000')
      .min(1, 'must be a whole number from 1 to 1000')
      .max(1000, 'must be a whole number from 1 to 1000')
      .default(14),
    OUTBOX_RETENTION_DAYS: z.coerce
      .number({ error: 'must be a whole number of days from 1 to 3650' })
      .int('must be a whole number of days from 1 to 3650')
      .min(1, 'must be a whole number of days from 1 to 3650')
      .max(3650, 'must be a whole number of days from 1 to 3650')
      .default(30),
    AUDIT_RETENTION_DAYS: z.coerce
      .number({ error: 'must be a whole number of days from 1 to 36500' })
      .int('must be a whole number of days from 1 to 36500')
      .min(1, 'must be a whole number of days from 1 to 36500')
      .max(36500, 'must be a whole number of days from 1 to 36500')
      .optional(),
    PICKUP_TTL_HOURS: z.coerce
      .number({ error: 'must be a whole number of hours from 1 to 720' })
      .int('must be a whole number of hours from 1 to 720')
      .min(1, 'must be a whole number of hours from 1 to 720')
      .max(720, 'must be a whole number of hours from 1 to 720')
      .default(72),
    PICKUP_QR_TTL_MINUTES: z.coerce
      .number({ error: 'must be a whole number of minutes from 1 to 1440' })
      .int('must be a whole number of minutes from 1 to 1440')
      .min(1, 'must be a whole number of minutes from 1 to 1440')
      .max(1440, 'must be a whole number of minutes from 1 to 1440')
      .default(15),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_USERNAME === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_USERNAME === undefined ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD'],
        message: 'ADMIN_USERNAME and ADMIN_PASSWORD must be set together',
      });
    }
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    dataDir: path.resolve(env.DATA_DIR),
    publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
    trustProxy: env.TRUST_PROXY ?? (false as const),
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    initialAdmin:
      env.ADMIN_USERNAME && env.ADMIN_PASSWORD
        ? { username: env.ADMIN_USERNAME, password: env.ADMIN_PASSWORD }
        : undefined,
    caKeyPassphrase: env.CA_KEY_PASSPHRASE,
    caCommonName: env.CA_COMMON_NAME,
    /** What a CA made at this start permits in server certificates (name constraints); unused once it exists. */
    caServerNames: splitServerNames([
      ...LOOPBACK_NAMES,
      ...(env.MQTT_HOST ? [env.MQTT_HOST] : []),
      ...env.CA_SERVER_NAMES,
    ]),
    mqtt: { host: env.MQTT_HOST, port: env.MQTT_PORT },
    brokerReloadCommand: env.BROKER_RELOAD_COMMAND,
    /** The dynsec control connection; undefined: no broker link (the CRL and reload command only). */
    brokerControl: env.BROKER_CONTROL_URL ? brokerControlSettings(env.BROKER_CONTROL_URL, env) : undefined,
    /** Outbox messages (bundles) are removed this many days after they were written. */
    outboxRetentionDays: env.OUTBOX_RETENTION_DAYS,
    backup: env.BACKUP_DIR
      ? { dir: path.resolve(env.BACKUP_DIR), intervalHours: env.BACKUP_INTERVAL_HOURS, keep: env.BACKUP_KEEP }
      : undefined,
    /** Audit rows older than this many days are pruned daily; undefined: kept for ever. */
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    logLevel: env.LOG_LEVEL,
    /** How long a pickup link lives: mailed, or shown as a QR code on the admin's screen. */
    pickup: { ttlHours: env.PICKUP_TTL_HOURS, qrTtlMinutes: env.PICKUP_QR_TTL_MINUTES },
  }));

function brokerControlSettings(value: string, env: { MQTT_PORT: number; BROKER_PROBE_URL?: string | undefined }) {
  const url = new URL(value);
  const port = Number(url.port) || (url.protocol === 'mqtts:' ? 8883 : 1883);
  // The phones' TLS listener, probed after each CRL reload: the control host at MQTT_PORT by default.
  const probe = new URL(env.BROKER_PROBE_URL ?? `mqtts://${url.host}`);
  if (!env.BROKER_PROBE_URL) probe.port = String(env.MQTT_PORT);
  return {
    url: `${url.protocol}//${url.host}`,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    tls: url.protocol === 'mqtts:',
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    probe: { host: probe.hostname.replace(/^\[|\]$/g, ''), port: Number(probe.port) || 8883 },
  };
}

function splitServerNames(names: string[]): { hosts: string[]; ips: string[] } {
  const unique = [...new Set(names.map((name) => name.toLowerCase()))];
  return { hosts: unique.filter((name) => isIP(name) === 0), ips: unique.filter((name) => isIP(name) !== 0) };
}

export type Config = z.output<typeof environmentSchema>;

/** A setting that stops start-up; its message is the one line the operator sees. */
class ConfigError extends StartupError {
  override name = 'ConfigError';
}

/** Replaces `NAME_FILE` by the file's content (trailing newline dropped) under `NAME`. */
function resolveSecretFiles(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      throw new ConfigError(`Configuration error: set ${name} or ${name}_FILE, not both`);
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`Configuration error: ${name}_FILE: cannot read ${file} (${reason})`);
    }
  }
  // Empty values count as unset, as with most twelve-factor software.
  for (const [key, value] of Object.entries(resolved)) if (value === '') delete resolved[key];
  return resolved;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = environmentSchema.safeParse(resolveSecretFiles(env));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = issue.path.join('.') || 'environment';
    throw new ConfigError(`Configuration error: ${variable}: ${issue.message}`);
  }
  return result.data;
}
