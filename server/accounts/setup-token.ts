// The one-time link that creates the first admin when none exists and none is configured.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export class SetupToken {
  #token: string | undefined;

  /** The token while it is unused. */
  get current(): string | undefined {
    return this.#token;
  }

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

/**
 * The setup link as a person sees it in a terminal: a few plain lines set apart from the log,
 * printed once the portal listens, so request lines do not push it out of sight.
 */
export function setupBanner(url: string): string {
  const rule = '-'.repeat(Math.min(Math.max(url.length + 4, 40), 100));
  return [
    '',
    rule,
    'No admin exists yet. Open this link to create the first one (it works once):',
    '',
    `  ${url}`,
    '',
    rule,
    '',
  ].join('\n');
}
