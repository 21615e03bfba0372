// The Accounts facade: sign-in and sign-out, the first admin (setup link or ADMIN_USERNAME), admin
// commands (disable, enable, delete, end sessions), audit retention, and the session store the web
// layer keeps signed-in admins in.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { AdminsRepository } from '../db/admins.js';
import type { AuditedTransaction, AuditRepository } from '../db/audit.js';
import type { Db } from '../db/database.js';
import { sessionsRepository } from '../db/sessions.js';
import type { SettingsRepository } from '../db/settings.js';
import {
  confirmPassword,
  createAdmin,
  deleteAdmin,
  disableAdmin,
  enableAdmin,
  endSessions,
  resetAdminPassword,
  signIn,
  type AccountActor,
  type AdminCreated,
} from './admins.js';
import { failed, type Failed } from '../outcome.js';
import { pruneAudit } from './audit-retention.js';
import { KnownDevices } from './known-device.js';
import type { PasswordCost } from './password.js';
import { SetupToken } from './setup-token.js';
import { DEFAULT_HASH_LIMITS, HashGate, RejectionAuditThrottle, type HashLimits } from './sign-in-limits.js';

export interface AccountsDeps {
  config: Pick<Config, 'publicUrl' | 'initialAdmin' | 'auditRetentionDays'>;
  db: Db;
  admins: AdminsRepository;
  audit: Pick<AuditRepository, 'prune'>;
  settings: SettingsRepository;
  audited: AuditedTransaction;
  now: () => Date;
  passwordCost: PasswordCost | undefined;
  /** Bounds on concurrent password checks; tests make them small. */
  hashLimits?: HashLimits | undefined;
}

export function createAccounts(deps: AccountsDeps) {
  const sessions = sessionsRepository(deps.db, deps.now);
  const accountDeps = { ...deps, sessions };
  const signInDeps = {
    ...accountDeps,
    gate: new HashGate(deps.hashLimits ?? DEFAULT_HASH_LIMITS),
    rejections: new RejectionAuditThrottle(),
    checking: new Set<string>(),
  };
  const knownDevices = new KnownDevices(
    () => deps.settings.getOrCreate('known_device_secret', () => randomBytes(32).toString('hex')),
    deps.now,
  );
  const setupToken = new SetupToken();
  const setupLinkUsable = (token: string) => deps.admins.count() === 0 && setupToken.matches(token);

  return {
    /**
     * Checks a sign-in. `client.device` is the known-device cookie the browser sent, if any: a valid one
     * for this name waits in the reserved line when password checks are queued.
     */
    signIn: (
      input: { username: string; password: string },
      client: { ip: string | undefined; device?: string | undefined },
    ) =>
      signIn(signInDeps, input, {
        ip: client.ip,
        knownDevice: knownDevices.matches(client.device, input.username),
      }),
    /** The known-device cookie's value for a browser that just signed in as `username`. */
    knownDevice: (username: string) => knownDevices.issue(username),
    /** The most password checks that ran at once (tests read it). */
    peakPasswordChecks: () => signInDeps.gate.peak,
    signOut(admin: string, ip: string | undefined) {
      deps.audited(deps.now(), (audit) =>
        audit({ actor: admin, action: 'sign-out', outcome: 'success', ip: ip ?? null }),
      );
    },
    setupLinkUsable,
    /** Creates the first admin through the one-time setup link; the link dies before the slow hash. */
    async createFirstAdmin(
      input: { token: string; username: string; password: string },
      ip: string | undefined,
    ): Promise<AdminCreated | Failed<'link-not-valid'>> {
      if (!setupLinkUsable(input.token)) return failed('link-not-valid');
      setupToken.revoke(); // before the slow hash, so two racing requests cannot both use it
      return createAdmin(accountDeps, input, { name: input.username, ip, via: 'setup link' });
    },
    createAdmin: (input: { username: string; password: string }, actor: AccountActor) =>
      createAdmin(accountDeps, input, actor),
    resetPassword: (input: { username: string; password: string }, actor: AccountActor) =>
      resetAdminPassword(accountDeps, input, actor),
    disableAdmin: (username: string, actor: AccountActor) => disableAdmin(accountDeps, username, actor),
    enableAdmin: (username: string, actor: AccountActor) => enableAdmin(accountDeps, username, actor),
    deleteAdmin: (username: string, actor: AccountActor) => deleteAdmin(accountDeps, username, actor),
    endSessions: (username: string | undefined, actor: AccountActor) => endSessions(accountDeps, username, actor),
    /** Deletes audit rows older than AUDIT_RETENTION_DAYS, and audits that. */
    pruneAudit: (actor: AccountActor) => pruneAudit({ ...deps, retentionDays: deps.config.auditRetentionDays }, actor),

    /**
     * Asks a signed-in admin for their password again before a step that hands out the keys to the
     * portal (downloading a backup: it holds the CA key), with sign-in's guards (admins.ts).
     */
    confirmPassword: (admin: string, password: string, context: { subject: string; ip: string | undefined }) =>
      confirmPassword(signInDeps, admin, password, context),

    /** Secret that signs session cookies, made on first use and kept in the database. */
    sessionSecret: () => deps.settings.getOrCreate('session_secret', () => randomBytes(32).toString('hex')),
    sessionStore: <Session extends { admin?: string | undefined }>(idleMs: number) => sessions.store<Session>(idleMs),

    /** The one-time setup link while no admin exists and it is unused (printed as a banner at start). */
    setupLink(): string | undefined {
      const token = setupToken.current;
      return token && deps.admins.count() === 0 ? `${deps.config.publicUrl}/setup?token=${token}` : undefined;
    },

    /** Start-up: creates the configured first admin, or prints a one-time setup link when there is none. */
    async ensureFirstAdmin(log: { info(message: string): void; warn(message: string): void }) {
      if (deps.admins.count() > 0) return;
      const initial = deps.config.initialAdmin;
      if (initial) {
        const created = await createAdmin(accountDeps, initial, { name: 'system', via: 'ADMIN_USERNAME' });
        if (!created.ok) throw new Error(`ADMIN_USERNAME could not be created: ${JSON.stringify(created)}`);
        log.info(`Created admin ${initial.username} from ADMIN_USERNAME`);
        return;
      }
      const token = setupToken.issue();
      log.warn(`No admin exists yet. Create the first one at ${deps.config.publicUrl}/setup?token=${token}`);
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
