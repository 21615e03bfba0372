// Mailed bundles on their way, for the issue form's result page: the POST answers once the
// certificate is recorded, and the page it redirects to waits here for the mail server's answer.
// Each entry settles to undefined (the mail went: show the page) or the address of the page to
// show instead (the failed mail's), kept for ten minutes so that a reload finds it too. In memory.

const TTL_MS = 10 * 60_000;

export class Deliveries {
  #entries = new Map<number, { settled: Promise<string | undefined>; expires: number }>();

  constructor(private readonly now: () => Date) {}

  /**
   * Holds `delivery` for the result page of certificate `id`. A rejection (the database failing
   * after the mail) reaches that page's request as its error, and no one else's.
   */
  track(id: number, delivery: Promise<string | undefined>): void {
    this.#sweep();
    const settled = delivery.then((elsewhere) => {
      if (elsewhere === undefined) this.#entries.delete(id); // nothing left to wait for
      return elsewhere;
    });
    settled.catch(() => undefined); // no page asked yet: not an unhandled rejection
    this.#entries.set(id, { settled, expires: this.now().getTime() + TTL_MS });
  }

  /** What the result page of certificate `id` becomes: undefined to show it, or where to go instead. */
  async settled(id: number): Promise<string | undefined> {
    return this.#entries.get(id)?.settled;
  }

  #sweep() {
    const now = this.now().getTime();
    for (const [id, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(id);
  }
}
