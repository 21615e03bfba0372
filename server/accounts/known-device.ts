// The "known device" cookie: set when an admin signs in, it lets that browser wait in the reserved
// line of the password-check gate during a flood. A signed value (HMAC-SHA256, key kept in the
// settings table), checked without a database write. It grants no access by itself.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const KNOWN_DEVICE_COOKIE = 'enroll_device';
export const KNOWN_DEVICE_MAX_AGE_SECONDS = 365 * 86400;

export class KnownDevices {
  #key: Buffer | undefined;
  constructor(
    private readonly secret: () => string,
    private readonly now: () => Date,
  ) {}

  #mac(payload: string): string {
    this.#key ??= Buffer.from(this.secret(), 'hex');
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  /** The cookie's value for a browser `username` just signed in with. */
  issue(username: string): string {
    const payload = `${Buffer.from(username.toLowerCase()).toString('base64url')}.${this.now().getTime()}`;
    return `${payload}.${this.#mac(payload)}`;
  }

  /** Whether `value` was issued by this portal, within its lifetime, to a browser that signed in as `username`. */
  matches(value: string | undefined, username: string): boolean {
    if (!value) return false;
    const [name, issuedAt, mac] = value.split('.');
    if (!name || !issuedAt || !mac) return false;
    const expected = Buffer.from(this.#mac(`${name}.${issuedAt}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const age = this.now().getTime() - Number(issuedAt);
    if (!(age >= 0 && age < KNOWN_DEVICE_MAX_AGE_SECONDS * 1000)) return false;
    return Buffer.from(name, 'base64url').toString() === username.toLowerCase();
  }
}
