// The minting process's work (mint-host.ts): enrollment bundles are minted on worker threads, one
// per core but one (on two cores: one), and one thread refills the key pool. The event loop must get
// the CPU whenever it has work, so every one of these threads runs under SCHED_IDLE on Linux
// (idle-priority.ts), and at nice +19 where that is not available. Key generation never runs in
// libuv's pool, where four threads at normal priority would compete with the event loop.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Ca } from '../pki/ca.js';
import type { PooledKeys } from '../pki/mint.js';
import type { MintedBundle, MintRequest } from '../pki/mint.js';
import { KeyPool } from './key-pool.js';
import type { MintWorkerData } from './mint-worker.js';

export interface ThreadMinter {
  /** Starts the threads and the key pool's filling now, rather than at the first mint. */
  start(): void;
  mint(request: MintRequest): Promise<MintedBundle>;
  /** The pool of ready keys, once made (at start or the first mint): its size and counters. */
  readonly keyPool?: Pick<KeyPool, 'available' | 'stats'> | undefined;
  /** Bundles minted and thrown away since start() to warm the minting code up (mint-worker.ts). */
  readonly warmUpMints: number;
}

// Under tsx (development, tests) the worker is the .ts file; in dist/ it is the compiled .js.
const workerFile = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './mint-worker.ts' : './mint-worker.js', import.meta.url),
);

/** Keys of the default size kept ready; other sizes are generated per issue. */
const POOLED_KEY_BITS = 2048;
const KEY_POOL_SIZE = 8;
const NICE_INCREMENT = 19;
/**
 * start() warms the minting threads up with this many tasks of WARM_UP_ROUNDS throw-away mints, one
 * task at a time, so that a person's mint arriving meanwhile waits for one task: 30-80 ms, except the
 * first, which also makes the practice key and CA (up to half a second on a busy machine). Piscina
 * gives each task to the first idle thread: with several minting threads (more than two cores) the
 * one that takes a lone mint is the one warmed up.
 */
const WARM_UP_TASKS = 5;
const WARM_UP_ROUNDS = 4;

export interface ThreadMinterOptions {
  threads?: number;
  keyPoolSize?: number;
  onError?: (error: unknown) => void;
}

export function createThreadMinter(ca: Pick<Ca, 'certPem' | 'key'>, options: ThreadMinterOptions = {}): ThreadMinter {
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
  // Nothing runs until start() or the first mint.
  let minting: Piscina<MintRequest, MintedBundle> | undefined;
  let keyMaking: Piscina<number, PooledKeys> | undefined;
  let keys: KeyPool | undefined;
  const mintingThreads = () => (minting ??= threadPool(threads));
  let warmUpMints = 0;
  let warming = false;
  const warmUp = async (pool: Piscina) => {
    warming = true;
    try {
      for (let task = 0; task < WARM_UP_TASKS; task++) {
        await pool.run(WARM_UP_ROUNDS, { name: 'warmUp' });
        warmUpMints += WARM_UP_ROUNDS;
      }
    } catch (error) {
      // Only slower first mints; nothing else depends on it.
      options.onError?.(new Error(`warm-up: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  const keyPool = () =>
    (keys ??= new KeyPool(
      options.keyPoolSize ?? KEY_POOL_SIZE,
      () => (keyMaking ??= threadPool(1)).run(POOLED_KEY_BITS, { name: 'generateKeys' }),
      options.onError && {
        onError: (error: unknown) =>
          options.onError?.(new Error(`key pool: ${error instanceof Error ? error.message : String(error)}`)),
      },
    ));
  return {
    get keyPool() {
      return keys;
    },
    get warmUpMints() {
      return warmUpMints;
    },
    start() {
      keyPool();
      if (!warming) void warmUp(mintingThreads());
    },
    async mint(request) {
      // The pool's refill waits until this mint is done (key-pool.ts says why).
      const pool = keyPool();
      const release = pool.hold();
      try {
        const pooled = request.keyBits === POOLED_KEY_BITS ? pool.take() : undefined;
        return await mintingThreads().run({ ...request, keys: pooled });
      } finally {
        release();
      }
    },
  };
}
