// Passphrases waiting to be shown once: in memory only (never in the database or the session),
// handed out by a random ticket, gone after the first read (take) or after ten minutes.
import { randomBytes } from 'node:crypto';

const TTL_MS = 10 * 60_000;

export class OneTimeSecrets<T> {
  #entries = new Map<string, { value: T; expires: number }>();

  constructor(private readonly now: () => Date) {}

  put(value: T): string {
    this.#sweep();
    const ticket = randomBytes(18).toString('base64url');
    this.#entries.set(ticket, { value, expires: this.now().getTime() + TTL_MS });
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

  #sweep() {
    const now = this.now().getTime();
    for (const [ticket, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(ticket);
  }
}

/** Passphrases of just-issued bundles, waiting for their result page. */
export type Passphrases = OneTimeSecrets<{ certificateId: number; passphrase: string }>;
