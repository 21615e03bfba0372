// Whether people's phones need the portal's CA to trust the broker. Mosquitto's `certfile` (what
// the phones check) and `cafile` (what it checks the phones' certificates against) are separate:
// the server certificate may come from the portal's CA (the `server-cert` command) or from a public
// CA such as Let's Encrypt. In the second case the phones trust the broker already, and installing
// a private root is a detour: on iOS a profile and "full trust" (about 13 taps), on Android about 8,
// and people learn to trust roots that are sent to them.
//
// So the portal connects to the address the phones use as a phone would (the name sent and checked)
// and checks the chain against Node's bundled roots (Mozilla's program, which Apple's and Google's
// stores largely follow). Only a verified chain drops the CA step from the guides. Anything else
// keeps it: an address the portal cannot reach (a NAT without hairpin), or a broker that offers only
// TLS 1.2. The check asks for TLS 1.3 because a broker that requires a client certificate refuses a
// connection without one: in TLS 1.3 the client has checked the chain and finished its side of the
// handshake by then; in TLS 1.2 the refusal comes first.
import { isIP } from 'node:net';
import tls from 'node:tls';

export interface TrustTarget {
  host: string;
  port: number;
}

export type TrustVerdict =
  /** The chain and the name verify against the public roots: no CA step. */
  | { verdict: 'public'; issuer: string }
  /** The broker answered, but not with a certificate the public roots vouch for (the portal's CA, say). */
  | { verdict: 'private'; reason: string }
  /** No TLS 1.3 handshake with the address: unreachable, refused, TLS 1.2 only, or too slow. */
  | { verdict: 'unknown'; reason: string };

export type ServerTrust = TrustVerdict & {
  /** The address checked, `host:port`. */
  address: string;
  checkedAt: Date;
};

const CHECK_TIMEOUT_MS = 5_000;

/**
 * One TLS context per set of roots, made at its first check: reading Mozilla's ~150 roots into a
 * context held the event loop 5-15 ms, once a minute while the address gives no answer.
 */
const contexts = new WeakMap<readonly string[], tls.SecureContext>();
function contextFor(roots: readonly string[]): tls.SecureContext {
  let context = contexts.get(roots);
  if (!context) contexts.set(roots, (context = tls.createSecureContext({ ca: [...roots], minVersion: 'TLSv1.3' })));
  return context;
}

/**
 * One TLS 1.3 handshake with `target`, no client certificate. `roots` replaces the public roots
 * (tests pass a root of their own).
 */
export function checkServerTrust(
  target: TrustTarget,
  options: { roots?: readonly string[]; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<TrustVerdict> {
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  return new Promise((resolve) => {
    let settled = false;
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      ...(isIP(target.host) === 0 && { servername: target.host }),
      secureContext: contextFor(options.roots ?? tls.rootCertificates), // TLS 1.3 only, see the top
      // Read below: an unverified chain is an answer here, not a reason to stop.
      rejectUnauthorized: false,
    });
    const finish = (verdict: TrustVerdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      socket.destroy();
      resolve(verdict);
    };
    const abort = () => finish({ verdict: 'unknown', reason: 'check stopped' });
    const timer = setTimeout(
      () => finish({ verdict: 'unknown', reason: `no TLS answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    timer.unref();
    if (options.signal?.aborted) return abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    socket.once('secureConnect', () => {
      if (socket.authorized) {
        const issuer = socket.getPeerCertificate().issuer as Partial<Record<string, string>> | undefined;
        finish({ verdict: 'public', issuer: issuer?.O ?? issuer?.CN ?? 'a public CA' });
      } else {
        const error = socket.authorizationError as unknown;
        finish({ verdict: 'private', reason: error instanceof Error ? error.message : String(error) });
      }
    });
    socket.once('error', (error: Error & { code?: string }) =>
      finish({ verdict: 'unknown', reason: error.code ?? error.message }),
    );
    socket.once('close', () => finish({ verdict: 'unknown', reason: 'connection closed' }));
  });
}

/**
 * The last verdict for the phones' broker address: checked at start, then every `everyMs` (ten
 * minutes: the owner may swap the broker's certificate at the same address), a minute after a check
 * with no answer (a broker started after the portal), and whenever `refresh()` is called (the
 * address changed, the portal issued a server certificate). A verdict for another address is none.
 */
export class ServerTrustMonitor {
  #last: ServerTrust | undefined;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Set while started: aborted by stop(), which ends a check in flight and the schedule. */
  #started: AbortController | undefined;

  constructor(
    private readonly options: {
      /** Where the phones connect; no host: nothing to check. */
      address: () => { host: string | undefined; port: number };
      now: () => Date;
      check?: typeof checkServerTrust;
      everyMs?: number;
      retryMs?: number;
      onError?: (error: unknown) => void;
    },
  ) {}

  /** The verdict for the address the phones use now; undefined before a check of it. */
  current(): ServerTrust | undefined {
    const { host, port } = this.options.address();
    return host !== undefined && this.#last?.address === `${host}:${port}` ? this.#last : undefined;
  }

  /**
   * Checks the current address now (a check already running is joined) and, while started, plans
   * the next one from its answer. Never rejects.
   */
  refresh(): Promise<void> {
    if (this.#running) return this.#running;
    const running: Promise<void> = this.#check(this.#started?.signal).finally(() => {
      if (this.#running === running) this.#running = undefined;
      this.#plan();
    });
    this.#running = running;
    return running;
  }

  async #check(signal: AbortSignal | undefined): Promise<void> {
    const { host, port } = this.options.address();
    if (host === undefined) return;
    const address = `${host}:${port}`;
    let verdict: TrustVerdict;
    try {
      verdict = await (this.options.check ?? checkServerTrust)({ host, port }, signal ? { signal } : {});
    } catch (error) {
      this.options.onError?.(error);
      // No answer to go by: the CA step comes back rather than a stale "public" staying.
      verdict = { verdict: 'unknown', reason: error instanceof Error ? error.message : String(error) };
    }
    if (signal?.aborted) return;
    this.#last = { ...verdict, address, checkedAt: this.options.now() };
    // The address may have changed while this one was checked: check the new one too.
    const now = this.options.address();
    if (now.host !== undefined && `${now.host}:${now.port}` !== address) await this.#check(signal);
  }

  #plan() {
    if (!this.#started || this.#started.signal.aborted) return;
    clearTimeout(this.#timer);
    const again =
      this.#last?.verdict === 'unknown' ? (this.options.retryMs ?? 60_000) : (this.options.everyMs ?? 600_000);
    this.#timer = setTimeout(() => void this.refresh(), again).unref();
  }

  start() {
    this.stop();
    this.#started = new AbortController();
    void this.refresh();
  }

  stop() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#started?.abort();
    this.#started = undefined;
    this.#running = undefined; // a check in flight ends unheard (its signal is aborted)
  }
}
