// The rules of pickup links: how tokens and codes are made and checked, how long an invitation
// lives, and what state a person or admin sees. Pure functions over an injected clock's time, so
// that the unit tests can move time.
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { wordsFor } from '../words/index.js';

/** 128 random bits, base64url: 22 characters in the link. */
const TOKEN_BYTES = 16;
/** A pickup code is this many digits: a phone's number pad, read out or written on paper. */
const CODE_DIGITS = 6;
/** Wrong codes an invitation survives; the next one cancels it (counted per invitation, not per address). */
export const MAX_WRONG_CODES = 5;
/**
 * Times a redeemed link opens again without a download (Done first, the hold running out, a stop):
 * the next time it is cancelled. Each round mints a key and revokes a certificate, so the link and
 * its code alone must not repeat it without end; a resend (the admin) starts the count again.
 */
export const MAX_REOPENINGS = 3;
/** How long a redeemed bundle stays in memory for the person's download (and reloads across app switches). */
export const PICKUP_HOLD_MS = 30 * 60_000;

export const tokenSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
export const codeSchema = z
  .string()
  .transform((value) => value.replace(/[\s-]/g, ''))
  .pipe(z.string().regex(new RegExp(`^\\d{${CODE_DIGITS}}$`), wordsFor().rules.pickupCode(CODE_DIGITS)));

export type InvitationKind = 'mail' | 'qr';

export const newToken = (): string => randomBytes(TOKEN_BYTES).toString('base64url');

/** A code with a uniform distribution over every 6-digit string, leading zeros included. */
export const newCode = (): string => String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');

/** What the database keeps of a token: its SHA-256 (the token has 128 bits, so no salt is needed). */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** What the database keeps of a code: an HMAC keyed by the token, which the database does not hold. */
export const codeHmac = (token: string, code: string): string => createHmac('sha256', token).update(code).digest('hex');

export function codeMatches(token: string, code: string, storedHmac: string): boolean {
  const given = Buffer.from(codeHmac(token, code), 'hex');
  const stored = Buffer.from(storedHmac, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** When an invitation made at `createdAt` stops working: a mailed link lasts hours, a QR on screen minutes. */
export function invitationExpiry(
  kind: InvitationKind,
  createdAt: Date,
  ttl: { ttlHours: number; qrTtlMinutes: number },
): Date {
  const lifetimeMs = kind === 'qr' ? ttl.qrTtlMinutes * 60_000 : ttl.ttlHours * 3600_000;
  return new Date(createdAt.getTime() + lifetimeMs);
}

/**
 * What an admin sees: invited (open), redeemed, picked up, connected (its device published since the
 * certificate was delivered; only where a broker link records presence), expired (derived from
 * expires_at), cancelled.
 */
export type InvitationStatus = 'invited' | 'redeemed' | 'picked-up' | 'connected' | 'expired' | 'cancelled';

export function invitationStatus(
  row: { state: string; expires_at: string; certificate_delivery?: string | null | undefined },
  now: Date,
  /** Whether the picked-up certificate's device has published since (known only with a broker link). */
  connected = false,
): InvitationStatus {
  if (row.state === 'cancelled') return 'cancelled';
  if (row.state === 'expired') return 'expired';
  if (row.state === 'redeemed')
    return row.certificate_delivery === 'picked_up' ? (connected ? 'connected' : 'picked-up') : 'redeemed';
  return new Date(row.expires_at).getTime() <= now.getTime() ? 'expired' : 'invited';
}

/** Whether a person may still redeem: open and not past its expiry. */
export const redeemable = (row: { state: string; expires_at: string }, now: Date): boolean =>
  row.state === 'open' && new Date(row.expires_at).getTime() > now.getTime();

/** Validity of the certificate made at redemption: what was asked, never past the CA's end. */
export const clampedDays = (asked: number, caDaysLeft: number): number => Math.min(asked, caDaysLeft);
