// Admin accounts: creation, password changes, and sign-in with a per-account back-off.
import { z } from 'zod';
import type { AdminsRepository } from '../db/admins.js';
import { dummyPasswordHash, hashPassword, verifyPassword, type PasswordCost } from './password.js';

export const adminUsernameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'Use 1 to 64 letters, digits, dots, dashes, underscores or @');
export const adminPasswordSchema = z
  .string()
  .min(12, 'Use at least 12 characters')
  .max(1024, 'Use at most 1024 characters');

export class AdminError extends Error {
  override name = 'AdminError';
}

export async function createAdmin(
  admins: AdminsRepository,
  username: string,
  password: string,
  now: Date,
  cost?: PasswordCost,
) {
  const name = adminUsernameSchema.parse(username);
  const hash = await hashPassword(adminPasswordSchema.parse(password), cost);
  if (admins.find(name)) throw new AdminError(`Admin ${name} already exists`);
  admins.create(name, hash, now);
  return name;
}

export async function resetAdminPassword(
  admins: AdminsRepository,
  username: string,
  password: string,
  cost?: PasswordCost,
) {
  const hash = await hashPassword(adminPasswordSchema.parse(password), cost);
  if (!admins.setPasswordHash(username, hash)) throw new AdminError(`No admin named ${username}`);
}

/** Failures allowed before the back-off starts, and its ceiling: a real admin waits a minute at most. */
export const BACKOFF_FREE_FAILURES = 5;
export const BACKOFF_MAX_SECONDS = 60;

export function backoffSeconds(failures: number): number {
  if (failures < BACKOFF_FREE_FAILURES) return 0;
  return Math.min(2 ** (failures - BACKOFF_FREE_FAILURES), BACKOFF_MAX_SECONDS);
}

export type SignInResult =
  | { ok: true; username: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'backoff'; retryAfterSeconds: number };

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

export async function signIn(
  admins: AdminsRepository,
  unknownNames: UnknownNameFailures,
  username: string,
  password: string,
  now: Date,
  cost?: PasswordCost,
): Promise<SignInResult> {
  const admin = admins.find(username);
  const known = admin
    ? { failures: admin.failed_logins, lastFailedAt: admin.last_failed_at }
    : unknownNames.get(username);
  const wait = known ? secondsToWait(known.failures, known.lastFailedAt, now) : 0;
  if (wait > 0) return { ok: false, reason: 'backoff', retryAfterSeconds: wait };
  if (!admin) {
    await verifyPassword(password, await dummyPasswordHash(cost));
    unknownNames.record(username, now);
    return { ok: false, reason: 'invalid' };
  }
  if (!(await verifyPassword(password, admin.password_hash))) {
    admins.recordFailure(admin.username, now);
    return { ok: false, reason: 'invalid' };
  }
  admins.recordSuccess(admin.username, now);
  return { ok: true, username: admin.username };
}
