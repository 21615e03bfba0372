// Worker-thread entry: the minter's threads run these, off the event loop and only on CPU time the
// event loop does not want. The CA arrives as its certificate and a KeyObject (transferable
// between threads); the loaded CA is kept per certificate.
import type { KeyObject } from 'node:crypto';
import { loadCa, type Ca } from '../pki/ca.js';
import { generateRsaKeyPairSync, type KeyPairPem } from '../pki/keys.js';
import { mintClientBundle, type MintRequest, type MintedBundle } from '../pki/mint.js';
import { runOnlyWhenIdle } from './idle-priority.js';

runOnlyWhenIdle();

export interface MintTask {
  caCertPem: string;
  caKey: KeyObject;
  request: MintRequest;
}

const loaded = new Map<string, Ca>();

export default async function mint(task: MintTask): Promise<MintedBundle> {
  let ca = loaded.get(task.caCertPem);
  if (!ca) {
    ca = loadCa(
      task.caCertPem,
      task.caKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      undefined,
      task.request.now,
    );
    loaded.set(task.caCertPem, ca);
  }
  // Without a pooled key, generate it here: CPU work stays on this thread, not in libuv's pool.
  const keys = task.request.keys ?? generateRsaKeyPairSync(task.request.keyBits);
  return mintClientBundle(ca, { ...task.request, keys });
}

/** A key pair for the key pool, generated on this (low-priority) thread. */
export function generateKeys(bits: number): KeyPairPem {
  return generateRsaKeyPairSync(bits);
}
