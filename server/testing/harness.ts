// Test harness: a portal on a fresh DATA_DIR with a captured log, a settable clock and a cookie jar.
// Its defaults keep a portal cheap to start and free of other processes (the unit tier): the test
// CA, cheap password hashing, an in-process minter, mail to DATA_DIR/outbox. Integration tests
// pass real peers through `env` (SMTP_URL, BROKER_RELOAD_COMMAND) or `minter: 'threads'`.
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { FastifyRequest, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { PasswordCost } from '../accounts/password.js';
import { buildApp, type AppOptions } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { dataFiles, openDataDir } from '../data-dir.js';
import { isCaKeyEncrypted, loadOrCreateCa } from '../enroll/ca-store.js';
import { createServices, type ServiceDeps } from '../services.js';
import { createMinter } from '../enroll/minter.js';
import { exportCaKey } from '../pki/ca.js';
import { inProcessMinter } from './minter.js';
import { testCa } from './pki.js';
import { tempDir } from './temp-dir.js';

export const TEST_ADMIN = { username: 'admin', password: 'correct horse battery' };

/** scrypt at N = 2^10 (1 MiB): a sign-in costs a millisecond, not 128 MiB and a few hundred. */
export const TEST_PASSWORD_COST: PasswordCost = { log2N: 10, r: 8, p: 1 };

/** The header a test Browser names itself with; the harness's rate limit counts per name. */
const CLIENT_HEADER = 'x-test-client';
const rateLimitKeyOf = (request: FastifyRequest) => String(request.headers[CLIENT_HEADER] ?? request.ip);

class Clock {
  constructor(public current = new Date()) {}
  now = () => new Date(this.current);
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestPortalOptions {
  env?: Record<string, string>;
  deps?: Partial<ServiceDeps>;
  /** Create TEST_ADMIN through ADMIN_USERNAME/ADMIN_PASSWORD (default true). */
  withAdmin?: boolean;
  /** 'threads': the production minter (worker threads, key pool); default: in-process, for the unit tier. */
  minter?: 'in-process' | 'threads';
  dataDir?: string;
  /** Whom the rate limit counts a request against; default: the test Browser's name. `undefined`: its address. */
  rateLimitKey?: ((request: FastifyRequest) => string) | undefined;
  /** Options of buildApp over the harness's (a captured log, the rate limit keyed by CLIENT_HEADER). */
  app?: AppOptions;
}

let migrated: string | undefined;
/**
 * A database with every migration applied, made once per process and copied into each fresh
 * DATA_DIR: running the ten migrations again took about a tenth of a unit test portal's start.
 * openDataDir then finds nothing to apply (and still checks the history against the files).
 */
function migratedDatabase(): string {
  if (!migrated) {
    const dir = tempDir('enroll-migrated-');
    openDataDir(dir).close(); // closing the last connection folds the WAL into the file
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    migrated = dataFiles(dir).database;
  }
  return migrated;
}

export async function startTestPortal(options: TestPortalOptions = {}) {
  const dataDir = options.dataDir ?? tempDir();
  if (!options.dataDir) copyFileSync(migratedDatabase(), dataFiles(dataDir).database);
  const adminEnv =
    options.withAdmin === false ? {} : { ADMIN_USERNAME: TEST_ADMIN.username, ADMIN_PASSWORD: TEST_ADMIN.password };
  const config: Config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'info', ...adminEnv, ...options.env });
  const db = openDataDir(config.dataDir);
  const files = dataFiles(dataDir);
  if (!existsSync(files.caCert)) {
    // The shared test CA, so that every portal does not spend seconds on an RSA 4096 key.
    const { ca } = await testCa();
    writeFileSync(files.caKey, exportCaKey(ca.key, config.caKeyPassphrase), { mode: 0o600 });
    writeFileSync(files.caCert, ca.certPem);
  }
  const { ca } = await loadOrCreateCa(dataDir, {
    commonName: config.caCommonName,
    serverNames: config.caServerNames,
    passphrase: config.caKeyPassphrase,
    now: new Date(),
  });
  const clock = new Clock();
  const logStream = new PassThrough();
  const logs: string[] = [];
  logStream.on('data', (chunk: Buffer) => logs.push(...String(chunk).split('\n').filter(Boolean)));
  const services = createServices(config, {
    db,
    ca,
    caKeyEncrypted: isCaKeyEncrypted(dataDir),
    now: clock.now,
    passwordCost: TEST_PASSWORD_COST,
    minter: options.deps?.minter ?? (options.minter === 'threads' ? createMinter(ca) : inProcessMinter(ca)),
    // No TLS connection to whatever MQTT_HOST a test names; tests of the check pass one.
    trustCheck: () => Promise.resolve({ verdict: 'unknown', reason: 'not checked in tests' }),
    ...options.deps,
  });
  const rateLimitKey = 'rateLimitKey' in options ? options.rateLimitKey : rateLimitKeyOf;
  const app = await buildApp(config, services, {
    logStream,
    ...(rateLimitKey && { rateLimitKey }),
    ...options.app,
  });
  await services.start(app.log);
  await app.ready();
  return {
    app,
    services,
    db,
    ca,
    config,
    clock,
    dataDir,
    logs,
    async close() {
      await app.close();
      await services.stop();
      db.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type TestPortal = Awaited<ReturnType<typeof startTestPortal>>;

let browsers = 0;

/**
 * A browser-like client over app.inject(): keeps cookies and reads CSRF tokens from forms. Each
 * one is a client of its own to the rate limit (named in CLIENT_HEADER), as separate machines are.
 */
export class Browser {
  cookies = new Map<string, string>();
  /** What the rate limit counts this browser's requests against. */
  readonly client = `browser-${++browsers}`;
  /** The address the portal sees (and audits). */
  readonly remoteAddress: string;
  constructor(
    private portal: TestPortal,
    options: { address?: string } = {},
  ) {
    this.remoteAddress = options.address ?? '127.0.0.1';
  }

  async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.portal.app.inject({
      remoteAddress: this.remoteAddress,
      ...options,
      headers: { [CLIENT_HEADER]: this.client, ...(cookie ? { cookie } : {}), ...options.headers },
    });
    for (const set of response.cookies) {
      if (set.expires && set.expires.getTime() < Date.now()) this.cookies.delete(set.name);
      else this.cookies.set(set.name, set.value);
    }
    return response;
  }

  get(url: string) {
    return this.request({ method: 'GET', url });
  }

  /** GETs `url` and follows its redirects, as a browser does (the issue form's result page may lead on). */
  async follow(url: string, hops = 5): Promise<LightMyRequestResponse> {
    const response = await this.get(url);
    const location = response.headers.location;
    return location && hops > 0 && response.statusCode >= 300 && response.statusCode < 400
      ? this.follow(String(location), hops - 1)
      : response;
  }

  /** POSTs a form the way a browser does, with the CSRF token of the page it came from. */
  async submit(pageUrl: string, action: string, fields: Record<string, string>, options: { csrf?: string } = {}) {
    const page = await this.get(pageUrl);
    const token = options.csrf ?? csrfTokenOf(page.body);
    return this.post(action, { _csrf: token, ...fields });
  }

  post(url: string, fields: Record<string, string>) {
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
    });
  }

  /** Issues through the form and reads the result page; throws unless the portal answered 303. */
  async issue(fields: Record<string, string>) {
    const response = await this.submit('/certificates/new', '/certificates', fields);
    if (response.statusCode !== 303)
      throw new Error(`issue answered ${response.statusCode}: ${response.body.slice(0, 500)}`);
    const location = String(response.headers.location);
    const page = await this.get(location);
    const passphrase = /data-testid="passphrase">([^<]+)</.exec(page.body)?.[1];
    return { location, page, passphrase, id: Number(/\/certificates\/(\d+)\//.exec(location)![1]) };
  }

  async signIn(username = TEST_ADMIN.username, password = TEST_ADMIN.password) {
    return this.submit('/login', '/login', { username, password });
  }
}

export function csrfTokenOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/** Runs `use` with a fresh portal and closes it afterwards, whatever happens. */
export async function withPortal<T>(options: TestPortalOptions, use: (portal: TestPortal) => Promise<T>): Promise<T> {
  const portal = await startTestPortal(options);
  try {
    return await use(portal);
  } finally {
    await portal.close();
  }
}
