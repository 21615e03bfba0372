// Pre-generated RSA key pairs, so an issue does not wait for key generation (most of its time).
// Held in memory only: never written anywhere, each handed out once, refilled in the background
// one key at a time by the generator it is given (the minter's lowest-priority thread).
//
// A mint holds the pool while it runs (hold()): no new key is started meanwhile while keys are
// left, and filling resumes when the last hold ends. Refilling from the take that starts a mint put
// the two threads on the one core the event loop leaves free on two cores, so the 13 ms of
// signing and bundling took 20-40 ms as the person waited for it. An empty pool is refilled
// whatever the holds: mints that overlap without a pause (a burst, or one stuck) would otherwise
// keep it empty for as long as they last.
import type { PooledKeys } from '../pki/mint.js';

export interface KeyPoolOptions {
  onError?: (error: unknown) => void;
  /** Filling starts after this delay (or at the first take or release), so a starting process is not slowed. */
  startDelayMs?: number;
  /** After a failed generation, the next attempt waits this long instead of spinning. */
  retryDelayMs?: number;
}

export class KeyPool {
  /** Keys made, keys handed out, and takes that found the pool empty (read by tests and benchmarks). */
  readonly stats = { generated: 0, taken: 0, missed: 0 };
  #ready: PooledKeys[] = [];
  #generating = false;
  #closed = false;
  #holds = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly size: number,
    private readonly generate: () => Promise<PooledKeys>,
    private readonly options: KeyPoolOptions = {},
  ) {
    this.#later(options.startDelayMs ?? 0);
  }

  get available(): number {
    return this.#ready.length;
  }

  /** A fresh key pair when one is ready; undefined when the pool is empty (the caller makes one). */
  take(): PooledKeys | undefined {
    const keys = this.#ready.shift();
    if (keys) this.stats.taken++;
    else this.stats.missed++;
    this.#refill();
    return keys;
  }

  /**
   * Starts no new key, while any is left, until the returned release is called (once; later calls
   * do nothing).
   */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#refill();
    };
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#closed = true;
    this.#ready = [];
  }

  #later(ms: number) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#refill(), ms);
    this.#timer.unref();
  }

  #refill() {
    if (this.#closed || this.#generating || this.#ready.length >= this.size) return;
    if (this.#holds > 0 && this.#ready.length > 0) return;
    this.#generating = true;
    clearTimeout(this.#timer);
    this.generate().then(
      (keys) => {
        this.#generating = false;
        if (this.#closed) return;
        this.stats.generated++;
        this.#ready.push(keys);
        this.#refill();
      },
      (error: unknown) => {
        this.#generating = false;
        if (this.#closed) return; // closing cancels the key in the making: not a failure
        this.options.onError?.(error);
        this.#later(this.options.retryDelayMs ?? 5_000);
      },
    );
  }
}
