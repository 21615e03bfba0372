// Who is connected, as pages show it: "never connected", "connected", or "last seen 3 hours ago",
// derived from the times the presence recorder keeps per person and device (broker/presence.ts).
// A certificate counts as connected once its device published after the certificate was delivered
// (DESIGN.md): never while its bundle certainly has not reached the person (db/certificates.ts's
// UNDELIVERED), and otherwise from its issue, or, for a replacement, from the end of the certificate
// it replaces if that came later: until then that one's phone is what publishes on the topic (a
// Replace in the outbox keeps it active until the new bundle is marked forwarded). The topic names
// the device, not the certificate, so once the new bundle is out, a phone still on the replaced
// certificate (not yet expired) counts for the new one.
import type { PresenceKey, PresenceTimes } from '../db/presence.js';
import { UNDELIVERED, type Delivery } from '../db/certificates.js';

/** A device with a message this recent, and no last will since, shows as connected. */
export const CONNECTED_WITHIN_MS = 60 * 60_000;

export type Presence =
  /** Recording is off (no broker link): nothing is known. */
  | { state: 'unknown' }
  | { state: 'never' }
  | { state: 'connected'; at: string }
  | { state: 'seen'; at: string }
  /** An ended certificate whose device has only been heard since its end (by its successor). */
  | { state: 'not-since-ended' };

/** What enroll/ reads: the stored times merged with those the recorder still holds in memory. */
export interface PresenceReads {
  /** Whether the portal records presence (a broker link is configured). */
  recording: boolean;
  times(key: PresenceKey): PresenceTimes | undefined;
  /** When a certificate ended (revoked, or its expiry, which may lie ahead): the one a replacement replaces. */
  endOf(certificateId: number): string | undefined;
}

const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** Merges two sets of times, the later of each. */
export function mergeTimes(a: PresenceTimes | undefined, b: PresenceTimes | undefined): PresenceTimes | undefined {
  if (!a || !b) return a ?? b;
  return { lastMessageAt: later(a.lastMessageAt, b.lastMessageAt), lastWillAt: later(a.lastWillAt, b.lastWillAt) };
}

/**
 * A certificate's presence. `deliveredAt`: when it was handed over (its issue time: the mail goes out
 * as it is issued). A last will counts as a sign of life too (the app was connected until the broker
 * lost it), but a device whose last word is its last will is "last seen", not connected.
 */
export function presenceOf(times: PresenceTimes | undefined, deliveredAt: string, now: Date): Presence {
  const latest = times ? later(times.lastMessageAt, times.lastWillAt) : null;
  if (!times || latest === null || latest < deliveredAt) return { state: 'never' };
  const message = times.lastMessageAt;
  const willSince = times.lastWillAt !== null && message !== null && times.lastWillAt >= message;
  if (message !== null && !willSince && now.getTime() - new Date(message).getTime() < CONNECTED_WITHIN_MS)
    return { state: 'connected', at: message };
  return { state: 'seen', at: latest };
}

/**
 * The presence of a certificate row (its user, device, issue time, and its end: revoked or expired).
 * After its end the device's topic speaks for another certificate (a replacement), so an ended
 * certificate is never "connected": at most last seen at its end.
 */
export function certificatePresence(
  reads: PresenceReads,
  row: {
    user_id: number;
    device: string | null;
    issued_at: string;
    revoked_at: string | null;
    not_after: string;
    delivery: Delivery;
    /** The certificate this one replaces, if any. */
    replaces?: number | null;
  },
  now: Date,
): Presence {
  if (!reads.recording) return { state: 'unknown' };
  // Not delivered (being picked up, or failed): whoever publishes on its device's topic (the phone
  // it replaces, say) is not this certificate's phone.
  if (UNDELIVERED.includes(row.delivery)) return { state: 'never' };
  // A replacement counts from the end of the one it replaces, when later than its issue: until then
  // the phone on the topic is that one's. An end still ahead: nothing yet counts.
  const predecessorEnd = row.replaces != null ? reads.endOf(row.replaces) : undefined;
  const since = later(row.issued_at, predecessorEnd ?? null)!;
  if (since > now.toISOString()) return { state: 'never' };
  const times = reads.times({ userId: row.user_id, device: row.device ?? '' });
  const presence = presenceOf(times, since, now);
  const end = row.revoked_at !== null && row.revoked_at < row.not_after ? row.revoked_at : row.not_after;
  if (presence.state === 'never' || end > now.toISOString()) return presence;
  // Only the times before its end speak for it; later ones are another certificate's. Only the
  // latest of each kind is kept, so a device heard since may hide when this one was last seen.
  const before = [times?.lastMessageAt, times?.lastWillAt].filter(
    (at): at is string => typeof at === 'string' && at >= since && at <= end,
  );
  if (before.length === 0) return { state: 'not-since-ended' };
  return { state: 'seen', at: before.reduce((a, b) => (a > b ? a : b)) };
}

/**
 * Where a certificate picked up through a pickup link stands: "picked up", then "connected" once its
 * device published after the certificate was delivered (seen since counts: it did connect). Without
 * a broker link presence is unknown and it stays "picked up"; other certificates have no stage.
 */
export function pickupStage(row: { delivery: string }, presence: Presence): 'picked-up' | 'connected' | undefined {
  if (row.delivery !== 'picked_up') return undefined;
  return presence.state === 'connected' || presence.state === 'seen' ? 'connected' : 'picked-up';
}
