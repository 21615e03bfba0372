// Worker-thread entry: the minter's threads run these, off the event loop and only on CPU time the
// event loop does not want. The CA arrives once per thread, as its certificate and a KeyObject in
// the pool's workerData (cloned between threads by node:crypto, never exported as PEM), and is
// not sent with each task.
import type { KeyObject } from 'node:crypto';
import { workerData } from 'piscina';
import { loadCa, type Ca } from '../pki/ca.js';
import { generateRsaKeyPairSync, type KeyPairPem } from '../pki/keys.js';
import { mintClientBundle, type MintRequest, type MintedBundle } from '../pki/mint.js';
import { runOnlyWhenIdle } from './idle-priority.js';

runOnlyWhenIdle();

/** What a minting thread is started with (piscina's workerData). */
export interface MintWorkerData {
  caCertPem: string;
  caKey: KeyObject;
}

let ca: Ca | undefined;

export default async function mint(request: MintRequest): Promise<MintedBundle> {
  const data = workerData as MintWorkerData;
  ca ??= loadCa(data.caCertPem, data.caKey, undefined, request.now);
  // Without a pooled key, generate it here: CPU work stays on this thread, not in libuv's pool.
  const keys = request.keys ?? generateRsaKeyPairSync(request.keyBits);
  return mintClientBundle(ca, { ...request, keys });
}

/** A key pair for the key pool, generated on this (low-priority) thread. */
export function generateKeys(bits: number): KeyPairPem {
  return generateRsaKeyPairSync(bits);
}
