// Bundles made at a pickup, held in memory only (never on disk) for the person's downloads: the
// phone leaves Safari for Settings and OwnTracks and comes back, and the page must still offer the
// files. Each is found by a random id that the web layer puts in a signed, HttpOnly cookie; it
// goes after PICKUP_HOLD_MS or when the person taps Done. A redemption in progress is kept too, so
// that a second tap waits for the first one's bundle instead of making another.
import { randomBytes } from 'node:crypto';
import type { Ok } from '../outcome.js';

export interface HeldBundle {
  id: string;
  invitationId: number;
  certificateId: number;
  username: string;
  device: string | null;
  pkcs12: Uint8Array;
  passphrase: string;
  expires: number;
  /** The bundle left at least once (the certificate is then `picked_up`). */
  downloaded: boolean;
  /** Why it is over, for a hold put back after its settling failed (Done tapped, say). */
  settleWhy?: string;
}

export class PickupHolds<Outcome extends Ok<{ holdId: string }> | { ok: false }> {
  #held = new Map<string, HeldBundle>();
  #byInvitation = new Map<number, string>();
  #minting = new Map<number, Promise<Outcome>>();

  constructor(
    private readonly now: () => Date,
    private readonly holdMs: number,
    /**
     * Whether a hold's bundle may still be handed out (its certificate not revoked since, its link not
     * cancelled since): one that may not is emptied at its next `get`, and the next `takeFinished` or
     * `takeRefused` takes it as refused.
     */
    private readonly mayHandOut: (held: HeldBundle) => boolean = () => true,
  ) {}

  put(bundle: Omit<HeldBundle, 'id' | 'expires' | 'downloaded'>): HeldBundle {
    const held: HeldBundle = {
      ...bundle,
      id: randomBytes(18).toString('base64url'),
      expires: this.now().getTime() + this.holdMs,
      downloaded: false,
    };
    this.#held.set(held.id, held);
    this.#byInvitation.set(held.invitationId, held.id);
    return held;
  }

  /** A live hold; undefined for an unknown, finished or expired id, or one that may no longer be handed out. */
  get(id: string): HeldBundle | undefined {
    const held = this.#held.get(id);
    if (!held || held.expires <= this.now().getTime()) return undefined;
    if (this.mayHandOut(held)) return held;
    this.#retire(held); // `takeFinished` hands it to the sweep, which revokes what never left
    return undefined;
  }

  forInvitation(invitationId: number): HeldBundle | undefined {
    const id = this.#byInvitation.get(invitationId);
    return id === undefined ? undefined : this.get(id);
  }

  drop(id: string): HeldBundle | undefined {
    const held = this.#held.get(id);
    if (!held) return undefined;
    this.#held.delete(id);
    if (this.#byInvitation.get(held.invitationId) === id) this.#byInvitation.delete(held.invitationId);
    held.pkcs12 = new Uint8Array(0); // let the bytes go even if a caller still holds the record
    return held;
  }

  /**
   * A taken hold that could not be settled: back, emptied and over, with why, for the next
   * `takeFinished` (its invitation's entry only if no newer hold has it).
   */
  putBack(held: HeldBundle, why: string): void {
    if (this.#held.has(held.id)) return;
    this.#retire(held);
    held.settleWhy = why;
    this.#held.set(held.id, held);
    if (!this.#byInvitation.has(held.invitationId)) this.#byInvitation.set(held.invitationId, held.id);
  }

  /** Empties a hold and marks it over: nothing of it can be handed out, and a sweep takes it. */
  #retire(held: HeldBundle): void {
    held.pkcs12 = new Uint8Array(0);
    held.passphrase = '';
    held.expires = 0;
  }

  /**
   * Removes and returns the holds that are over: past their time, or no longer to be handed out
   * (`refused`: the certificate revoked or the link cancelled since).
   */
  takeFinished(): Array<{ held: HeldBundle; refused: boolean }> {
    return this.#take(true);
  }

  /** Removes and returns only the holds no longer to be handed out (a change just cancelled links). */
  takeRefused(): HeldBundle[] {
    return this.#take(false).map(({ held }) => held);
  }

  #take(expiredToo: boolean): Array<{ held: HeldBundle; refused: boolean }> {
    const now = this.now().getTime();
    const taken: Array<{ held: HeldBundle; refused: boolean }> = [];
    for (const held of this.#held.values()) {
      const refused = !this.mayHandOut(held);
      if (refused || (expiredToo && held.expires <= now)) taken.push({ held, refused });
    }
    for (const { held } of taken) this.drop(held.id);
    return taken;
  }

  minting(invitationId: number): Promise<Outcome> | undefined {
    return this.#minting.get(invitationId);
  }

  track(invitationId: number, work: Promise<Outcome>): Promise<Outcome> {
    this.#minting.set(invitationId, work);
    // Only its own entry: a link resent and redeemed again may have a newer redemption minting.
    void work
      .finally(() => this.#minting.get(invitationId) === work && this.#minting.delete(invitationId))
      .catch(() => undefined);
    return work;
  }

  get size(): number {
    return this.#held.size;
  }
}
