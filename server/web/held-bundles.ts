// Bundles the admin may download from the passphrase screen of a mailed issue, for handing over in
// person: in memory only, for 15 minutes (then each one's own timer forgets it), found by a random
// ticket that only that screen shows.
import { randomBytes } from 'node:crypto';
import { later, type Later } from './one-time-secrets.js';

export const ADMIN_DOWNLOAD_MS = 15 * 60_000;

export interface HeldAdminBundle {
  certificateId: number;
  pkcs12: Uint8Array;
}

export class HeldBundles {
  #entries = new Map<string, HeldAdminBundle & { expires: number }>();

  constructor(
    private readonly now: () => Date,
    private readonly forgetLater: Later = later,
  ) {}

  put(bundle: HeldAdminBundle): string {
    const ticket = randomBytes(18).toString('base64url');
    const expires = this.now().getTime() + ADMIN_DOWNLOAD_MS;
    this.#entries.set(ticket, { ...bundle, expires });
    this.forgetLater(() => {
      if (this.#entries.get(ticket)?.expires === expires) this.#entries.delete(ticket);
    }, ADMIN_DOWNLOAD_MS);
    return ticket;
  }

  /**
   * The bundle for this certificate, as often as asked until it expires, while the certificate is
   * active: one revoked meanwhile is let go at once (its key is of no use, and must not be handed over).
   */
  get(ticket: string, certificate: { id: number; status: string }): HeldAdminBundle | undefined {
    const entry = this.#entries.get(ticket);
    if (!entry || entry.expires <= this.now().getTime() || entry.certificateId !== certificate.id) return undefined;
    if (certificate.status === 'active') return entry;
    this.#entries.delete(ticket);
    return undefined;
  }

  /** Lets the bundle go now (its mail failed, and the certificate is revoked). */
  drop(ticket: string): void {
    this.#entries.delete(ticket);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** A just-made pickup invitation's secrets, for the admin's one look at the code. */
export interface PickupTicket {
  invitationId: number;
  code: string;
  url: string;
  expiresAt: Date;
}
