// A minter for the unit tier: the portal's own mintClientBundle, in this thread, with one key pair
// per key size made once per process. No worker threads (their start runs `chrt`, a child process)
// and no key generation per issue; the real minter is tested in enroll/minter.int.test.ts.
import type { Minter } from '../enroll/minter.js';
import type { Ca } from '../pki/ca.js';
import { mintClientBundle } from '../pki/mint.js';
import { sharedKeyPair } from './pki.js';

export function inProcessMinter(ca: Ca): Minter & { minted: number } {
  const minter = {
    minted: 0,
    async mint(request: Parameters<Minter['mint']>[0]) {
      const bundle = await mintClientBundle(ca, {
        ...request,
        keys: request.keys ?? (await sharedKeyPair(request.keyBits)),
      });
      minter.minted++;
      return bundle;
    },
    start() {},
    async close() {},
  };
  return minter;
}
