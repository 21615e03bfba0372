// Mints enrollment bundles in a pool of worker threads, so pages stay responsive: one thread per
// core but one, which is left to the event loop (on two cores: one minting thread).
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Ca } from '../pki/ca.js';
import type { MintedBundle, MintRequest } from '../pki/mint.js';
import { KeyPool } from './key-pool.js';
import type { MintTask } from './mint-worker.js';

export interface Minter {
  mint(request: MintRequest): Promise<MintedBundle>;
  close(): Promise<void>;
}

// Under tsx (development, tests) the worker is the .ts file; in dist/ it is the compiled .js.
const workerFile = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './mint-worker.ts' : './mint-worker.js', import.meta.url));

/** Keys of the default size kept ready; other sizes are generated per issue. */
export const POOLED_KEY_BITS = 2048;
export const KEY_POOL_SIZE = 8;
const WARM_UP_DELAY_MS = 1_500;

export function createMinter(ca: Ca, options: { threads?: number; keyPoolSize?: number; onError?: (error: unknown) => void } = {}): Minter {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  // Threads and keys are made a moment after start, so they do not slow the start itself.
  let pool: Piscina<MintTask, MintedBundle> | undefined;
  const threadPool = () => (pool ??= new Piscina<MintTask, MintedBundle>({ filename: workerFile, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 }));
  const keys = new KeyPool(POOLED_KEY_BITS, options.keyPoolSize ?? KEY_POOL_SIZE, options.onError, WARM_UP_DELAY_MS);
  const warmUp = setTimeout(threadPool, WARM_UP_DELAY_MS);
  warmUp.unref();
  return {
    async mint(request) {
      const pooled = request.keyBits === POOLED_KEY_BITS ? await keys.take() : undefined;
      return threadPool().run({ caCertPem: ca.certPem, caKey: ca.key, request: { ...request, keys: pooled } });
    },
    async close() {
      clearTimeout(warmUp);
      keys.close();
      await pool?.destroy();
    },
  };
}
