// Admin accounts: creation (setup link, ADMIN_USERNAME, CLI), password changes, disabling and
// deleting, ending sessions, and sign-in with a per-account back-off that is counted before the slow
// password check, one check per name at a time, through a gate that bounds the checks running at
// once. State changes and their audit rows share one transaction.
import { z } from 'zod';
import type { AdminsRepository } from '../db/admins.js';
import type { AuditedTransaction } from '../db/audit.js';
import type { SessionsRepository } from '../db/sessions.js';
import { failed, fieldIssues, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import { dummyPasswordHash, hashPassword, verifyPassword, type PasswordCost } from './password.js';
import type { HashGate, RejectionAuditThrottle, Shed } from './sign-in-limits.js';
import { wordsFor } from '../words/index.js';

/** The back-off count of an admin's known browsers: a name no one can type (it holds a NUL). */
const knownDeviceCount = (username: string) => `${username}\u0000known device`;
/** The count of wrong passwords given when a signed-in admin is asked for theirs again. */
const confirmCount = (username: string) => `${username}\u0000password check`;
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

const words = wordsFor().rules;

export const adminUsernameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, words.adminUsername);
export const adminPasswordSchema = z.string().min(12, words.passwordShort).max(1024, words.passwordLong);

export interface AccountDeps {
  admins: AdminsRepository;
  sessions: SessionsRepository;
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

/** A new password for an admin; every session of that admin ends with it. */
export async function resetAdminPassword(
  deps: AccountDeps,
  input: { username: string; password: string },
  actor: AccountActor,
): Promise<Ok<{ sessionsEnded: number }> | Invalid | Failed<'unknown'>> {
  const parsed = adminPasswordSchema.safeParse(input.password);
  if (!parsed.success) return failed('invalid', { issues: { password: parsed.error.issues[0]!.message } });
  const hash = await hashPassword(parsed.data, deps.passwordCost);
  return deps.audited(deps.now(), (audit) => {
    const admin = deps.admins.find(input.username);
    if (!admin || !deps.admins.setPasswordHash(admin.username, hash)) return failed('unknown');
    deps.admins.clearFailures(knownDeviceCount(admin.username)); // setPasswordHash clears the other count
    deps.admins.clearFailures(confirmCount(admin.username));
    const sessionsEnded = deps.sessions.endFor(admin.username);
    audit({
      actor: actor.name,
      action: 'password-reset',
      subject: admin.username,
      outcome: 'success',
      detail: `${sessionsEnded} session(s) ended`,
      ip: actor.ip ?? null,
    });
    return ok({ sessionsEnded });
  });
}

export type AdminChange = Ok<{ username: string; sessionsEnded: number }> | Failed<'unknown' | 'last-admin'>;

/** A disabled admin cannot sign in, and their sessions end; the last enabled admin cannot be disabled. */
export function disableAdmin(deps: AccountDeps, username: string, actor: AccountActor): AdminChange {
  return deps.audited(deps.now(), (audit) => {
    const admin = deps.admins.find(username);
    if (!admin) return failed('unknown');
    if (!admin.disabled_at && deps.admins.countEnabled() <= 1) return failed('last-admin');
    if (!admin.disabled_at) deps.admins.setDisabled(admin.username, deps.now());
    const sessionsEnded = deps.sessions.endFor(admin.username);
    audit({
      actor: actor.name,
      action: 'admin-disabled',
      subject: admin.username,
      outcome: 'success',
      detail: `${admin.disabled_at ? 'already disabled; ' : ''}${sessionsEnded} session(s) ended`,
      ip: actor.ip ?? null,
    });
    return ok({ username: admin.username, sessionsEnded });
  });
}

export function enableAdmin(
  deps: AccountDeps,
  username: string,
  actor: AccountActor,
): Ok<{ username: string }> | Failed<'unknown'> {
  return deps.audited(deps.now(), (audit) => {
    const admin = deps.admins.find(username);
    if (!admin) return failed('unknown');
    deps.admins.setDisabled(admin.username, null);
    audit({
      actor: actor.name,
      action: 'admin-enabled',
      subject: admin.username,
      outcome: 'success',
      detail: admin.disabled_at ? null : 'was not disabled',
      ip: actor.ip ?? null,
    });
    return ok({ username: admin.username });
  });
}

/** Removes an admin and their sessions; the last enabled admin stays. Their audit rows stay too. */
export function deleteAdmin(deps: AccountDeps, username: string, actor: AccountActor): AdminChange {
  return deps.audited(deps.now(), (audit) => {
    const admin = deps.admins.find(username);
    if (!admin) return failed('unknown');
    if (!admin.disabled_at && deps.admins.countEnabled() <= 1) return failed('last-admin');
    deps.admins.remove(admin.username);
    deps.admins.clearFailures(admin.username);
    deps.admins.clearFailures(knownDeviceCount(admin.username));
    deps.admins.clearFailures(confirmCount(admin.username));
    const sessionsEnded = deps.sessions.endFor(admin.username);
    audit({
      actor: actor.name,
      action: 'admin-deleted',
      subject: admin.username,
      outcome: 'success',
      detail: `${sessionsEnded} session(s) ended`,
      ip: actor.ip ?? null,
    });
    return ok({ username: admin.username, sessionsEnded });
  });
}

/** Ends the sessions of one admin, or of every admin when no name is given. */
export function endSessions(
  deps: AccountDeps,
  username: string | undefined,
  actor: AccountActor,
): Ok<{ sessionsEnded: number }> | Failed<'unknown'> {
  return deps.audited(deps.now(), (audit) => {
    const admin = username === undefined ? undefined : deps.admins.find(username);
    if (username !== undefined && !admin) return failed('unknown');
    const sessionsEnded = admin ? deps.sessions.endFor(admin.username) : deps.sessions.endAll();
    audit({
      actor: actor.name,
      action: 'sessions-ended',
      subject: admin?.username ?? null,
      outcome: 'success',
      detail: `${sessionsEnded} session(s) ended${admin ? '' : ' (every admin)'}`,
      ip: actor.ip ?? null,
    });
    return ok({ sessionsEnded });
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
  | Failed<'backoff', { retryAfterSeconds: number }>
  | Failed<'checking', { retryAfterSeconds: number }>
  | Shed;

/** Seconds left to wait after `failures` consecutive failures, the last at `lastFailedAt`. */
function secondsToWait(failures: number, lastFailedAt: string, now: Date): number {
  const waitUntil = Date.parse(lastFailedAt) + backoffSeconds(failures) * 1000;
  return Math.max(0, Math.ceil((waitUntil - now.getTime()) / 1000));
}

export interface SignInDeps extends AccountDeps {
  gate: HashGate;
  rejections: RejectionAuditThrottle;
  /** Names (lower case) whose password is being checked right now. */
  checking: Set<string>;
}

/**
 * Checks a password. Before the slow check, in one synchronous step (nothing else runs in between)
 * and one transaction: refuse when a check for this name is already running or its back-off holds,
 * take a place at the gate, and count the attempt as a failure; a success clears the count again.
 * So concurrent attempts cannot outrun the back-off, and a crash mid-check leaves the failure on
 * record. Names that are not admins go through the same steps, storage and timing.
 */
/** How the audit log names a sign-in attempt with a name that is no admin. */
const UNKNOWN_NAME = '(unknown name)';

export async function signIn(
  deps: SignInDeps,
  input: { username: string; password: string },
  client: { ip: string | undefined; knownDevice: boolean },
): Promise<SignInResult> {
  const { username, password } = input;
  const key = username.toLowerCase();
  const ip = client.ip ?? null;
  // A name that is no admin is not kept: it may be a password typed into the wrong field.
  const entry = (outcome: 'success' | 'failure', detail: string | null) =>
    ({
      actor: deps.admins.find(username) ? username : UNKNOWN_NAME,
      action: 'sign-in',
      outcome,
      detail,
      ip,
    }) as const;
  const refused = <R extends SignInResult & { ok: false }>(result: R): R => {
    const now = deps.now();
    const note = deps.rejections.note(key, now);
    if (note) {
      const more = note.unaudited ? `; ${note.unaudited} more rejected unaudited since the last row` : '';
      deps.audited(now, (audit) => audit(entry('failure', `${result.reason}${more}`)));
    }
    return result;
  };

  if (deps.checking.has(key)) return refused(failed('checking', { retryAfterSeconds: 1 }));
  // A browser the admin signed in with before (its known-device cookie) backs off on a count of its
  // own: a stranger guessing at the name, one try whenever the back-off allows, must not keep the
  // admin out; wrong passwords typed in that browser still back off there. No typed name reaches
  // that count: names with control characters are refused here (and by the sign-in form).
  if (CONTROL_CHARACTERS.test(username)) return failed('invalid');
  const failuresOf = client.knownDevice ? knownDeviceCount(username) : username;
  const record = deps.admins.failures(failuresOf);
  const wait = record ? secondsToWait(record.failures, record.lastFailedAt, deps.now()) : 0;
  if (wait > 0) return refused(failed('backoff', { retryAfterSeconds: wait }));
  const begun = beginCheck(deps, key, failuresOf, { address: ip ?? '', knownDevice: client.knownDevice });
  if (!begun.ok) return begun;
  const end = await begun.ready;
  try {
    const admin = deps.admins.find(username);
    const matches = await verifyPassword(
      password,
      admin?.password_hash ?? (await dummyPasswordHash(deps.passwordCost)),
    );
    if (!admin || !matches || admin.disabled_at) {
      const detail = admin?.disabled_at && matches ? 'disabled' : 'invalid';
      return deps.audited(deps.now(), (audit) => {
        audit(entry('failure', detail));
        return failed('invalid');
      });
    }
    return deps.audited(deps.now(), (audit) => {
      // Read again: an owner may have disabled, deleted or reset this admin while the password was
      // checked (which ended their sessions); a session made now would outlive that.
      const current = deps.admins.find(username);
      if (!current || current.disabled_at || current.password_hash !== admin.password_hash) {
        audit(entry('failure', 'changed while the password was checked'));
        return failed('invalid');
      }
      deps.admins.clearFailures(failuresOf);
      deps.admins.clearFailures(confirmCount(admin.username)); // a new sign-in, a new count at the backup form
      deps.admins.recordLogin(admin.username, deps.now());
      audit(entry('success', null));
      return ok({ username: admin.username });
    });
  } finally {
    end();
  }
}

/**
 * Takes a place at the gate of slow hashes and marks `key` as being checked (one check at a time),
 * and counts the attempt under `countKey` as a failure before it runs (a crash leaves it on record;
 * a success clears it): all in one synchronous step. `ready` resolves, once a slot is free, to the
 * function that ends the check.
 */
function beginCheck(
  deps: SignInDeps,
  key: string,
  countKey: string,
  ticket: { address: string; knownDevice: boolean },
): Shed | { ok: true; ready: Promise<() => void> } {
  const place = deps.gate.admit(ticket);
  if (!place.ok) return place;
  deps.checking.add(key);
  try {
    deps.admins.recordFailure(countKey, deps.now());
  } catch (error) {
    deps.checking.delete(key);
    void place.slot.then((release) => release());
    throw error;
  }
  return {
    ok: true,
    ready: place.slot.then((release) => () => {
      release();
      deps.checking.delete(key);
    }),
  };
}

/**
 * Wrong passwords in a row, asked of a signed-in admin again (a backup download), after which that
 * admin's sessions end: a session in the wrong hands guesses this far and no further.
 */
const CONFIRM_FAILURES_END_SESSIONS = 5;
/** The longest a session lives (web/plugins/session.ts): wrong passwords further apart do not add up. */
const CONFIRM_COUNT_WINDOW_MS = 8 * 3600_000;

export type ConfirmResult =
  | Ok
  | Failed<'wrong-password'>
  | Failed<'checking', { retryAfterSeconds: number }>
  | Failed<'sessions-ended'>
  | Shed;

/**
 * Asks a signed-in admin for their password again, with sign-in's guards: one check at a time per
 * admin, a place at the gate of slow hashes, the attempt counted before the check (a crash leaves
 * it on record); and after CONFIRM_FAILURES_END_SESSIONS wrong ones in a row, their sessions end.
 * Audited either way, with what it was for.
 */
export async function confirmPassword(
  deps: SignInDeps,
  username: string,
  password: string,
  context: { subject: string; ip: string | undefined },
): Promise<ConfirmResult> {
  const key = confirmCount(username);
  if (deps.checking.has(key)) return failed('checking', { retryAfterSeconds: 1 });
  // Wrong passwords count within a session's lifetime: typos weeks apart never add up.
  const earlier = deps.admins.failures(key);
  if (earlier && deps.now().getTime() - Date.parse(earlier.lastFailedAt) > CONFIRM_COUNT_WINDOW_MS)
    deps.admins.clearFailures(key);
  const begun = beginCheck(deps, key, key, { address: context.ip ?? '', knownDevice: false });
  if (!begun.ok) return begun;
  const end = await begun.ready;
  try {
    const admin = deps.admins.find(username);
    const right = admin !== undefined && password !== '' && (await verifyPassword(password, admin.password_hash));
    return deps.audited(deps.now(), (audit) => {
      audit({
        actor: username,
        action: 'password-confirm',
        subject: context.subject,
        outcome: right ? 'success' : 'failure',
        detail: right ? null : 'wrong password',
        ip: context.ip ?? null,
      });
      if (right) {
        deps.admins.clearFailures(key);
        return ok();
      }
      if ((deps.admins.failures(key)?.failures ?? 0) < CONFIRM_FAILURES_END_SESSIONS) return failed('wrong-password');
      const sessionsEnded = deps.sessions.endFor(username);
      deps.admins.clearFailures(key);
      audit({
        actor: 'system',
        action: 'sessions-ended',
        subject: username,
        outcome: 'success',
        detail: `${sessionsEnded} session(s) ended after ${CONFIRM_FAILURES_END_SESSIONS} wrong passwords at a password check`,
        ip: context.ip ?? null,
      });
      return failed('sessions-ended');
    });
  } finally {
    end();
  }
}
