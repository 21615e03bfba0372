// Worker-thread entry: the minter's threads run these, off the event loop and only on CPU time the
// event loop does not want. The CA arrives once per thread, as its certificate and a KeyObject in
// the pool's workerData (cloned between threads by node:crypto, never exported as PEM), and is
// not sent with each task.
import type { KeyObject } from 'node:crypto';
import { workerData } from 'piscina';
import { caForKeys, loadCa, type Ca } from '../pki/ca.js';
import { generateRsaKeyPairSync } from '../pki/keys.js';
import { mintClientBundle, type MintRequest, type MintedBundle, type PooledKeys } from '../pki/mint.js';
import { shroudKey } from '../pki/pkcs12.js';
import { generatePassphrase } from '../pki/passphrase.js';
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

/**
 * A key pair for the key pool, generated on this (low-priority) thread, with its key shrouded ahead
 * under a generated passphrase: a compatible bundle with a generated passphrase then skips most of
 * its encryption (pki/pkcs12.ts).
 */
export function generateKeys(bits: number): PooledKeys {
  const keys = generateRsaKeyPairSync(bits);
  return { ...keys, shrouded: shroudKey(keys.privateKeyPem, generatePassphrase()) };
}

/** A CA and a key made on this thread for warming up only, never the portal's: see warmUp. */
let practice: { ca: Ca; keys: PooledKeys } | undefined;

/**
 * Mints `rounds` bundles that are thrown away, so that the first people's bundles do not pay for
 * starting the thread and compiling the minting code: measured through the minting process, the
 * first mint after a start took 86 ms and 17 ms after the warm-up, and mints 400 ms apart 11-24 ms
 * on a cold thread and 7-16 ms on a warm one. They are signed by a CA made here for the purpose (one key, its own
 * subject's too), never by the portal's: nothing the portal's CA signs goes unrecorded.
 */
export async function warmUp(rounds: number): Promise<void> {
  if (!practice) {
    const keys = generateKeys(2048); // as the pool makes them: shrouded ahead too
    const now = new Date();
    const made = caForKeys('OwnTracks Enroll warm-up (not a CA of this portal)', now, keys);
    practice = { ca: loadCa(made.certPem, made.keyPem, undefined, now), keys };
  }
  // Both ways a bundle is made: with the pooled key's own passphrase, and with a typed one.
  for (let i = 0; i < rounds; i++)
    await mintClientBundle(practice.ca, {
      username: 'warm-up',
      device: 'phone',
      days: 1,
      keyBits: 2048,
      format: 'compatible',
      passphrase: i % 2 === 1 ? generatePassphrase() : undefined,
      now: new Date(),
      keys: practice.keys,
    });
}
