// Mints enrollment bundles away from the event loop, in a process of its own (mint-host.ts says why
// a process): the portal starts it, sends it the CA once, and then each request, answered by id
// over the IPC channel. The bundle comes back in memory; nothing is written anywhere. If that
// process dies, the mints it held fail (the use cases report them as for any failed mint) and the
// next mint starts a new one.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Ca } from '../pki/ca.js';
import type { MintedBundle, MintRequest } from '../pki/mint.js';
import type { ThreadMinterOptions } from './mint-threads.js';

export interface Minter {
  /** Warms up: the process, its threads and keys are made a moment later, so they do not slow the start itself. */
  start(): void;
  mint(request: MintRequest): Promise<MintedBundle>;
  close(): Promise<void>;
}

export interface KeyPoolStats {
  available: number;
  /** Keys made, keys handed out, and takes that found the pool empty. */
  generated: number;
  taken: number;
  missed: number;
}

/** The production minter, with what tests and benchmarks read of it. */
export interface ProcessMinter extends Minter {
  /** The minting process's pid while it runs. */
  readonly pid: number | undefined;
  /** The key pool's size and counters, once the pool exists (at start or the first mint). */
  keyPoolStats(): Promise<KeyPoolStats | undefined>;
  /** Bundles minted and thrown away since start() to warm the minting code up (mint-worker.ts). */
  warmUpMints(): Promise<number>;
}

/** What the portal sends the minting process. */
export type PortalMessage =
  | {
      type: 'init';
      caCertPem: string;
      caKeyDer: Uint8Array;
      options: Omit<ThreadMinterOptions, 'onError'>;
    }
  | { type: 'start' }
  | { type: 'mint'; id: number; request: MintRequest }
  | { type: 'stats'; id: number };

/** What the minting process answers. */
export type HostMessage =
  | { type: 'minted'; id: number; bundle: MintedBundle }
  | { type: 'failed'; id: number; message: string }
  | { type: 'stats'; id: number; stats: KeyPoolStats | undefined; warmUpMints: number }
  | { type: 'error'; message: string };

// Under tsx (development, tests) the process runs the .ts file; from dist/ the compiled .js.
const hostFile = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './mint-host.ts' : './mint-host.js', import.meta.url),
);
const WARM_UP_DELAY_MS = 1_500;
const CLOSE_WAIT_MS = 1_000;

export function createMinter(ca: Pick<Ca, 'certPem' | 'key'>, options: ThreadMinterOptions = {}): ProcessMinter {
  const { onError, ...hostOptions } = options;
  let host: ChildProcess | undefined;
  let closed = false;
  let nextId = 1;
  let warmUp: NodeJS.Timeout | undefined;
  /** start()'s delay has passed: a process started after that (one that died, replaced) warms up at once. */
  let warm = false;
  const waiting = new Map<number, { resolve: (message: HostMessage) => void; reject: (error: Error) => void }>();

  // An idle minting process does not keep the portal's process alive; one with work does.
  const holdOpen = (child: ChildProcess) => {
    if (waiting.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  };

  /** The process is gone, or never started: what it held fails, once, and the next mint starts another. */
  const ended = (child: ChildProcess, error: Error) => {
    if (host !== child) return;
    host = undefined;
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
    if (!closed) onError?.(error);
  };

  const started = (): ChildProcess => {
    if (closed) throw new Error('the minter is closed');
    if (host) return host;
    const child = fork(hostFile, [], {
      // tsx by its resolved file, so that a portal started elsewhere than the project finds it.
      execArgv: hostFile.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [],
      // Only PATH: the portal's settings and secrets (NODE_OPTIONS, SMTP_URL) are nothing of its
      // business. NODE_V8_COVERAGE when set: the test suite's coverage includes this process's code.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...(process.env.NODE_V8_COVERAGE && { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE }),
      },
      serialization: 'advanced', // the PKCS#12 bytes and the dates travel as they are
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    host = child;
    // A fork that fails (no such program, no process left) reports an error and never an exit.
    child.on('error', (error) => {
      ended(child, new Error(`the minting process failed: ${error.message}`));
      child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) =>
      ended(child, new Error(`the minting process ended (${signal ?? `exit code ${code}`})`)),
    );
    const caKeyDer = ca.key.export({ type: 'pkcs8', format: 'der' });
    child.send({ type: 'init', caCertPem: ca.certPem, caKeyDer, options: hostOptions } satisfies PortalMessage, () =>
      caKeyDer.fill(0),
    );
    if (warm) child.send({ type: 'start' } satisfies PortalMessage, () => undefined);
    child.on('message', (message: HostMessage) => {
      if (message.type === 'error') {
        onError?.(new Error(`the minting process: ${message.message}`));
        return;
      }
      const entry = waiting.get(message.id);
      waiting.delete(message.id);
      holdOpen(child);
      entry?.resolve(message);
    });
    holdOpen(child);
    return child;
  };

  const ask = (message: { type: 'mint'; request: MintRequest } | { type: 'stats' }): Promise<HostMessage> => {
    const child = started();
    const id = nextId++;
    return new Promise<HostMessage>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      holdOpen(child);
      // A send that fails (the process just ended) fails this request; the exit fails the rest.
      child.send({ ...message, id } satisfies PortalMessage, (error) => {
        if (!error || !waiting.delete(id)) return;
        holdOpen(child);
        reject(error);
      });
    });
  };

  return {
    get pid() {
      return host?.pid;
    },
    start() {
      warmUp ??= setTimeout(() => {
        if (closed) return;
        const child = host;
        warm = true;
        // A process already running gets its start now; a new one gets it with its CA (started).
        if (child) child.send({ type: 'start' } satisfies PortalMessage, () => undefined);
        else started();
      }, WARM_UP_DELAY_MS);
      warmUp.unref();
    },
    async mint(request) {
      const answer = await ask({ type: 'mint', request });
      if (answer.type === 'minted') return answer.bundle;
      throw new Error(answer.type === 'failed' ? answer.message : 'the minting process answered out of turn');
    },
    async keyPoolStats() {
      const answer = await ask({ type: 'stats' });
      return answer.type === 'stats' ? answer.stats : undefined;
    },
    async warmUpMints() {
      const answer = await ask({ type: 'stats' });
      return answer.type === 'stats' ? answer.warmUpMints : 0;
    },
    async close() {
      closed = true;
      clearTimeout(warmUp);
      const child = host;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      // Nothing in that process is worth waiting for: the mints it holds have no request left
      // (a stop lets requests finish first), and a key made for the pool is thrown away. It ends
      // itself when its channel closes (mint-host.ts); a kill if it has not within a second.
      const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
      child.ref(); // close() is waited for: its end must not depend on other work keeping the loop alive
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        exited,
        new Promise<boolean>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS, false))),
      ]);
      clearTimeout(timer);
      if (!ended) child.kill('SIGKILL');
    },
  };
}
