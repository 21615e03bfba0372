// Mints enrollment bundles in a pool of worker threads, one per core, so pages stay responsive.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Ca } from '../pki/ca.js';
import type { MintedBundle, MintRequest } from '../pki/mint.js';
import type { MintTask } from './mint-worker.js';

export interface Minter {
  mint(request: MintRequest): Promise<MintedBundle>;
  close(): Promise<void>;
}

// Under tsx (development, tests) the worker is the .ts file; in dist/ it is the compiled .js.
const workerFile = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './mint-worker.ts' : './mint-worker.js', import.meta.url));

export function createMinter(ca: Ca, threads = availableParallelism()): Minter {
  const pool = new Piscina<MintTask, MintedBundle>({ filename: workerFile, minThreads: 1, maxThreads: threads, idleTimeout: 60_000 });
  return {
    mint: (request) => pool.run({ caCertPem: ca.certPem, caKey: ca.key, request }),
    close: () => pool.destroy(),
  };
}
