// Admin accounts: creation (setup link, ADMIN_USERNAME, CLI), password changes, and sign-in with a
// per-account back-off. State changes and their audit rows share one transaction.
import { z } from 'zod';
import type { AdminsRepository } from '../db/admins.js';
import type { AuditedTransaction } from '../db/audit.js';
import { failed, fieldIssues, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import { dummyPasswordHash, hashPassword, verifyPassword, type PasswordCost } from './password.js';

export const adminUsernameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'Use 1 to 64 letters, digits, dots, dashes, underscores or @');
export const adminPasswordSchema = z
  .string()
  .min(12, 'Use at least 12 characters')
  .max(1024, 'Use at most 1024 characters');

export interface AccountDeps {
  admins: AdminsRepository;
  audited: AuditedTransaction;
  now: () => Date;
  /** scrypt cost of new hashes (the default in production; tests make it cheap). */
  passwordCost: PasswordCost | undefined;
}

/** Who acted, for the audit log: a signed-in admin, `cli`, or `system`. */
export interface AccountActor {
  name: string;
  ip?: string | undefined;
  /** How the admin came to be, e.g. `setup link` or `ADMIN_USERNAME`. */
  via?: string;
}

export type AdminCreated = Ok<{ username: string }> | Invalid | Failed<'exists'>;

export async function createAdmin(
  deps: AccountDeps,
  input: { username: string; password: string },
  actor: AccountActor,
): Promise<AdminCreated> {
  const parsed = z.object({ username: adminUsernameSchema, password: adminPasswordSchema }).safeParse(input);
  if (!parsed.success) return failed('invalid', { issues: fieldIssues(parsed.error.issues) });
  const { username, password } = parsed.data;
  if (deps.admins.find(username)) return failed('exists');
  const hash = await hashPassword(password, deps.passwordCost);
  return deps.audited(deps.now(), (audit) => {
    if (deps.admins.find(username)) return failed('exists');
    deps.admins.create(username, hash, deps.now());
    audit({
      actor: actor.name,
      action: 'admin-created',
      subject: username,
      outcome: 'success',
      detail: actor.via ?? null,
      ip: actor.ip ?? null,
    });
    return ok({ username });
  });
}

export async function resetAdminPassword(
  deps: AccountDeps,
  input: { username: string; password: string },
  actor: AccountActor,
): Promise<Ok | Invalid | Failed<'unknown'>> {
  const parsed = adminPasswordSchema.safeParse(input.password);
  if (!parsed.success) return failed('invalid', { issues: { password: parsed.error.issues[0]!.message } });
  const hash = await hashPassword(parsed.data, deps.passwordCost);
  return deps.audited(deps.now(), (audit) => {
    if (!deps.admins.setPasswordHash(input.username, hash)) return failed('unknown');
    audit({ actor: actor.name, action: 'password-reset', subject: input.username, outcome: 'success' });
    return ok();
  });
}

/** Failures allowed before the back-off starts, and its ceiling: a real admin waits a minute at most. */
const BACKOFF_FREE_FAILURES = 5;
export const BACKOFF_MAX_SECONDS = 60;

export function backoffSeconds(failures: number): number {
  if (failures < BACKOFF_FREE_FAILURES) return 0;
  return Math.min(2 ** (failures - BACKOFF_FREE_FAILURES), BACKOFF_MAX_SECONDS);
}

export type SignInResult =
  | Ok<{ username: string }>
  | Failed<'invalid'>
  | Failed<'backoff', { retryAfterSeconds: number }>;

/** Seconds left to wait after `failures` consecutive failures, the last at `lastFailedAt`. */
function secondsToWait(failures: number, lastFailedAt: string | null, now: Date): number {
  if (!lastFailedAt) return 0;
  const waitUntil = Date.parse(lastFailedAt) + backoffSeconds(failures) * 1000;
  return Math.max(0, Math.ceil((waitUntil - now.getTime()) / 1000));
}

/**
 * Failures for names that are not admins, kept in memory (bounded), so that unknown names back
 * off exactly like real ones and a 429 does not tell which names exist.
 */
export class UnknownNameFailures {
  #entries = new Map<string, { failures: number; lastFailedAt: string }>();
  constructor(private readonly limit = 10_000) {}

  get(name: string) {
    return this.#entries.get(name.toLowerCase());
  }

  record(name: string, now: Date) {
    const key = name.toLowerCase();
    const failures = (this.#entries.get(key)?.failures ?? 0) + 1;
    this.#entries.delete(key);
    if (this.#entries.size >= this.limit) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { failures, lastFailedAt: now.toISOString() });
  }
}

/** Checks a password; the attempt, its back-off bookkeeping and its audit row are one transaction. */
export async function signIn(
  deps: AccountDeps & { unknownNames: UnknownNameFailures },
  input: { username: string; password: string },
  ip: string | undefined,
): Promise<SignInResult> {
  const { username, password } = input;
  const audited = (result: SignInResult, change?: () => void) =>
    deps.audited(deps.now(), (audit) => {
      change?.();
      audit({
        actor: username,
        action: 'sign-in',
        outcome: result.ok ? 'success' : 'failure',
        detail: result.ok ? null : result.reason,
        ip: ip ?? null,
      });
      return result;
    });
  const now = deps.now();
  const admin = deps.admins.find(username);
  const known = admin
    ? { failures: admin.failed_logins, lastFailedAt: admin.last_failed_at }
    : deps.unknownNames.get(username);
  const wait = known ? secondsToWait(known.failures, known.lastFailedAt, now) : 0;
  if (wait > 0) return audited(failed('backoff', { retryAfterSeconds: wait }));
  if (!admin) {
    await verifyPassword(password, await dummyPasswordHash(deps.passwordCost));
    return audited(failed('invalid'), () => deps.unknownNames.record(username, deps.now()));
  }
  if (!(await verifyPassword(password, admin.password_hash))) {
    return audited(failed('invalid'), () => deps.admins.recordFailure(admin.username, deps.now()));
  }
  return audited(ok({ username: admin.username }), () => deps.admins.recordSuccess(admin.username, deps.now()));
}
