// Upgrades are tested: the current code, started as its own process, on a data folder made by release
// 0.1.0 (server/testing/release-fixture.ts) keeps every certificate, the CA and the CRL, lets the
// owner sign in with the old password, stops cleanly, leaves a sound database, and starts a second
// time without changing anything. It talks to the portal only over HTTP and reads the database
// read-only after the process stopped, so it does not depend on the server's inner modules.
// Every migration after 003 adds its case to UPGRADE_CHECKS (the test fails until it does).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { compiledFile } from './testing/compiled.js';
import { makeReleaseDataDir, RELEASE_VERSION, type ReleaseFixture } from './testing/release-fixture.js';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const migrationsDir = path.join(projectRoot, 'migrations');
const START_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 15_000;

type Row = Record<string, unknown>;

/** What a data folder holds, read from its files (never through the portal's code). */
interface Snapshot {
  caFingerprint: string;
  migrations: Row[];
  schema: Row[];
  admins: Row[];
  users: Row[];
  certificates: Row[];
  serverCertificates: Row[];
  sessions: Row[];
  settings: Record<string, string>;
  audit: Row[];
}

export interface UpgradeCheck {
  /** The migration file's name without `.sql`, e.g. `004_invitations`. */
  migration: string;
  /** What the data that migration created must still look like after an upgrade from `release`. */
  check: (db: Database.Database, release: Snapshot) => void;
}

const byId = (rows: Row[]) => new Map(rows.map((row) => [row.id, row]));
const pick = (row: Row | undefined, keys: string[]) => Object.fromEntries(keys.map((key) => [key, row?.[key]]));

export const UPGRADE_CHECKS: UpgradeCheck[] = [
  {
    migration: '001_initial',
    check(db, release) {
      const now = snapshotDatabase(db);
      // Certificates: none lost, none added, content intact. Only `pending` ones change: the portal
      // revokes at start what an earlier stop left undelivered (its key is gone).
      assert.equal(now.certificates.length, release.certificates.length, 'certificate count');
      const after = byId(now.certificates);
      const kept = ['user_id', 'serial', 'device', 'fingerprint_sha256', 'pem', 'key_bits', 'not_before', 'not_after'];
      const state = ['status', 'delivery', 'revoked_at', 'revocation_reason', 'revoked_by'];
      for (const old of release.certificates) {
        const row = after.get(old.id);
        assert.deepEqual(pick(row, kept), pick(old, kept), `certificate ${old.id} (${old.serial})`);
        if (old.delivery === 'pending') {
          assert.equal(row?.status, 'revoked', `pending certificate ${old.serial} revoked at start`);
          assert.notEqual(row?.delivery, 'pending', `pending certificate ${old.serial} no longer pending`);
          assert.ok(row?.revoked_at, `pending certificate ${old.serial} has a revocation time`);
        } else {
          assert.deepEqual(pick(row, state), pick(old, state), `certificate ${old.serial} keeps its state`);
        }
      }
      // People and admins: all there, with their addresses and names.
      const users = (rows: Row[]) => rows.map((row) => pick(row, ['id', 'username', 'email']));
      assert.deepEqual(users(now.users), users(release.users));
      const admins = (rows: Row[]) => rows.map((row) => pick(row, ['id', 'username', 'created_at']));
      assert.deepEqual(admins(now.admins), admins(release.admins));
      // The audit log is append-only and nothing prunes it without AUDIT_RETENTION_DAYS.
      const audit = byId(now.audit);
      for (const old of release.audit) assert.deepEqual(audit.get(old.id), old, `audit row ${old.id}`);
      // Sessions stay signed with the same secret.
      assert.equal(now.settings.session_secret, release.settings.session_secret);
    },
  },
  {
    migration: '002_crl',
    check(db, release) {
      const now = snapshotDatabase(db);
      const pending = release.certificates.filter((row) => row.delivery === 'pending').length;
      const revoked = (rows: Row[]) => rows.filter((row) => row.status === 'revoked').length;
      assert.equal(revoked(now.certificates), revoked(release.certificates) + pending, 'revoked client certificates');
      // CRL numbers only go up: relying parties take a lower one for a replayed, older CRL.
      assert.ok(
        BigInt(now.settings.crl_number!) > BigInt(release.settings.crl_number!),
        `crl_number ${now.settings.crl_number} > ${release.settings.crl_number}`,
      );
    },
  },
  {
    migration: '003_server_certificates',
    check(db, release) {
      const now = snapshotDatabase(db);
      const keys = ['id', 'serial', 'names', 'fingerprint_sha256', 'pem', 'not_before', 'not_after', 'status'];
      const rows = (list: Row[]) => list.map((row) => pick(row, [...keys, 'revoked_at', 'revocation_reason']));
      assert.deepEqual(rows(now.serverCertificates), rows(release.serverCertificates));
    },
  },
  {
    migration: '004_users_drop_name',
    check(db, release) {
      const now = snapshotDatabase(db);
      // The column held nothing in any release: dropping it loses no data.
      assert.ok(release.users.every((row) => row.name === null || row.name === undefined));
      assert.ok(
        now.users.every((row) => !('name' in row)),
        'users.name is gone',
      );
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('users');
      assert.deepEqual(columns.slice(0, 4), ['id', 'username', 'email', 'created_at']); // later migrations add after
      assert.ok(!columns.includes('name'));
    },
  },
  {
    migration: '005_sign_in_sessions_audit_retention',
    check(db, release) {
      const now = snapshotDatabase(db);
      // Admins are kept, none disabled; their back-off counters moved to sign_in_failures.
      assert.ok(now.admins.length === release.admins.length && now.admins.every((row) => row.disabled_at === null));
      const adminColumns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('admins');
      assert.ok(!adminColumns.includes('failed_logins') && !adminColumns.includes('last_failed_at'), `${adminColumns}`);
      // Sessions of the release held raw ids: none survives; rows now hold a SHA-256 and the admin's name.
      const releaseIds = new Set(release.sessions.map((row) => row.id));
      assert.ok(releaseIds.size >= 2, 'the release had sessions');
      for (const row of now.sessions) {
        assert.match(String(row.id_sha256), /^[0-9a-f]{64}$/);
        assert.ok(!releaseIds.has(row.id_sha256), 'no session of the release is kept');
      }
      // The audit log: every row of the release is there (001's case); only old rows could ever be
      // deleted, through the prune setting, which is absent outside a prune.
      const triggers = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%' ORDER BY name")
        .pluck()
        .all();
      // 011 replaced audit_log_no_update (its case checks what stands instead).
      for (const name of ['audit_log_delete_only_expired', 'audit_prune_before_insert', 'audit_prune_before_update'])
        assert.ok(triggers.includes(name), `trigger ${name}`);
      assert.equal(now.settings.audit_prune_before, undefined);
    },
  },
  {
    migration: '006_device_collisions',
    check(db, release) {
      // Every certificate that was active beside another active one of the same person and device
      // (no device counts as "phone") is listed, and no other: the fixture has grace's two phones.
      const deviceOf = (row: Row) => `${row.user_id as number}/${(row.device as string | null) ?? 'phone'}`;
      const active = release.certificates.filter((row) => row.status === 'active');
      const expected = active
        .filter((row) => active.some((other) => other.id !== row.id && deviceOf(other) === deviceOf(row)))
        .map((row) => row.id);
      const listed = db.prepare('SELECT certificate_id FROM device_collisions ORDER BY 1').pluck().all();
      assert.deepEqual(listed, expected);
      const grace = db.prepare("SELECT id FROM users WHERE username = 'grace'").pluck().get();
      assert.ok(
        active.filter((row) => row.user_id === grace && row.device === 'phone').every((row) => listed.includes(row.id)),
        "grace's two phones are listed",
      );
    },
  },
  {
    migration: '007_delivery_search_people',
    check(db, release) {
      const now = snapshotDatabase(db);
      // The table was rebuilt for the new delivery states: every row kept (001's case), none replaces another.
      const sql = String(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'certificates'").pluck().get());
      for (const state of ['sent', 'outbox', 'forwarded', 'picked_up', 'failed']) assert.ok(sql.includes(`'${state}'`));
      assert.ok(now.certificates.every((row) => row.replaces === null));
      // The release mailed through SMTP: nothing it sent is taken for outbox mail.
      const sent = (rows: Row[]) => rows.filter((row) => row.delivery === 'sent').map((row) => row.id);
      assert.deepEqual(sent(now.certificates), sent(release.certificates));
      const indexes = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'certificates' AND sql IS NOT NULL",
        )
        .pluck()
        .all();
      for (const index of ['certificates_user', 'certificates_issued', 'certificates_expiry', 'certificates_revoked'])
        assert.ok(indexes.includes(index), `index ${index} rebuilt`);
      // The search indexes hold the release's rows: any part of an address or a device finds them.
      const found = (table: string, term: string) =>
        db.prepare(`SELECT rowid FROM ${table} WHERE ${table} MATCH ? ORDER BY rowid`).pluck().all(`"${term}"`);
      const withText = (rows: Row[], key: string, term: string) =>
        rows.filter((row) => typeof row[key] === 'string' && row[key].includes(term)).map((row) => row.id);
      assert.deepEqual(found('users_search', 'example.org'), withText(now.users, 'email', 'example.org'));
      assert.deepEqual(found('certificates_search', 'hone'), withText(now.certificates, 'device', 'hone'));
      assert.ok(found('certificates_search', 'hone').length > 0);
      // Nobody is deleted by the upgrade.
      assert.ok(now.users.every((row) => row.deleted_at === null));
    },
  },
  {
    migration: '008_broker_link',
    check(db) {
      // The broker link's tables start empty: a release without the link managed nothing in dynsec,
      // owes no kick and made no probe (the CRL holds only what the release revoked).
      for (const name of ['broker_managed', 'broker_kicks', 'broker_probes'])
        assert.equal(db.prepare(`SELECT count(*) FROM ${name}`).pluck().get(), 0, `${name} is empty`);
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('broker_probes');
      assert.deepEqual(columns, ['serial', 'pem', 'created_at', 'not_after', 'covers_kick']);
    },
  },
  {
    migration: '009_invitations',
    check(db) {
      // 007 widened the delivery states for picked-up certificates; the invitations start empty.
      const definition = String(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'certificates'").pluck().get());
      assert.match(definition, /'picked_up'/);
      assert.deepEqual(table(db, 'invitations', 'id'), [], 'no invitation before the first is made');
      assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), []);
    },
  },
  {
    migration: '010_presence',
    check(db) {
      // A new, empty table: an upgrade invents no sighting, and every certificate reads "never connected".
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('device_presence');
      assert.deepEqual(columns, ['user_id', 'device', 'last_message_at', 'last_will_at']);
      assert.equal(db.prepare('SELECT count(*) FROM device_presence').pluck().get(), 0);
      // Sharing groups start empty.
      for (const table of ['sharing_groups', 'sharing_group_members'])
        assert.equal(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), 0, table);
    },
  },
  {
    migration: '011_audit_erasure',
    check(db, release) {
      const now = snapshotDatabase(db);
      const triggers = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%' ORDER BY name")
        .pluck()
        .all();
      assert.deepEqual(triggers, [
        'audit_erasing_insert',
        'audit_erasing_update',
        'audit_log_delete_only_expired',
        'audit_log_no_insert_while_erasing',
        'audit_log_update_only_erasure',
        'audit_prune_before_insert',
        'audit_prune_before_update',
      ]);
      // The door is closed, nobody of the release was deleted, and every row of the release is as it
      // was (001's case): the upgrade erased nothing.
      assert.equal(now.settings.audit_erasing, undefined);
      assert.ok(release.audit.length > 0 && now.users.every((row) => row.deleted_at === null));
      // A plain update is still refused, the detail's included: tried on a writable copy in memory.
      // (bytes 18 and 19 say WAL, which a database in memory cannot be: they say rollback journal instead)
      const image = db.serialize();
      image[18] = image[19] = 1;
      const copy = new Database(image);
      try {
        for (const change of ["detail = '[address erased]'", "actor = 'someone'"])
          assert.throws(() => copy.prepare(`UPDATE audit_log SET ${change}`).run(), /append-only/, change);
        assert.throws(
          () =>
            copy.prepare("INSERT INTO settings (key, value) VALUES ('audit_erasing', ?)").run(now.users[0]!.username),
          /deleted person/,
          'the door opens only for a deleted person',
        );
      } finally {
        copy.close();
      }
    },
  },
  {
    migration: '012_carried_revocations',
    check(db) {
      // Only a restore writes there (backup/carry.ts, tested in cli.int.test.ts): an upgrade leaves it empty.
      assert.equal(db.prepare('SELECT count(*) FROM carried_revocations').pluck().get(), 0);
    },
  },
  {
    migration: '013_invitation_reopenings',
    check(db) {
      // A counter with a default: links of earlier releases start at none (db/invitations-migration.test.ts).
      const column = db
        .prepare("SELECT type, \"notnull\", dflt_value FROM pragma_table_info('invitations') WHERE name = 'reopenings'")
        .get();
      assert.deepEqual(column, { type: 'INTEGER', notnull: 1, dflt_value: '0' });
    },
  },
];

function table(db: Database.Database, name: string, order: string): Row[] {
  return db.prepare(`SELECT * FROM ${name} ORDER BY ${order}`).all() as Row[];
}

function snapshotDatabase(db: Database.Database): Omit<Snapshot, 'caFingerprint'> {
  return {
    migrations: table(db, 'schema_migrations', 'version'),
    schema: table(db, 'sqlite_master', 'type, name'),
    admins: table(db, 'admins', 'id'),
    users: table(db, 'users', 'id'),
    certificates: table(db, 'certificates', 'id'),
    serverCertificates: table(db, 'server_certificates', 'id'),
    sessions: table(db, 'sessions', 'rowid'), // its key column changed in 005
    settings: Object.fromEntries(
      (table(db, 'settings', 'key') as Array<{ key: string; value: string }>).map((row) => [row.key, row.value]),
    ),
    audit: table(db, 'audit_log', 'id'),
  };
}

function openReadOnly(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'enroll.db'), { readonly: true, fileMustExist: true });
}

function snapshot(dataDir: string): Snapshot {
  const db = openReadOnly(dataDir);
  try {
    return {
      caFingerprint: caFingerprint(readFileSync(path.join(dataDir, 'ca.crt'), 'utf8')),
      ...snapshotDatabase(db),
    };
  } finally {
    db.close();
  }
}

const caFingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Every revoked serial, client and server, normalised as openssl prints them (upper case, no leading zeros). */
function revokedSerials(release: Snapshot, includePending: boolean): Map<string, string> {
  const serials = new Map<string, string>();
  const key = (serial: unknown) => String(serial).toUpperCase().replace(/^0+/, '');
  for (const row of [...release.certificates, ...release.serverCertificates]) {
    if (row.status === 'revoked') serials.set(key(row.serial), String(row.revocation_reason));
    else if (includePending && row.delivery === 'pending') serials.set(key(row.serial), 'cessationOfOperation');
  }
  return serials;
}

const OPENSSL_REASON_TEXT: Record<string, string | undefined> = {
  unspecified: undefined, // RFC 5280 5.3.1: the reasonCode is absent rather than unspecified
  keyCompromise: 'Key Compromise',
  affiliationChanged: 'Affiliation Changed',
  superseded: 'Superseded',
  cessationOfOperation: 'Cessation Of Operation',
};

async function openssl(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('openssl', args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

/** Parses a CRL with openssl, checks its signature against the CA, and returns its number and entries. */
async function readCrl(crlFile: string, caFile: string) {
  const verified = await openssl(['crl', '-in', crlFile, '-CAfile', caFile, '-noout']);
  assert.equal(verified.code, 0, `openssl crl -CAfile: ${verified.output}`);
  assert.match(verified.output, /verify OK/);
  const text = await openssl(['crl', '-in', crlFile, '-noout', '-text']);
  assert.equal(text.code, 0, `openssl crl -text: ${text.output}`);
  const number = /X509v3 CRL Number:\s*\n\s*(\S+)/.exec(text.output)?.[1];
  assert.ok(number, `CRL number in\n${text.output}`);
  const entries = new Map<string, string | undefined>();
  for (const block of text.output.split('Serial Number: ').slice(1)) {
    const serial = /^([0-9A-F]+)/.exec(block)![1]!.replace(/^0+/, '');
    entries.set(serial, /CRL Reason Code:\s*\n\s*(.+)/.exec(block)?.[1]?.trim());
  }
  return { number: BigInt(number), entries };
}

function assertListsEvery(crl: Awaited<ReturnType<typeof readCrl>>, revoked: Map<string, string>) {
  for (const [serial, reason] of revoked) {
    assert.ok(crl.entries.has(serial), `CRL lists ${serial}`);
    assert.equal(crl.entries.get(serial), OPENSSL_REASON_TEXT[reason], `reason of ${serial}`);
  }
}

/** A port nobody listens on right now, chosen by the kernel. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The portal as the release's users run it: `node --import tsx server/main.ts`, configured by the environment. */
class Portal {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly base: string,
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout!, child.stderr!])
      stream.on('data', (chunk: Buffer) => this.output.push(...String(chunk).split('\n').filter(Boolean)));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve((this.#exit = { code, signal }))),
    );
  }

  static async start(dataDir: string, settings: Record<string, string> = {}): Promise<Portal> {
    const port = await freePort();
    // Only what the portal needs: a developer's SMTP_URL or ADMIN_PASSWORD must not leak in.
    const env: Record<string, string> = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...settings,
    };
    for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name]) env[name] = process.env[name]!;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const portal = new Portal(`http://127.0.0.1:${port}`, child);
    await portal.#waitUntilHealthy();
    return portal;
  }

  get log(): string {
    return this.output.slice(-30).join('\n');
  }

  async #waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + START_DEADLINE_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.#exit)
        throw new Error(`the portal exited (${JSON.stringify(this.#exit)}) before it was healthy:\n${this.log}`);
      try {
        const response = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(2000) });
        last = `${response.status} ${await response.text()}`;
        if (response.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), this.exited]);
    }
    this.kill();
    throw new Error(`the portal was not healthy within ${START_DEADLINE_MS} ms (last: ${last}):\n${this.log}`);
  }

  get(url: string, cookie = ''): Promise<Response> {
    return fetch(this.base + url, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  }

  /** SIGTERM, then the exit status; a portal that does not stop in time is killed and the test fails. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, STOP_DEADLINE_MS, 'timeout').unref());
    const result = await Promise.race([this.exited, timeout]);
    if (result === 'timeout') {
      this.kill();
      throw new Error(`the portal did not stop within ${STOP_DEADLINE_MS} ms of SIGTERM:\n${this.log}`);
    }
    return result;
  }

  kill(): void {
    if (!this.#exit) this.child.kill('SIGKILL');
  }
}

/** A browser's cookie jar, enough for sign-in: keeps what Set-Cookie sends, drops what it clears. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  keep(response: Response): Response {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const [name = '', value = ''] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const cleared = value === '' || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (cleared) this.#cookies.delete(name.trim());
      else this.#cookies.set(name.trim(), value);
    }
    return response;
  }
  get header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

let scratch: string;
let dataDir: string;
let fixture: ReleaseFixture;
let release: Snapshot;
let releaseCaFile: string;
let afterFirstStart: Snapshot;
const running: Portal[] = [];

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'enroll-upgrade-'));
  dataDir = path.join(scratch, 'data');
  fixture = await makeReleaseDataDir(dataDir);
  release = snapshot(dataDir);
  releaseCaFile = path.join(scratch, 'release-ca.crt');
  writeFileSync(releaseCaFile, readFileSync(path.join(dataDir, 'ca.crt')));
});

after(() => {
  for (const portal of running) portal.kill();
  rmSync(scratch, { recursive: true, force: true });
});

test(`the fixture is a data folder of release ${RELEASE_VERSION} with certificates in every state`, async () => {
  assert.deepEqual(
    release.migrations.map((row) => `${row.version}_${row.name}`),
    ['1_initial', '2_crl', '3_server_certificates'],
  );
  const states = new Set(
    release.certificates.map((row) => {
      const expired = Date.parse(String(row.not_after)) < Date.now() ? 'expired' : 'valid';
      return `${row.status}/${row.delivery}/${expired}/${typeof row.revocation_reason === 'string' ? row.revocation_reason : '-'}`;
    }),
  );
  for (const state of [
    'active/sent/valid/-',
    'active/sent/expired/-',
    'active/pending/valid/-',
    'revoked/failed/valid/cessationOfOperation',
    'revoked/sent/valid/superseded',
    'revoked/sent/valid/keyCompromise',
    'revoked/sent/valid/unspecified',
    'revoked/sent/expired/keyCompromise',
  ])
    assert.ok(states.has(state), `a certificate ${state} in ${[...states].join(', ')}`);
  assert.deepEqual(new Set(release.serverCertificates.map((row) => row.status)), new Set(['active', 'revoked']));
  assert.ok(release.audit.length > 1000, `${release.audit.length} audit rows`);
  assert.ok(
    release.audit.some((row) => Date.parse(String(row.at)) < Date.now() - 365 * 86400_000),
    'old audit rows',
  );
  assert.ok(release.sessions.length >= 2, 'sessions');
  assert.ok(release.settings.session_secret && release.settings.crl_number, 'settings');
  // Its CRL is the one 0.1.0 published: signed by the CA, numbered like the setting, every revocation in it.
  const crl = await readCrl(path.join(dataDir, 'crl.pem'), releaseCaFile);
  assert.equal(crl.number, BigInt(release.settings.crl_number));
  assertListsEvery(crl, revokedSerials(release, false));
  createPrivateKey(readFileSync(path.join(dataDir, 'ca.key'))); // readable without a passphrase, as 0.1.0 left it
});

test(`a backup taken before the upgrade leaves it as ${RELEASE_VERSION} left it, and the archive restores`, async () => {
  // What an owner runs first: the new version's `backup`, with the old folder still in place.
  const archive = path.join(scratch, 'before-upgrade.tar.gz');
  const cli = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [compiledFile('server/cli.ts'), ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
    });
  const backup = await cli(['backup', '--out', archive], { DATA_DIR: dataDir });
  assert.match(backup.stdout, /from an earlier version \(\d+ migration\(s\) to apply\): backed up and left as it was/);
  assert.deepEqual(snapshot(dataDir), release, 'the folder is unchanged, its schema included');
  const restoredDir = path.join(scratch, 'restored-release');
  await cli(['restore', archive, '--data-dir', restoredDir], {});
  const restored = openReadOnly(restoredDir);
  try {
    // The archive holds the release's schema; restored by this version, the folder is of this version.
    assert.deepEqual(
      restored.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(),
      readdirSync(path.join(projectRoot, 'migrations')).map((file) => Number(file.slice(0, 3))),
    );
    assert.equal(restored.prepare('SELECT count(*) FROM certificates').pluck().get(), release.certificates.length);
  } finally {
    restored.close();
  }
});

test('the current code starts on it, keeps the CA and publishes a CRL with every revoked certificate', async (t) => {
  const started = Date.now();
  const portal = await Portal.start(dataDir);
  t.diagnostic(`healthy ${Date.now() - started} ms after the start`);
  running.push(portal);

  const ca = await portal.get('/ca.crt');
  assert.equal(ca.status, 200);
  assert.equal(caFingerprint(await ca.text()), release.caFingerprint, 'GET /ca.crt is the release CA');

  const crlResponse = await portal.get('/crl.pem');
  assert.equal(crlResponse.status, 200);
  const crlFile = path.join(scratch, 'served-crl.pem');
  writeFileSync(crlFile, await crlResponse.text());
  const crl = await readCrl(crlFile, releaseCaFile);
  assertListsEvery(crl, revokedSerials(release, true));
  assert.ok(crl.number > BigInt(release.settings.crl_number!), `CRL number ${crl.number} goes up`);

  // The owner signs in with the password set under the release, and sees every person and certificate.
  const jar = new CookieJar();
  const login = jar.keep(await portal.get('/login'));
  assert.equal(login.status, 200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1];
  assert.ok(csrf, 'the sign-in form has a CSRF token');
  const signingIn = Date.now();
  const signIn = jar.keep(
    await fetch(`${portal.base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: fixture.admin.username, password: fixture.admin.password, _csrf: csrf }),
    }),
  );
  assert.equal(signIn.status, 303, `sign-in answered ${signIn.status}: ${await signIn.text()}`);
  t.diagnostic(`signed in in ${Date.now() - signingIn} ms`);
  const list = await portal.get('/certificates', jar.header);
  assert.equal(list.status, 200);
  const page = await list.text();
  for (const user of release.users)
    assert.ok(page.includes(String(user.username)), `/certificates lists ${user.username}`);
  for (const row of release.certificates)
    assert.ok(page.includes(String(row.serial)), `/certificates lists ${row.serial}`);

  // A session signed in under the release is either kept or ends with a sign-in page, never an error.
  const old = await portal.get('/certificates', fixture.liveSessionCookie);
  t.diagnostic(`the release's live session: ${old.status} ${old.headers.get('location') ?? ''}`);
  if (old.status === 200) assert.ok((await old.text()).includes(String(release.users[0]!.username)));
  else {
    assert.equal(old.status, 303, `the release's session answered ${old.status}`);
    assert.match(old.headers.get('location') ?? '', /^\/login/);
  }

  const stopping = Date.now();
  const exit = await portal.stop();
  t.diagnostic(`exited ${Date.now() - stopping} ms after SIGTERM; ${shutdownSteps(portal.log)}`);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${portal.log}`);
  afterFirstStart = snapshot(dataDir);
  assert.equal(afterFirstStart.caFingerprint, release.caFingerprint, 'ca.crt is unchanged');
  assert.ok(
    new X509Certificate(readFileSync(path.join(dataDir, 'ca.crt'))).checkPrivateKey(
      createPrivateKey(readFileSync(path.join(dataDir, 'ca.key'))),
    ),
    'ca.key still holds the CA key, readable as before',
  );
});

function assertSoundDatabase(label: string): void {
  const db = openReadOnly(dataDir);
  try {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }], `${label}: integrity_check`);
    assert.deepEqual(db.pragma('foreign_key_check'), [], `${label}: foreign_key_check`);
    const files = readdirSync(migrationsDir)
      .filter((file) => file.endsWith('.sql'))
      .sort();
    const applied = db.prepare('SELECT version, name, sha256 FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(
      applied,
      files.map((file) => ({
        version: Number(file.slice(0, 3)),
        name: file.slice(4, -4),
        sha256: createHash('sha256')
          .update(readFileSync(path.join(migrationsDir, file), 'utf8'))
          .digest('hex'),
      })),
      `${label}: every migration file is applied, as it is`,
    );
    const checked = UPGRADE_CHECKS.map((entry) => entry.migration);
    for (const file of files)
      assert.ok(
        checked.includes(file.slice(0, -4)),
        `UPGRADE_CHECKS has a case for ${file}: add one with the migration`,
      );
    for (const entry of UPGRADE_CHECKS) {
      try {
        entry.check(db, release);
      } catch (error) {
        (error as Error).message = `${label}, ${entry.migration}: ${(error as Error).message}`;
        throw error;
      }
    }
  } finally {
    db.close();
  }
}

test('the database it leaves is sound, fully migrated, and keeps what every migration holds', () => {
  assert.ok(afterFirstStart, 'the first start ran');
  assertSoundDatabase('after the first start');
});

test('a second start is clean and changes nothing the first one settled', async (t) => {
  assert.ok(afterFirstStart, 'the first start ran');
  const started = Date.now();
  const portal = await Portal.start(dataDir);
  t.diagnostic(`healthy ${Date.now() - started} ms after the start`);
  running.push(portal);
  const crlResponse = await portal.get('/crl.pem');
  assert.equal(crlResponse.status, 200);
  const crlFile = path.join(scratch, 'served-crl-2.pem');
  writeFileSync(crlFile, await crlResponse.text());
  const crl = await readCrl(crlFile, releaseCaFile);
  assertListsEvery(crl, revokedSerials(release, true));
  // Nothing was revoked between the two starts: the second keeps the CRL the first one published.
  assert.equal(crl.number, BigInt(afterFirstStart.settings.crl_number!), `CRL ${crl.number} kept, not rebuilt`);
  const stopping = Date.now();
  const exit = await portal.stop();
  t.diagnostic(`exited ${Date.now() - stopping} ms after SIGTERM; ${shutdownSteps(portal.log)}`);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${portal.log}`);

  const second = snapshot(dataDir);
  assert.deepEqual(second.migrations, afterFirstStart.migrations, 'no migration applied again');
  assert.deepEqual(second.schema, afterFirstStart.schema, 'the schema is the same');
  assert.deepEqual(second.certificates, afterFirstStart.certificates, 'no certificate changed');
  assert.deepEqual(second.serverCertificates, afterFirstStart.serverCertificates, 'no server certificate changed');
  assert.deepEqual(second.users, afterFirstStart.users, 'no person changed');
  assert.deepEqual(second.admins, afterFirstStart.admins, 'no admin changed');
  assert.deepEqual(
    second.audit.slice(0, afterFirstStart.audit.length),
    afterFirstStart.audit,
    'the audit log only grew',
  );
  assert.equal(second.caFingerprint, release.caFingerprint);
  assertSoundDatabase('after the second start');
});

test('a start with AUDIT_RETENTION_DAYS prunes only the rows older than it, and audits the prune', async (t) => {
  assert.ok(afterFirstStart, 'the first start ran');
  const before = snapshot(dataDir);
  const portal = await Portal.start(dataDir, { AUDIT_RETENTION_DAYS: '365' });
  running.push(portal);
  const exit = await portal.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${portal.log}`);
  const after = snapshot(dataDir);
  const prunes = after.audit.filter((row) => row.action === 'audit-pruned');
  assert.equal(prunes.length, 1, 'one prune, audited');
  const cutoff = /older than (\S+) removed/.exec(String(prunes[0]!.detail))?.[1];
  assert.ok(cutoff && Date.parse(cutoff) < Date.now() - 364 * 86400_000, `cutoff ${cutoff}`);
  const old = before.audit.filter((row) => String(row.at) < cutoff);
  assert.ok(old.length > 0, 'the fixture has rows older than a year');
  t.diagnostic(`${old.length} of ${before.audit.length} audit rows older than ${cutoff} pruned`);
  assert.match(String(prunes[0]!.detail), new RegExp(`^${old.length} row\\(s\\) older than`));
  const kept = new Map(after.audit.map((row) => [row.id, row]));
  for (const row of before.audit) {
    if (String(row.at) < cutoff) assert.ok(!kept.has(row.id), `audit row ${row.id} (${row.at}) pruned`);
    else assert.deepEqual(kept.get(row.id), row, `audit row ${row.id} (${row.at}) kept`);
  }
});

/** The portal's own account of its shutdown (serve.ts logs each step's time). */
function shutdownSteps(log: string): string {
  return (
    [...log.matchAll(/"msg":"Shutdown: ([^"]+)"/g)].map((match) => match[1]).join(', ') || 'no shutdown steps logged'
  );
}
