// Passphrases waiting to be shown once: in memory only (never in the database or the session),
// handed out by a random ticket, gone after the first read (take) or after ten minutes: then each
// entry's own timer forgets it, on a portal nobody visits too.
import { randomBytes } from 'node:crypto';

export const SECRET_TTL_MS = 10 * 60_000;

/**
 * Runs `forget` after `ms` without keeping the process alive. The callback must hold no secret
 * (only a ticket and a time), so that an entry taken early is not kept reachable by its timer.
 */
export type Later = (forget: () => void, ms: number) => void;
export const later: Later = (forget, ms) => void setTimeout(forget, ms).unref();

export class OneTimeSecrets<T> {
  #entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly now: () => Date,
    private readonly forgetLater: Later = later,
  ) {}

  put(value: T): string {
    const ticket = randomBytes(18).toString('base64url');
    const expires = this.now().getTime() + SECRET_TTL_MS;
    this.#entries.set(ticket, { value, expires });
    this.forgetLater(() => {
      if (this.#entries.get(ticket)?.expires === expires) this.#entries.delete(ticket);
    }, SECRET_TTL_MS);
    return ticket;
  }

  /** The value, once; undefined for an unknown, used or expired ticket. */
  take(ticket: string): T | undefined {
    const entry = this.#entries.get(ticket);
    this.#entries.delete(ticket);
    return entry && entry.expires > this.now().getTime() ? entry.value : undefined;
  }

  /** The value without using it up, until it expires (a result page that may be reloaded, its download). */
  peek(ticket: string): T | undefined {
    const entry = this.#entries.get(ticket);
    return entry && entry.expires > this.now().getTime() ? entry.value : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Passphrases of just-issued bundles, waiting for their result page. */
export type Passphrases = OneTimeSecrets<{ certificateId: number; passphrase: string }>;
