// The Accounts facade: sign-in and sign-out, the first admin (setup link or ADMIN_USERNAME), admin
// commands, and the session store the web layer keeps signed-in admins in.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { AdminsRepository } from '../db/admins.js';
import type { AuditedTransaction } from '../db/audit.js';
import type { Db } from '../db/database.js';
import { sessionsRepository } from '../db/sessions.js';
import type { SettingsRepository } from '../db/settings.js';
import { failed, ok, type Failed, type Ok } from '../outcome.js';
import {
  createAdmin,
  resetAdminPassword,
  signIn,
  UnknownNameFailures,
  type AccountActor,
  type AdminCreated,
} from './admins.js';
import { verifyPassword, type PasswordCost } from './password.js';
import { SetupToken } from './setup-token.js';

export interface AccountsDeps {
  config: Pick<Config, 'publicUrl' | 'initialAdmin'>;
  db: Db;
  admins: AdminsRepository;
  settings: SettingsRepository;
  audited: AuditedTransaction;
  now: () => Date;
  passwordCost: PasswordCost | undefined;
}

export function createAccounts(deps: AccountsDeps) {
  const unknownNames = new UnknownNameFailures();
  const setupToken = new SetupToken();
  const setupLinkUsable = (token: string) => deps.admins.count() === 0 && setupToken.matches(token);

  return {
    signIn: (input: { username: string; password: string }, ip: string | undefined) =>
      signIn({ ...deps, unknownNames }, input, ip),
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
      return createAdmin(deps, input, { name: input.username, ip, via: 'setup link' });
    },
    createAdmin: (input: { username: string; password: string }, actor: AccountActor) =>
      createAdmin(deps, input, actor),
    resetPassword: (input: { username: string; password: string }, actor: AccountActor) =>
      resetAdminPassword(deps, input, actor),

    /**
     * Asks a signed-in admin for their password again before a step that hands out the keys to the
     * portal (downloading a backup: it holds the CA key). Audited either way, with what it was for.
     */
    async confirmPassword(
      admin: string,
      password: string,
      context: { subject: string; ip: string | undefined },
    ): Promise<Ok | Failed<'wrong-password'>> {
      const found = deps.admins.find(admin);
      const right = found !== undefined && password !== '' && (await verifyPassword(password, found.password_hash));
      deps.audited(deps.now(), (audit) =>
        audit({
          actor: admin,
          action: 'password-confirm',
          subject: context.subject,
          outcome: right ? 'success' : 'failure',
          detail: right ? null : 'wrong password',
          ip: context.ip ?? null,
        }),
      );
      return right ? ok() : failed('wrong-password');
    },

    /** Secret that signs session cookies, made on first use and kept in the database. */
    sessionSecret: () => deps.settings.getOrCreate('session_secret', () => randomBytes(32).toString('hex')),
    sessionStore: <Session extends object>(idleMs: number) =>
      sessionsRepository<Session>(deps.db, deps.now, idleMs).store,

    /** Start-up: creates the configured first admin, or prints a one-time setup link when there is none. */
    async ensureFirstAdmin(log: { info(message: string): void; warn(message: string): void }) {
      if (deps.admins.count() > 0) return;
      const initial = deps.config.initialAdmin;
      if (initial) {
        const created = await createAdmin(deps, initial, { name: 'system', via: 'ADMIN_USERNAME' });
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
