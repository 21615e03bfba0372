// Pre-generated RSA key pairs, so an issue does not wait for key generation (most of its time).
// Held in memory only: never written anywhere, each handed out once, refilled in the background
// (node:crypto generates them in libuv's thread pool, off the event loop).
import { generateRsaKeyPair, type KeyPairPem } from '../pki/keys.js';

export class KeyPool {
  #ready: KeyPairPem[] = [];
  #filling = 0;
  #closed = false;

  constructor(
    readonly bits: number,
    readonly size: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.#refill();
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
    this.#closed = true;
    this.#ready = [];
  }

  #refill() {
    while (!this.#closed && this.#ready.length + this.#filling < this.size) {
      this.#filling++;
      generateRsaKeyPair(this.bits)
        .then((keys) => {
          if (!this.#closed) this.#ready.push(keys);
        })
        .catch(this.onError)
        .finally(() => {
          this.#filling--;
          if (!this.#closed && this.#ready.length + this.#filling < this.size) this.#refill();
        });
    }
  }
}
