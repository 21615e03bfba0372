// What keeps sign-in cheap to refuse and hard to flood (issue 14): a gate that bounds the scrypt
// checks running at once (128 MiB and a few hundred milliseconds each at the production cost) and
// sheds load beyond a short queue, fairly; and a throttle on the audit rows of refused attempts.
import { failed, type Failed } from '../outcome.js';

export interface HashLimits {
  /** Password checks running at once (each holds a libuv thread and, in production, 128 MiB). */
  concurrency: number;
  /** Attempts waiting for a check; one per client address. Beyond it: 503 and Retry-After. */
  queue: number;
  /** Checks that only browsers that signed in before (a valid known-device cookie) may run, beyond `concurrency`. */
  knownDeviceSlots: number;
  /** Places in line reserved for those browsers, served first. */
  knownDeviceQueue: number;
}

export const DEFAULT_HASH_LIMITS: HashLimits = { concurrency: 2, queue: 8, knownDeviceSlots: 1, knownDeviceQueue: 2 };

/** Seconds a shed attempt is told to wait. */
const SHED_RETRY_SECONDS = 2;

export type Shed = Failed<'overloaded', { retryAfterSeconds: number; scope: 'address' | 'server' }>;

interface Waiter {
  address: string;
  start: () => void;
}

/**
 * A counting semaphore with a reserved slot and two waiting lines: browsers known to have signed in
 * before may use a slot strangers cannot and go first in line (a flood of strangers cannot push the
 * real admin out); everyone else waits in a short line that holds one attempt per address (a flood
 * from one place takes one place in it).
 */
export class HashGate {
  #active = 0;
  #peak = 0;
  readonly #known: Waiter[] = [];
  readonly #others: Waiter[] = [];

  constructor(private readonly limits: HashLimits = DEFAULT_HASH_LIMITS) {}

  /** The most checks that ran at once since the gate was made (tests read it). */
  get peak(): number {
    return this.#peak;
  }

  /**
   * Decides at once: a place (a promise of a slot, resolved when a check may run, and to be
   * released when it ends) or the reason there is none.
   */
  admit(ticket: { address: string; knownDevice: boolean }): { ok: true; slot: Promise<() => void> } | Shed {
    const limit = this.limits.concurrency + (ticket.knownDevice ? this.limits.knownDeviceSlots : 0);
    const ahead = ticket.knownDevice ? this.#known.length : this.#known.length + this.#others.length;
    if (this.#active < limit && ahead === 0) return { ok: true, slot: Promise.resolve(this.#take()) };
    const line = ticket.knownDevice ? this.#known : this.#others;
    if (!ticket.knownDevice && line.some((waiter) => waiter.address === ticket.address))
      return failed('overloaded', { retryAfterSeconds: SHED_RETRY_SECONDS, scope: 'address' });
    if (line.length >= (ticket.knownDevice ? this.limits.knownDeviceQueue : this.limits.queue))
      return failed('overloaded', { retryAfterSeconds: SHED_RETRY_SECONDS, scope: 'server' });
    return {
      ok: true,
      slot: new Promise((resolve) => line.push({ address: ticket.address, start: () => resolve(this.#take()) })),
    };
  }

  #take(): () => void {
    this.#active++;
    this.#peak = Math.max(this.#peak, this.#active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      if (this.#known.length > 0 && this.#active < this.limits.concurrency + this.limits.knownDeviceSlots)
        this.#known.shift()!.start();
      else if (this.#others.length > 0 && this.#active < this.limits.concurrency) this.#others.shift()!.start();
    };
  }
}

/** Refused attempts of one name are audited once per window; later ones are counted into the next row. */
const REJECTION_AUDIT_WINDOW_MS = 60_000;

/**
 * Which refusals (back-off, a check already running) get an audit row: the first per name and
 * minute. The ones left out are not lost from sight: the next row for that name says how many.
 * Memory only, bounded; a restart at worst audits one more row per name.
 */
export class RejectionAuditThrottle {
  readonly #names = new Map<string, { windowStart: number; unaudited: number }>();
  constructor(private readonly limit = 10_000) {}

  /** undefined: leave this refusal out of the log; otherwise the refusals left out since the last row. */
  note(name: string, now: Date): { unaudited: number } | undefined {
    const key = name.toLowerCase();
    const entry = this.#names.get(key);
    if (entry && now.getTime() - entry.windowStart < REJECTION_AUDIT_WINDOW_MS) {
      entry.unaudited++;
      return undefined;
    }
    this.#names.delete(key);
    if (this.#names.size >= this.limit) this.#names.delete(this.#names.keys().next().value!);
    this.#names.set(key, { windowStart: now.getTime(), unaudited: 0 });
    return { unaudited: entry?.unaudited ?? 0 };
  }
}
