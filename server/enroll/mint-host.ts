// The minting process: minter.ts forks it, sends it the CA once, then mint requests; it mints on
// its threads (mint-threads.ts) and answers each request by its id. Background failures of its key
// pool go back to the portal, which logs them.
//
// It runs as a process of its own so that the portal can always stop at once: Node's exit joins
// every worker thread, and the threads, at the lowest priority, need CPU time to end that a busy
// machine does not give them (an idle one held a stopping portal for 12-20 s under load; one inside
// OpenSSL's key generation, longer). A process is killed without waiting for anything.
import { createPrivateKey } from 'node:crypto';
import { createThreadMinter, type ThreadMinter } from './mint-threads.js';
import type { HostMessage, PortalMessage } from './minter.js';

let minter: ThreadMinter | undefined;

const send = (message: HostMessage) => process.send?.(message);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

process.on('message', (message: PortalMessage) => {
  switch (message.type) {
    case 'init':
      minter ??= createThreadMinter(
        {
          certPem: message.caCertPem,
          key: createPrivateKey({ key: Buffer.from(message.caKeyDer), format: 'der', type: 'pkcs8' }),
        },
        { ...message.options, onError: (error) => send({ type: 'error', message: describe(error) }) },
      );
      return;
    case 'start':
      minter?.start();
      return;
    case 'mint': {
      const { id } = message;
      if (!minter) {
        send({ type: 'failed', id, message: 'the minting process has no CA yet' });
        return;
      }
      minter.mint(message.request).then(
        (bundle) => send({ type: 'minted', id, bundle }),
        (error: unknown) => send({ type: 'failed', id, message: describe(error) }),
      );
      return;
    }
    case 'stats': {
      const pool = minter?.keyPool;
      send({
        type: 'stats',
        id: message.id,
        stats: pool ? { available: pool.available, ...pool.stats } : undefined,
        warmUpMints: minter?.warmUpMints ?? 0,
      });
      return;
    }
  }
});

// The portal ends this process by closing the channel, at its stop or by its own end (killed
// without a chance to stop): nothing here is worth keeping, and an exit would wait on the threads,
// so a kill ends them at once. While the test suite collects coverage (NODE_V8_COVERAGE), a clean
// exit instead, which writes it.
process.on('disconnect', () => {
  if (process.env.NODE_V8_COVERAGE) process.exit(0);
  process.kill(process.pid, 'SIGKILL');
});
// Signals to the whole process group (Ctrl-C or Ctrl-\ in a terminal, a service manager's stop) are the
// portal's to handle: mints under way finish while it stops, and its close ends this process.
for (const signal of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
