// Bundles the admin may download from the passphrase screen of a mailed issue, for handing over in
// person: in memory only, for 15 minutes, found by a random ticket that only that screen shows.
import { randomBytes } from 'node:crypto';

export const ADMIN_DOWNLOAD_MS = 15 * 60_000;

export interface HeldAdminBundle {
  certificateId: number;
  pkcs12: Uint8Array;
}

export class HeldBundles {
  #entries = new Map<string, HeldAdminBundle & { expires: number }>();

  constructor(private readonly now: () => Date) {}

  put(bundle: HeldAdminBundle): string {
    this.#sweep();
    const ticket = randomBytes(18).toString('base64url');
    this.#entries.set(ticket, { ...bundle, expires: this.now().getTime() + ADMIN_DOWNLOAD_MS });
    return ticket;
  }

  /**
   * The bundle for this certificate, as often as asked until it expires, while the certificate is
   * active: one revoked meanwhile is let go at once (its key is of no use, and must not be handed over).
   */
  get(ticket: string, certificate: { id: number; status: string }): HeldAdminBundle | undefined {
    this.#sweep();
    const entry = this.#entries.get(ticket);
    if (!entry || entry.certificateId !== certificate.id) return undefined;
    if (certificate.status === 'active') return entry;
    this.#entries.delete(ticket);
    return undefined;
  }

  /** Lets the bundle go now (its mail failed, and the certificate is revoked). */
  drop(ticket: string): void {
    this.#entries.delete(ticket);
  }

  #sweep() {
    const now = this.now().getTime();
    for (const [ticket, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(ticket);
  }
}

/** A just-made pickup invitation's secrets, for the admin's one look at the code. */
export interface PickupTicket {
  invitationId: number;
  code: string;
  url: string;
  expiresAt: Date;
}
