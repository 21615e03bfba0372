// Admin accounts: creation, password changes, and sign-in with a per-account back-off.
import { z } from 'zod';
import type { AdminsRepository } from '../db/admins.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password.js';

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

export async function createAdmin(admins: AdminsRepository, username: string, password: string, now: Date) {
  const name = adminUsernameSchema.parse(username);
  const hash = await hashPassword(adminPasswordSchema.parse(password));
  if (admins.find(name)) throw new AdminError(`Admin ${name} already exists`);
  admins.create(name, hash, now);
  return name;
}

export async function resetAdminPassword(admins: AdminsRepository, username: string, password: string) {
  const hash = await hashPassword(adminPasswordSchema.parse(password));
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

export async function signIn(
  admins: AdminsRepository,
  username: string,
  password: string,
  now: Date,
): Promise<SignInResult> {
  const admin = admins.find(username);
  if (!admin) {
    await verifyPassword(password, await dummyPasswordHash());
    return { ok: false, reason: 'invalid' };
  }
  if (admin.last_failed_at) {
    const waitUntil = Date.parse(admin.last_failed_at) + backoffSeconds(admin.failed_logins) * 1000;
    if (now.getTime() < waitUntil) {
      return { ok: false, reason: 'backoff', retryAfterSeconds: Math.ceil((waitUntil - now.getTime()) / 1000) };
    }
  }
  if (!(await verifyPassword(password, admin.password_hash))) {
    admins.recordFailure(admin.username, now);
    return { ok: false, reason: 'invalid' };
  }
  admins.recordSuccess(admin.username, now);
  return { ok: true, username: admin.username };
}
