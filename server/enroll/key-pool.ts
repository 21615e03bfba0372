// Pre-generated RSA key pairs, so an issue does not wait for key generation (most of its time).
// Held in memory only: never written anywhere, each handed out once, refilled in the background
// one key at a time (node:crypto generates it in libuv's thread pool, off the event loop), so the
// refill never crowds out the requests being served.
import { generateRsaKeyPair, type KeyPairPem } from '../pki/keys.js';

/** How long a busy pool waits before it looks again. */
const BUSY_RETRY_MS = 100;

export class KeyPool {
  #ready: KeyPairPem[] = [];
  #generating = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  /**
   * Filling starts after `delayMs` (or at the first take), so a starting process is not slowed,
   * and waits while `busy()` says the machine has better things to do (bundles being minted).
   */
  constructor(
    readonly bits: number,
    readonly size: number,
    private readonly onError: (error: unknown) => void = () => {},
    delayMs = 0,
    private readonly busy: () => boolean = () => false,
  ) {
    if (delayMs > 0) {
      this.#timer = setTimeout(() => this.#refill(), delayMs);
      this.#timer.unref();
    } else {
      this.#refill();
    }
  }

  get available(): number {
    return this.#ready.length;
  }

  /** A fresh key pair: from the pool when one is ready, else generated now. */
  async take(): Promise<KeyPairPem> {
    const keys = this.#ready.shift();
    this.#refill();
    return keys ?? generateRsaKeyPair(this.bits);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#closed = true;
    this.#ready = [];
  }

  #refill() {
    if (this.#closed || this.#generating || this.#ready.length >= this.size) return;
    if (this.busy()) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#refill(), BUSY_RETRY_MS);
      this.#timer.unref();
      return;
    }
    this.#generating = true;
    generateRsaKeyPair(this.bits)
      .then((keys) => {
        if (!this.#closed) this.#ready.push(keys);
      })
      .catch(this.onError)
      .finally(() => {
        this.#generating = false;
        this.#refill();
      });
  }
}
