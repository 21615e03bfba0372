// The one-time link that creates the first admin when none exists and none is configured.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export class SetupToken {
  #token: string | undefined;

  /** Makes a new token (replacing any earlier one) and returns it. */
  issue(): string {
    this.#token = randomBytes(24).toString('base64url');
    return this.#token;
  }

  matches(candidate: string): boolean {
    if (this.#token === undefined) return false;
    const expected = Buffer.from(this.#token);
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The token dies once it has created an admin. */
  revoke(): void {
    this.#token = undefined;
  }
}
