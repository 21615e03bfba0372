// Mints enrollment bundles on worker threads, so pages stay responsive: one minting thread per core
// but one (on two cores: one), and one thread that refills the key pool. The event loop must get
// the CPU whenever it has work, so every one of these threads runs under SCHED_IDLE on Linux
// (idle-priority.ts), and at nice +19 where that is not available. Key generation never runs in
// libuv's pool, where four threads at normal priority would compete with the event loop.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Ca } from '../pki/ca.js';
import type { KeyPairPem } from '../pki/keys.js';
import type { MintedBundle, MintRequest } from '../pki/mint.js';
import { KeyPool } from './key-pool.js';
import type { MintWorkerData } from './mint-worker.js';

export interface Minter {
  /** Warms up: threads and keys are made a moment later, so they do not slow the start itself. */
  start(): void;
  mint(request: MintRequest): Promise<MintedBundle>;
  close(): Promise<void>;
  /** The pool of ready keys, once made (at start or the first mint): its size and counters. */
  readonly keyPool?: Pick<KeyPool, 'available' | 'stats'> | undefined;
}

// Under tsx (development, tests) the worker is the .ts file; in dist/ it is the compiled .js.
const workerFile = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './mint-worker.ts' : './mint-worker.js', import.meta.url),
);

/** Keys of the default size kept ready; other sizes are generated per issue. */
const POOLED_KEY_BITS = 2048;
const KEY_POOL_SIZE = 8;
const WARM_UP_DELAY_MS = 1_500;
const NICE_INCREMENT = 19;
/** How long close() waits for the threads to end. */
const CLOSE_WAIT_MS = 1_000;

export function createMinter(
  ca: Ca,
  options: { threads?: number; keyPoolSize?: number; onError?: (error: unknown) => void } = {},
): Minter {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const workerData: MintWorkerData = { caCertPem: ca.certPem, caKey: ca.key };
  const threadPool = (count: number) =>
    new Piscina({
      filename: workerFile,
      minThreads: count,
      maxThreads: count,
      idleTimeout: 60_000,
      niceIncrement: NICE_INCREMENT,
      workerData,
    });
  // Nothing runs until start() or the first mint: building the portal starts no thread or timer.
  let minting: Piscina<MintRequest, MintedBundle> | undefined;
  let keyMaking: Piscina<number, KeyPairPem> | undefined;
  let keys: KeyPool | undefined;
  let warmUp: NodeJS.Timeout | undefined;
  const mintingThreads = () => (minting ??= threadPool(threads));
  const keyPool = (startDelayMs: number) =>
    (keys ??= new KeyPool(
      options.keyPoolSize ?? KEY_POOL_SIZE,
      () => (keyMaking ??= threadPool(1)).run(POOLED_KEY_BITS, { name: 'generateKeys' }),
      { startDelayMs, ...(options.onError && { onError: options.onError }) },
    ));
  return {
    get keyPool() {
      return keys;
    },
    start() {
      keyPool(WARM_UP_DELAY_MS);
      warmUp ??= setTimeout(mintingThreads, WARM_UP_DELAY_MS);
      warmUp.unref();
    },
    async mint(request) {
      // The pool's refill waits until this mint is done (key-pool.ts says why).
      const pool = keyPool(0);
      const release = pool.hold();
      try {
        const pooled = request.keyBits === POOLED_KEY_BITS ? pool.take() : undefined;
        return await mintingThreads().run({ ...request, keys: pooled });
      } finally {
        release();
      }
    },
    async close() {
      clearTimeout(warmUp);
      keys?.close();
      // Nothing on these threads is worth waiting for at a stop (a key made for the pool is thrown
      // away), and at idle priority on a busy machine a thread inside OpenSSL's key generation took
      // 7-8 s to end: with the rest of a stop, past its 10 s grace. So a second at most; the process
      // ends whatever is left when it exits.
      await Promise.race([
        Promise.all([minting?.destroy(), keyMaking?.destroy()]),
        sleep(CLOSE_WAIT_MS, undefined, { ref: false }),
      ]);
    },
  };
}
