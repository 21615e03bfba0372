// Pre-generated RSA key pairs, so an issue does not wait for key generation (most of its time).
// Held in memory only: never written anywhere, each handed out once, refilled in the background
// one key at a time (node:crypto generates it in libuv's thread pool, off the event loop), so the
// refill never crowds out the requests being served.
import { generateRsaKeyPair, type KeyPairPem } from '../pki/keys.js';

export class KeyPool {
  #ready: KeyPairPem[] = [];
  #generating = false;
  #closed = false;
  #startTimer: NodeJS.Timeout | undefined;

  /** Filling starts after `delayMs` (or at the first take), so a starting process is not slowed. */
  constructor(
    readonly bits: number,
    readonly size: number,
    private readonly onError: (error: unknown) => void = () => {},
    delayMs = 0,
  ) {
    if (delayMs > 0) {
      this.#startTimer = setTimeout(() => this.#refill(), delayMs);
      this.#startTimer.unref();
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
    clearTimeout(this.#startTimer);
    this.#closed = true;
    this.#ready = [];
  }

  #refill() {
    if (!this.#closed && !this.#generating && this.#ready.length < this.size) {
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
}
