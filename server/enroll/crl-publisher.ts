// Publishes the CRL the broker reads: rebuilt from the database, checked against the CA, written
// atomically over DATA_DIR/crl.pem, then the broker is asked to re-read it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AuditRepository } from '../db/audit.js';
import type { RevokedRow } from '../db/certificates.js';
import type { SettingsRepository } from '../db/settings.js';
import type { Db } from '../db/database.js';
import { writeFileAtomic } from '../files.js';
import { failed, ok, type Failed, type Ok } from '../outcome.js';
import type { Ca } from '../pki/ca.js';
import { buildCrlPem, isValidCrl, type CrlRequest, type RevocationReason } from '../pki/crl.js';

const DAY_MS = 86400_000;
/** nextUpdate is 30 days out; the CRL is renewed once it is a day old, so it never gets near. */
const CRL_VALIDITY_MS = 30 * DAY_MS;
export const CRL_RENEW_AFTER_MS = DAY_MS;
/** /healthz says degraded when nextUpdate is this close. */
export const CRL_DEGRADED_WITHIN_MS = 3 * DAY_MS;
const RELOAD_TIMEOUT_MS = 10_000;

export interface ReloadOutcome {
  ok: boolean;
  message: string;
}

export interface Publication {
  crlNumber: bigint;
  entries: number;
  nextUpdate: Date;
  /** Undefined when no BROKER_RELOAD_COMMAND is configured. */
  reload: ReloadOutcome | undefined;
}

/**
 * What a use case gets back from publishing after a committed change: the CRL, or why it could
 * not be published. The change stands either way; a failed publication is retried on its own.
 */
export type PublicationResult = Ok<{ publication: Publication }> | Failed<'crl-failed', { error: string }>;

/** A publication that failed and is being retried: shown as degraded on /healthz and the Broker page. */
export interface PendingPublication {
  since: Date;
  error: string;
  attempts: number;
  nextAttemptAt: Date;
}

const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;

export interface CrlPublisherOptions {
  db: Db;
  ca: Ca;
  /** DATA_DIR/crl.pem: the broker's crlfile. */
  file: string;
  /** Every revoked certificate the CA signed (client and server), streamed. */
  revoked: () => Iterable<RevokedRow>;
  settings: SettingsRepository;
  audit: AuditRepository;
  now: () => Date;
  reloadCommand: string | undefined;
  /**
   * A cheap summary of what `revoked` would yield (sizes and newest times), changing whenever the
   * revoked set does: a start with the same summary, CA and crl.pem as the last publication keeps
   * that CRL instead of rebuilding it (300 ms at 100,000 certificates).
   */
  revokedMark: () => string;
  /** The CRL builder; tests swap in a broken one to prove a bad CRL is never published. */
  build?: (request: CrlRequest) => string;
  /** First retry delay after a failed publication (doubling up to five minutes); tests shorten it. */
  retryFirstMs?: number;
}

function withEtag(pem: string) {
  return { pem, etag: `"${createHash('sha256').update(pem).digest('base64url').slice(0, 27)}"` };
}

export class CrlPublicationError extends Error {
  override name = 'CrlPublicationError';
}

/**
 * The reload command's whole environment: enough for a shell to find `kill` or `systemctl`, and
 * none of the portal's secrets (CA_KEY_PASSPHRASE, SMTP_URL, ADMIN_PASSWORD, ...).
 */
function reloadEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
}

/**
 * Runs the broker reload command through the shell, killed after RELOAD_TIMEOUT_MS. Only its exit
 * status is kept: its output goes nowhere, so whatever it prints never reaches the audit log
 * (permanent), a flash or the log.
 */
export function runReloadCommand(command: string, timeoutMs = RELOAD_TIMEOUT_MS): Promise<ReloadOutcome> {
  return new Promise((resolve) => {
    // A process group of its own, so that a hung command is killed with everything it started.
    const child = spawn('/bin/sh', ['-c', command], { env: reloadEnvironment(), stdio: 'ignore', detached: true });
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `could not run /bin/sh (${error.code ?? 'error'})` });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (killed) resolve({ ok: false, message: `killed after ${timeoutMs / 1000} s` });
      else if (code === 0) resolve({ ok: true, message: 'exit status 0' });
      else resolve({ ok: false, message: code === null ? `killed by ${signal}` : `exit status ${code}` });
    });
  });
}

export class CrlPublisher {
  readonly file: string;
  #queue: Promise<unknown> = Promise.resolve();
  #current: { pem: string; etag: string } | undefined;
  #pending: PendingPublication | undefined;
  #reloadFailure: { since: Date; message: string } | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #freshnessTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CrlPublisherOptions) {
    this.file = options.file;
  }

  /** A publication killed half-way leaves its temporary file behind (crl.pem itself is intact). */
  removeStaleTemporaries(): void {
    const dir = path.dirname(this.file);
    const prefix = `.${path.basename(this.file)}.`;
    for (const name of readdirSync(dir))
      if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(path.join(dir, name), { force: true });
  }

  /** Set while a failed publication waits for its retry. */
  get pending(): PendingPublication | undefined {
    return this.#pending;
  }

  /** When the published CRL stops being valid, if one has been published. */
  get nextUpdate(): Date | undefined {
    const value = this.options.settings.get('crl_next_update');
    return value ? new Date(value) : undefined;
  }

  get thisUpdate(): Date | undefined {
    const value = this.options.settings.get('crl_this_update');
    return value ? new Date(value) : undefined;
  }

  /** The CRL as last published, with an ETag; kept in memory so serving it reads no file. */
  current(): { pem: string; etag: string } {
    this.#current ??= withEtag(readFileSync(this.file, 'utf8'));
    return this.#current;
  }

  /** Publications run one at a time, in the order asked. */
  publish(actor: string, cause: string): Promise<Publication> {
    const run = this.#queue.then(() => this.#publish(actor, cause));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The start's publication: skipped when crl.pem is the file the last publication wrote (same
   * bytes), built from the same CA and revoked set, and less than a day old; published otherwise
   * (a revocation committed before a crash but not yet published, a restore, a new CA, a lost or
   * edited file, an ageing CRL).
   */
  async publishUnlessCurrent(
    actor: string,
    cause: string,
  ): Promise<Publication | { current: true; crlNumber: bigint }> {
    const { settings, now } = this.options;
    const thisUpdate = this.thisUpdate;
    const number = settings.get('crl_number');
    const source = settings.get('crl_source');
    if (source && number && thisUpdate && now().getTime() - thisUpdate.getTime() < CRL_RENEW_AFTER_MS) {
      let pem: string | undefined;
      try {
        pem = readFileSync(this.file, 'utf8');
      } catch {
        pem = undefined; // missing or unreadable: publish
      }
      if (pem !== undefined && source === this.#source(this.options.revokedMark(), pem)) {
        this.#current = withEtag(pem);
        return { current: true, crlNumber: BigInt(number) };
      }
    }
    return this.publish(actor, cause);
  }

  /** What a published CRL was made from: the CA, the revoked set's summary, and the file's bytes. */
  #source(revokedMark: string, pem: string): string {
    const digest = (text: string) => createHash('sha256').update(text).digest('base64url');
    return `${digest(this.options.ca.certPem)} ${revokedMark} ${digest(pem)}`;
  }

  /**
   * Renews the CRL when it is older than a day (the freshness timer calls this hourly); a failure is
   * retried with back-off and `pending` says so, as after a revocation. A broker reload that failed
   * is run again meanwhile, without a new CRL.
   */
  async refreshIfAging(): Promise<PublicationResult | undefined> {
    const thisUpdate = this.thisUpdate;
    if (thisUpdate && this.options.now().getTime() - thisUpdate.getTime() < CRL_RENEW_AFTER_MS) {
      // In the publications' queue, so that it never overtakes a publication's own reload.
      if (this.#reloadFailure && this.options.reloadCommand) {
        const run = this.#queue.then(() => (this.#reloadFailure ? this.#reload('system', { retry: true }) : undefined));
        this.#queue = run.catch(() => undefined);
        await run;
      }
      return undefined;
    }
    return this.publishOrRetry('system', 'renewal');
  }

  /** The broker's reload command's last failure, until it succeeds again: the broker may use an older CRL. */
  get reloadFailure(): { since: Date; message: string } | undefined {
    return this.#reloadFailure;
  }

  /**
   * Runs the reload command. A publication's run is audited either way; an hourly retry only when
   * it succeeds at last (a failure every hour would bury the audit log: the Broker page and
   * /healthz say it is still failing).
   */
  async #reload(actor: string, options: { retry?: boolean } = {}): Promise<ReloadOutcome> {
    const reload = await runReloadCommand(this.options.reloadCommand!);
    const now = this.options.now();
    if (!options.retry || reload.ok)
      this.options.audit.record(
        { actor, action: 'broker-reload', outcome: reload.ok ? 'success' : 'failure', detail: reload.message },
        now,
      );
    this.#reloadFailure = reload.ok ? undefined : { since: this.#reloadFailure?.since ?? now, message: reload.message };
    return reload;
  }

  /**
   * Publishes after a committed change. A failure is an outcome, not an exception: the change
   * stands, the publication is retried with back-off until it succeeds, and `pending` says so.
   */
  async publishOrRetry(actor: string, cause: string): Promise<PublicationResult> {
    try {
      return ok({ publication: await this.publish(actor, cause) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#scheduleRetry(message);
      return failed('crl-failed', { error: message });
    }
  }

  #scheduleRetry(error: string): void {
    const now = this.options.now();
    const attempts = (this.#pending?.attempts ?? 0) + 1;
    const delay = Math.min((this.options.retryFirstMs ?? RETRY_FIRST_MS) * 2 ** (attempts - 1), RETRY_MAX_MS);
    this.#pending = {
      since: this.#pending?.since ?? now,
      error,
      attempts,
      nextAttemptAt: new Date(now.getTime() + delay),
    };
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.publish('system', `retry after a failed publication (${error})`).catch((retryError: unknown) =>
        this.#scheduleRetry(retryError instanceof Error ? retryError.message : String(retryError)),
      );
    }, delay);
    this.#retryTimer.unref();
  }

  /** Checks every hour whether the CRL needs renewing. */
  startFreshnessTimer(onError: (error: unknown) => void): void {
    clearInterval(this.#freshnessTimer);
    this.#freshnessTimer = setInterval(() => void this.refreshIfAging().catch(onError), 3600_000);
    this.#freshnessTimer.unref();
  }

  /** Stops the timers; a publication under way finishes. */
  stop(): void {
    clearInterval(this.#freshnessTimer);
    clearTimeout(this.#retryTimer);
  }

  async #publish(actor: string, cause: string): Promise<Publication> {
    const { db, ca, settings, audit, now } = this.options;
    const build = this.options.build ?? buildCrlPem;
    const at = now();
    const nextUpdate = new Date(at.getTime() + CRL_VALIDITY_MS);
    const crlNumber = db.transaction(() => {
      const next = BigInt(settings.get('crl_number') ?? '0') + 1n;
      settings.put('crl_number', next.toString());
      return next;
    })();
    // Taken before the rows are read: a revocation committed in between changes the summary, and
    // the next start then republishes rather than keeping a CRL that might lack it.
    const mark = this.options.revokedMark();
    let entries = 0;
    const rows = this.options.revoked();
    const pem = build({
      ca,
      crlNumber,
      thisUpdate: new Date(at.getTime() - 5 * 60_000), // backdated a little for clocks that lag
      nextUpdate,
      entries: (function* () {
        for (const row of rows) {
          entries++;
          yield {
            serial: row.serial,
            revokedAt: new Date(row.revoked_at),
            reason: row.revocation_reason as RevocationReason,
          };
        }
      })(),
    });
    if (!isValidCrl(pem, ca)) {
      audit.record(
        {
          actor,
          action: 'crl-publish',
          outcome: 'failure',
          detail: `CRL ${crlNumber} failed verification; the previous CRL stays`,
        },
        at,
      );
      throw new CrlPublicationError(
        `CRL ${crlNumber} failed verification against the CA; the previous CRL stays in place`,
      );
    }
    writeFileAtomic(this.file, pem, 0o644);
    this.#current = withEtag(pem);
    this.#pending = undefined;
    clearTimeout(this.#retryTimer);
    db.transaction(() => {
      settings.put('crl_this_update', at.toISOString());
      settings.put('crl_next_update', nextUpdate.toISOString());
      settings.put('crl_source', this.#source(mark, pem));
      audit.record(
        {
          actor,
          action: 'crl-publish',
          outcome: 'success',
          detail: `CRL ${crlNumber} with ${entries} entries (${cause})`,
        },
        at,
      );
    })();

    const reload = this.options.reloadCommand ? await this.#reload(actor) : undefined;
    return { crlNumber, entries, nextUpdate, reload };
  }
}
