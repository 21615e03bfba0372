// A data folder as release 0.1.0 (migrations 001-003) leaves it, made at test time so that no binary
// is committed: enroll.db with certificates in every state, sessions, settings and an unpruned audit
// log, the CA (ca.crt, ca.key) and the CRL it last published (crl.pem).
// It must keep describing 0.1.0 after later releases change the schema and the code, so it calls none
// of the portal's repositories, migration runner or PKI code: the frozen migration files are applied by
// the runner's rules (with their checksums pinned here), rows are written with raw SQL and fixed
// values, certificates are built with node-forge and signed with node:crypto, and the CRL is made by
// `openssl ca -gencrl`. Only dates move: they are offsets from `now`, so "active" stays active.
// Deliberate shortcuts, for speed: the CA key is RSA 2048 (0.1.0 makes 4096-bit CAs, and imports
// smaller ones), and every leaf certificate carries the same public key.
// CLI: `node --import tsx server/testing/release-fixture.ts <empty or new folder>`.
import { execFile } from 'node:child_process';
import {
  createHash,
  createHmac,
  createPublicKey,
  generateKeyPair,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import forge from 'node-forge';

export const RELEASE_VERSION = '0.1.0';

/** The migrations 0.1.0 shipped, as its runner recorded them. They are never edited once landed. */
const RELEASE_MIGRATIONS = [
  { version: 1, name: 'initial', sha256: '73c90f34879c7e13d7dbae21ec06a640bc359c0e83f2893daae69a5d46bf3e7f' },
  { version: 2, name: 'crl', sha256: '4af987b220a328678f19b7be57efca1992f67bc434bd11a22990c893aa169c2e' },
  {
    version: 3,
    name: 'server_certificates',
    sha256: '53feeb889769138d235323e0181d49385cc9f1177e4985122f8f0e13a56ff9d3',
  },
] as const;

/** The owner's password; its hash below was made once by 0.1.0's hashPassword (scrypt, N = 2^17). */
const RELEASE_ADMIN = { username: 'owner', password: 'owner signs in after the upgrade' } as const;
const OWNER_HASH = 'scrypt$17$8$1$JvhNreTlBnBhOdnqFSilww==$JBCHO7fVMnkiNa0F9h2YYSYkqiFCIpsCHecYHtcpp+E=';
const ROBIN_HASH = 'scrypt$17$8$1$Lx5N9EWBG0yISeVzFKZ5kg==$OaH4IvR++h6cjk21zmV+oTcTgjBxNoFNC/Fp/Pa4ydM=';

const SESSION_SECRET = '5e55105ec7e70f0a1ebe1ea5e0010000f1c7a9e5e55105ec7e70f0a1ebe1ea5e';
const SESSION_COOKIE = 'enroll_session';
const SESSION_IDLE_MS = 30 * 60_000;
const LIVE_SESSION_ID = 'Rel010LiveOwnerSession0000000000';
const EXPIRED_SESSION_ID = 'Rel010ExpiredRobinSession0000000';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const MINUTE = 60_000;
const DAY = 86400_000;
/** The release was installed (first start: CA made, first admin set up) this long ago. */
const INSTALLED_DAYS_AGO = 1000;
const CA_COMMON_NAME = 'OwnTracks Enroll CA';

type Reason = 'unspecified' | 'keyCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation';
interface Revocation {
  daysAgo: number;
  reason: Reason;
  by: string;
}

interface ClientSpec {
  label: string;
  username: string;
  email: string;
  device: string | null;
  issuedDaysAgo: number;
  days: number;
  issuedBy: string;
  format?: 'compatible' | 'modern';
  delivery: 'pending' | 'sent' | 'failed';
  deliveryError?: string;
  revoked?: Revocation;
}

const MAIL_REJECTED = 'EENVELOPE: 550 5.1.1 <carol@example.org>: Recipient address rejected: User unknown';

/** A client certificate's row; by default mailed (`sent`) to `<username>@example.org`, issued by the owner. */
function client(
  label: string,
  username: string,
  device: string | null,
  issuedDaysAgo: number,
  days: number,
  more: Partial<Pick<ClientSpec, 'email' | 'issuedBy' | 'format' | 'delivery' | 'deliveryError' | 'revoked'>> = {},
): ClientSpec {
  const defaults = { email: `${username}@example.org`, issuedBy: 'owner', delivery: 'sent' as const };
  return { label, username, device, issuedDaysAgo, days, ...defaults, ...more };
}
const revoked = (daysAgo: number, reason: Reason, by = 'owner'): Revocation => ({ daysAgo, reason, by });

/** One certificate per state 0.1.0 can leave behind, in the order issued. Users exist only through them. */
const CLIENTS: ClientSpec[] = [
  // Expired long ago, never revoked: not in the CRL.
  client('bob-phone-2', 'bob', 'phone', 800, 365, { email: 'bob@old.example.org' }),
  // A renewal's predecessor, revoked as superseded a minute after its successor (alice-tablet-2) went out.
  client('alice-tablet-1', 'alice', 'tablet', 400, 730, { revoked: revoked(20 - 1 / 1440, 'superseded') }),
  // Expired five days ago, still "active" in the table: expired is derived, never stored.
  client('bob-phone-1', 'bob', 'phone', 399, 394, { email: 'bob@old.example.org' }),
  // Revoked, then expired three days ago: still listed in the CRL.
  client('grace-watch', 'grace', 'watch', 368, 365, { revoked: revoked(40, 'keyCompromise') }),
  client('frank-phone', 'frank', 'phone', 300, 365, {
    issuedBy: 'robin',
    revoked: revoked(100, 'cessationOfOperation', 'robin'),
  }),
  // No device, and issued to bob's new address (an email change).
  client('bob', 'bob', null, 200, 365, { revoked: revoked(60, 'keyCompromise') }),
  client('erin-laptop', 'erin', 'laptop', 150, 365, { revoked: revoked(45, 'affiliationChanged') }),
  client('alice-phone', 'alice', 'phone', 120, 365),
  client('erin-phone', 'erin', 'phone', 90, 365, { format: 'modern', revoked: revoked(30, 'unspecified') }),
  // Two active certificates for one (person, device): 0.1.0 did not prevent it.
  client('grace-phone-1', 'grace', 'phone', 50, 365, { issuedBy: 'robin' }),
  client('grace-phone-2', 'grace', 'phone', 49, 365),
  client('heidi', 'heidi', null, 30, 1825, { email: 'heidi+owntracks@example.org', format: 'modern' }),
  client('alice-tablet-2', 'alice', 'tablet', 20, 730),
  // The mail server refused it: failed, and revoked at once by the system.
  client('carol-phone', 'carol', 'phone', 3, 365, {
    delivery: 'failed',
    deliveryError: MAIL_REJECTED,
    revoked: revoked(3 - 1 / 86400, 'cessationOfOperation', 'system'),
  }),
  // The portal stopped between recording these two and mailing them: still pending.
  client('dave-phone', 'dave', 'phone', 10 / 1440, 365, { delivery: 'pending' }),
  client('dave-tablet', 'dave', 'tablet', 10 / 1440 - 1 / 86400, 365, { delivery: 'pending' }),
];

interface ServerSpec {
  label: string;
  hosts: string[];
  ips: string[];
  issuedDaysAgo: number;
  days: number;
  revoked?: Revocation;
}

const SERVERS: ServerSpec[] = [
  {
    label: 'server-old',
    hosts: ['mqtt.example.org'],
    ips: [],
    issuedDaysAgo: 700,
    days: 825,
    revoked: revoked(100, 'superseded', 'cli'),
  },
  {
    label: 'server-lan',
    hosts: ['broker.lan'],
    ips: ['10.0.0.2'],
    issuedDaysAgo: 600,
    days: 825,
    revoked: revoked(400, 'cessationOfOperation', 'cli'),
  },
  { label: 'server', hosts: ['mqtt.example.org'], ips: ['192.0.2.10'], issuedDaysAgo: 100, days: 825 },
];

export interface ReleaseFixture {
  dataDir: string;
  admin: { username: string; password: string };
  /** A `Cookie` header for the owner's session that was live when the release stopped. */
  liveSessionCookie: string;
  /** The CRL number of crl.pem (and of the `crl_number` setting). */
  crlNumber: number;
}

/** Serial numbers as 0.1.0 makes them (16 bytes, first byte 0x01-0x7f), but fixed. */
function fixedSerial(label: string): string {
  const bytes = createHash('sha256').update(`release ${RELEASE_VERSION} ${label}`).digest().subarray(0, 16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

function rsaKey(bits: number): Promise<KeyObject> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: bits }, (error, _publicKey, privateKey) =>
      error ? reject(error) : resolve(privateKey),
    ),
  );
}

const wholeSeconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

interface Signed {
  pem: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** 0.1.0's way: a forge certificate whose TBS is signed natively with SHA-256 and RSA. */
function signCertificate(request: {
  serial: string;
  subject: forge.pki.CertificateField[];
  issuer: forge.pki.CertificateField[];
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: object[];
  signingKey: KeyObject;
}): Signed {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = request.serial;
  cert.publicKey = forge.pki.publicKeyFromPem(
    createPublicKey(request.publicKey).export({ type: 'spki', format: 'pem' }) as string,
  );
  cert.validity.notBefore = wholeSeconds(request.notBefore);
  cert.validity.notAfter = wholeSeconds(request.notAfter);
  cert.setSubject(request.subject);
  cert.setIssuer(request.issuer);
  cert.setExtensions(request.extensions);
  const sha256WithRSA = forge.pki.oids.sha256WithRSAEncryption!;
  cert.signatureOid = sha256WithRSA;
  cert.siginfo.algorithmOid = sha256WithRSA;
  const tbs = (
    forge.pki as typeof forge.pki & { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  cert.signature = sign('sha256', Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'), request.signingKey).toString(
    'binary',
  );
  (cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return {
    pem: new X509Certificate(der).toString(),
    fingerprint: createHash('sha256').update(der).digest('hex').match(/../g)!.join(':'),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
  };
}

/** Time in an openssl `index.txt` or `-crl_*update` argument. */
function opensslTime(date: Date): string {
  const digits = date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}/, ''); // 20261127120005Z
  return date.getUTCFullYear() < 2050 ? digits.slice(2) : digits;
}

/** Applies the frozen migrations by 0.1.0's runner rules: one transaction each, with its bookkeeping row. */
function applyReleaseMigrations(db: Database.Database, appliedAt: Date): void {
  const files = readdirSync(MIGRATIONS_DIR);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)');
  for (const migration of RELEASE_MIGRATIONS) {
    const file = `${String(migration.version).padStart(3, '0')}_${migration.name}.sql`;
    if (!files.includes(file)) throw new Error(`${file} is missing: migrations are never removed once landed`);
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    const sha256 = createHash('sha256').update(sql).digest('hex');
    if (sha256 !== migration.sha256) throw new Error(`${file} was edited after it landed (sha256 ${sha256})`);
    db.transaction(() => {
      db.exec(sql);
      record.run(
        migration.version,
        migration.name,
        sha256,
        new Date(appliedAt.getTime() + migration.version).toISOString(),
      );
    })();
  }
}

interface AuditEvent {
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  outcome: 'success' | 'failure';
  detail: string | null;
  ip: string | null;
  /** crl-publish rows get their number and entry count once all events are in time order. */
  crlCause?: string;
}

/**
 * Writes release 0.1.0's data folder into `dir` (created if needed; must not hold a database yet).
 * `now` is when the release stopped; every date in the folder is a fixed offset from it.
 */
export async function makeReleaseDataDir(dir: string, now = new Date()): Promise<ReleaseFixture> {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  if (existsSync(path.join(dir, 'enroll.db'))) throw new Error(`${dir} already holds enroll.db`);
  const ago = (days: number) => new Date(now.getTime() - days * DAY);
  const installed = ago(INSTALLED_DAYS_AGO);

  // RSA 2048 for the CA (0.1.0 makes 4096-bit ones but imports others, e.g. generate-CA.sh's): a
  // 4096-bit key takes seconds to make on a busy machine. One key serves every leaf.
  const [caKey, leafKey] = await Promise.all([rsaKey(2048), rsaKey(2048)]);
  const caSubject = [
    { shortName: 'CN', value: CA_COMMON_NAME, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ];
  const caNotAfter = new Date(installed);
  caNotAfter.setUTCFullYear(caNotAfter.getUTCFullYear() + 10);
  const ca = signCertificate({
    serial: fixedSerial('ca'),
    subject: caSubject,
    issuer: caSubject,
    publicKey: caKey,
    notBefore: new Date(installed.getTime() - 5 * MINUTE),
    notAfter: caNotAfter,
    signingKey: caKey,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
  const caKeyId = (
    forge.pki.certificateFromPem(ca.pem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }
  ).subjectKeyIdentifier;
  writeFileSync(path.join(dir, 'ca.key'), caKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(path.join(dir, 'ca.crt'), ca.pem, { mode: 0o644 });

  const leaf = (serial: string, commonName: string, issued: Date, days: number, usage: object[]) =>
    signCertificate({
      serial,
      subject: [{ shortName: 'CN', value: commonName }],
      issuer: caSubject,
      publicKey: leafKey,
      notBefore: new Date(issued.getTime() - 5 * MINUTE),
      notAfter: new Date(issued.getTime() + days * DAY),
      signingKey: caKey,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        ...usage,
        { name: 'subjectKeyIdentifier' },
        { name: 'authorityKeyIdentifier', keyIdentifier: Buffer.from(caKeyId, 'hex').toString('binary') },
      ],
    });

  const events: AuditEvent[] = [];
  const event = (at: Date, entry: Omit<AuditEvent, 'at' | 'subject' | 'detail' | 'ip'> & Partial<AuditEvent>) =>
    events.push({ subject: null, detail: null, ip: null, ...entry, at });
  const publish = (at: Date, actor: string, cause: string) =>
    event(at, { actor, action: 'crl-publish', outcome: 'success', crlCause: cause });
  const OWNER_IP = '192.0.2.1';
  const ROBIN_IP = '2001:db8::7';

  // Installation: first start (CA made, first CRL), then the owner through the setup link.
  publish(installed, 'system', 'start');
  event(new Date(installed.getTime() + MINUTE), {
    actor: 'owner',
    action: 'admin-created',
    subject: 'owner',
    outcome: 'success',
    detail: 'setup link',
    ip: OWNER_IP,
  });
  const robinCreated = ago(500);
  event(robinCreated, { actor: 'cli', action: 'admin-created', subject: 'robin', outcome: 'success' });

  // Everyday life: sign-ins (some failing), sign-outs, daily CRL renewals, weekly backups.
  for (let day = 1; day < INSTALLED_DAYS_AGO; day++) {
    const morning = new Date(installed.getTime() + day * DAY);
    publish(new Date(morning.getTime() + 3 * 3600_000), 'system', 'renewal');
    if (day % 2 === 0) {
      const at = new Date(morning.getTime() + 9 * 3600_000);
      if (day % 14 === 0)
        event(at, { actor: 'owner', action: 'sign-in', outcome: 'failure', detail: 'invalid', ip: '203.0.113.50' });
      event(new Date(at.getTime() + 20_000), { actor: 'owner', action: 'sign-in', outcome: 'success', ip: OWNER_IP });
      if (day % 4 === 0)
        event(new Date(at.getTime() + 15 * MINUTE), {
          actor: 'owner',
          action: 'sign-out',
          outcome: 'success',
          ip: OWNER_IP,
        });
    }
    if (day % 7 === 0) {
      const at = new Date(morning.getTime() + 4 * 3600_000);
      const name = `enroll-backup-${at
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')}.tar.gz`;
      event(at, {
        actor: 'system',
        action: 'backup',
        subject: name,
        outcome: 'success',
        detail: `${40_000 + day * 31} bytes`,
      });
    }
  }
  event(ago(3.5), { actor: 'admin', action: 'sign-in', outcome: 'failure', detail: 'invalid', ip: '198.51.100.23' });
  event(ago(3.2), { actor: 'robin', action: 'sign-in', outcome: 'success', ip: ROBIN_IP });

  const db = new Database(path.join(dir, 'enroll.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    applyReleaseMigrations(db, installed);

    const insertAdmin = db.prepare(
      `INSERT INTO admins (id, username, password_hash, failed_logins, last_failed_at, created_at, last_login_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertUser = db.prepare(
      'INSERT INTO users (id, username, email, name, created_at) VALUES (?, ?, ?, NULL, ?)',
    );
    const updateEmail = db.prepare('UPDATE users SET email = ? WHERE id = ?');
    const insertCertificate = db.prepare(
      `INSERT INTO certificates (id, user_id, serial, device, fingerprint_sha256, pem, key_bits, not_before, not_after,
         bundle_format, status, delivery, delivery_error, issued_by, issued_at, revoked_at, revocation_reason,
         revoked_by)
       VALUES (@id, @user_id, @serial, @device, @fingerprint_sha256, @pem, 2048, @not_before, @not_after,
         @bundle_format, @status, @delivery, @delivery_error, @issued_by, @issued_at, @revoked_at, @revocation_reason,
         @revoked_by)`,
    );
    const insertServer = db.prepare(
      `INSERT INTO server_certificates (id, serial, names, fingerprint_sha256, pem, not_before, not_after, issued_by,
         issued_at, status, revoked_at, revocation_reason, revoked_by)
       VALUES (@id, @serial, @names, @fingerprint_sha256, @pem, @not_before, @not_after, 'cli', @issued_at, @status,
         @revoked_at, @revocation_reason, @revoked_by)`,
    );
    const insertSession = db.prepare('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)');
    const insertSetting = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    const insertAudit = db.prepare(
      `INSERT INTO audit_log (at, actor, action, subject, outcome, detail, ip)
       VALUES (@at, @actor, @action, @subject, @outcome, @detail, @ip)`,
    );

    // Every revocation, client and server, with its time: what each CRL held.
    const revocations: Array<{ serial: string; at: Date; reason: Reason; notAfter: Date }> = [];

    const sessionSignedIn = new Date(now.getTime() - 50 * MINUTE);
    const sessionSeen = new Date(now.getTime() - 2 * MINUTE);

    db.transaction(() => {
      insertAdmin.run(
        1,
        'owner',
        OWNER_HASH,
        0,
        null,
        new Date(installed.getTime() + MINUTE).toISOString(),
        sessionSignedIn.toISOString(),
      );
      insertAdmin.run(
        2,
        'robin',
        ROBIN_HASH,
        2,
        ago(1 - 1 / 1440).toISOString(),
        robinCreated.toISOString(),
        ago(3.2).toISOString(),
      );
      event(sessionSignedIn, { actor: 'owner', action: 'sign-in', outcome: 'success', ip: OWNER_IP });
      event(ago(1), { actor: 'robin', action: 'sign-in', outcome: 'failure', detail: 'invalid', ip: ROBIN_IP });
      event(ago(1 - 1 / 1440), {
        actor: 'robin',
        action: 'sign-in',
        outcome: 'failure',
        detail: 'invalid',
        ip: ROBIN_IP,
      });

      const users = new Map<string, { id: number; email: string }>();
      CLIENTS.forEach((spec, index) => {
        const id = index + 1;
        const issued = ago(spec.issuedDaysAgo);
        const actorIp = spec.issuedBy === 'robin' ? ROBIN_IP : OWNER_IP;
        let user = users.get(spec.username);
        if (!user) {
          user = { id: users.size + 1, email: spec.email };
          users.set(spec.username, user);
          insertUser.run(user.id, spec.username, spec.email, issued.toISOString());
        } else if (user.email !== spec.email) {
          event(issued, {
            actor: spec.issuedBy,
            action: 'email-change',
            subject: `user:${spec.username}`,
            outcome: 'success',
            detail: `${user.email} → ${spec.email}`,
            ip: actorIp,
          });
          updateEmail.run(spec.email, user.id);
          user.email = spec.email;
        }
        const serial = fixedSerial(spec.label);
        const cert = leaf(serial, spec.username, issued, spec.days, [{ name: 'extKeyUsage', clientAuth: true }]);
        const format = spec.format ?? 'compatible';
        const revokedAt = spec.revoked ? ago(spec.revoked.daysAgo) : undefined;
        insertCertificate.run({
          id,
          user_id: user.id,
          serial,
          device: spec.device,
          fingerprint_sha256: cert.fingerprint,
          pem: cert.pem,
          not_before: cert.notBefore.toISOString(),
          not_after: cert.notAfter.toISOString(),
          bundle_format: format,
          status: spec.revoked ? 'revoked' : 'active',
          delivery: spec.delivery,
          delivery_error: spec.deliveryError ?? null,
          issued_by: spec.issuedBy,
          issued_at: issued.toISOString(),
          revoked_at: revokedAt?.toISOString() ?? null,
          revocation_reason: spec.revoked?.reason ?? null,
          revoked_by: spec.revoked?.by ?? null,
        });
        const subject = `certificate:${id}`;
        const device = spec.device ? ` (${spec.device})` : '';
        event(issued, {
          actor: spec.issuedBy,
          action: 'issue',
          subject,
          outcome: 'success',
          detail: `${spec.username}${device}, serial ${serial}, RSA 2048, ${format}, ${spec.days} days`,
          ip: actorIp,
        });
        const mailed = new Date(issued.getTime() + 120);
        if (spec.delivery === 'sent')
          event(mailed, {
            actor: spec.issuedBy,
            action: 'mail',
            subject,
            outcome: 'success',
            detail: `to ${spec.email}: 250 2.0.0 Ok: queued as ${serial.slice(0, 10).toUpperCase()}`,
            ip: actorIp,
          });
        if (spec.delivery === 'failed')
          event(mailed, {
            actor: spec.issuedBy,
            action: 'mail',
            subject,
            outcome: 'failure',
            detail: `to ${spec.email}: ${spec.deliveryError}`,
            ip: actorIp,
          });
        if (spec.revoked && revokedAt) {
          revocations.push({ serial, at: revokedAt, reason: spec.revoked.reason, notAfter: cert.notAfter });
          const detail =
            spec.delivery === 'failed'
              ? `${spec.username}, serial ${serial}: mail failed`
              : `${spec.username}, serial ${serial}, ${spec.revoked.reason}`;
          event(revokedAt, {
            actor: spec.revoked.by,
            action: 'revoke',
            subject,
            outcome: 'success',
            detail,
            ip: spec.revoked.by === 'system' ? null : actorIp,
          });
          publish(
            new Date(revokedAt.getTime() + 40),
            spec.revoked.by,
            spec.delivery === 'failed' ? `undelivered ${serial}` : `revoked ${serial}`,
          );
        }
      });

      SERVERS.forEach((spec, index) => {
        const id = index + 1;
        const issued = ago(spec.issuedDaysAgo);
        const serial = fixedSerial(spec.label);
        const cert = leaf(serial, spec.hosts[0] ?? spec.ips[0]!, issued, spec.days, [
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [...spec.hosts.map((value) => ({ type: 2, value })), ...spec.ips.map((ip) => ({ type: 7, ip }))],
          },
        ]);
        const names = [...spec.hosts, ...spec.ips].join(',');
        const revokedAt = spec.revoked ? ago(spec.revoked.daysAgo) : undefined;
        insertServer.run({
          id,
          serial,
          names,
          fingerprint_sha256: cert.fingerprint,
          pem: cert.pem,
          not_before: cert.notBefore.toISOString(),
          not_after: cert.notAfter.toISOString(),
          issued_at: issued.toISOString(),
          status: spec.revoked ? 'revoked' : 'active',
          revoked_at: revokedAt?.toISOString() ?? null,
          revocation_reason: spec.revoked?.reason ?? null,
          revoked_by: spec.revoked?.by ?? null,
        });
        const subject = `server-certificate:${id}`;
        event(issued, {
          actor: 'cli',
          action: 'server-cert',
          subject,
          outcome: 'success',
          detail: `${names}, serial ${serial}`,
        });
        if (spec.revoked && revokedAt) {
          revocations.push({ serial, at: revokedAt, reason: spec.revoked.reason, notAfter: cert.notAfter });
          event(revokedAt, {
            actor: 'cli',
            action: 'revoke',
            subject,
            outcome: 'success',
            detail: spec.revoked.reason,
          });
          publish(new Date(revokedAt.getTime() + 40), 'cli', `revoked server certificate ${id}`);
        }
      });

      // Sessions as @fastify/session and the sessions table keep them: the id in clear, JSON data.
      const sessionData = (admin: string, signedIn: Date, seen: Date, csrf: string) =>
        JSON.stringify({
          cookie: {
            expires: new Date(seen.getTime() + SESSION_IDLE_MS).toISOString(),
            originalMaxAge: SESSION_IDLE_MS,
            originalExpires: new Date(signedIn.getTime() + SESSION_IDLE_MS).toISOString(),
            sameSite: 'lax',
            secure: false,
            path: '/',
            httpOnly: true,
            domain: null,
          },
          admin,
          signedInAt: signedIn.getTime(),
          lastSeenAt: seen.getTime(),
          flash: {},
          _csrf: csrf,
        });
      insertSession.run(
        LIVE_SESSION_ID,
        sessionData('owner', sessionSignedIn, sessionSeen, 'i4m6yy63lUPLslT-ownerCsrf'),
        sessionSeen.getTime() + SESSION_IDLE_MS,
      );
      insertSession.run(
        EXPIRED_SESSION_ID,
        sessionData('robin', ago(3.2), ago(3.1), 'Qx0v7Ypd2mW-robinCsrfSec'),
        ago(3.1).getTime() + SESSION_IDLE_MS,
      );

      // The audit log in time order; each CRL publication numbered, with the entries it held.
      events.sort((a, b) => a.at.getTime() - b.at.getTime());
      let crlNumber = 0;
      for (const entry of events) {
        let detail = entry.detail;
        if (entry.crlCause) {
          crlNumber++;
          const held = revocations.filter((r) => r.at.getTime() <= entry.at.getTime()).length;
          detail = `CRL ${crlNumber} with ${held} entries (${entry.crlCause})`;
        }
        insertAudit.run({
          at: entry.at.toISOString(),
          actor: entry.actor,
          action: entry.action,
          subject: entry.subject,
          outcome: entry.outcome,
          detail,
          ip: entry.ip,
        });
      }
      const lastPublication = events.filter((entry) => entry.crlCause).at(-1)!.at;
      const lastBackup = events.filter((entry) => entry.action === 'backup').at(-1)!;
      insertSetting.run('session_secret', SESSION_SECRET);
      insertSetting.run('crl_number', String(crlNumber));
      insertSetting.run('crl_this_update', lastPublication.toISOString());
      insertSetting.run('crl_next_update', new Date(lastPublication.getTime() + 30 * DAY).toISOString());
      insertSetting.run(
        'backup_last',
        JSON.stringify({ at: lastBackup.at.toISOString(), outcome: 'success', file: lastBackup.subject, size: 70_969 }),
      );
    })();

    const settings = new Map(
      (db.prepare('SELECT key, value FROM settings').all() as Array<{ key: string; value: string }>).map((row) => [
        row.key,
        row.value,
      ]),
    );
    const crlNumber = Number(settings.get('crl_number'));
    const thisUpdate = new Date(settings.get('crl_this_update')!);
    await writeCrl(dir, revocations, crlNumber, thisUpdate);
    return {
      dataDir: dir,
      admin: { ...RELEASE_ADMIN },
      liveSessionCookie: `${SESSION_COOKIE}=${encodeURIComponent(signedCookie(LIVE_SESSION_ID, SESSION_SECRET))}`,
      crlNumber,
    };
  } finally {
    db.close();
  }
}

/** @fastify/cookie's signature: `<value>.<HMAC-SHA256, base64 without padding>`. */
function signedCookie(value: string, secret: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64').replace(/=/g, '')}`;
}

const OPENSSL_REASONS: Record<Reason, string | undefined> = {
  unspecified: undefined, // RFC 5280: no reasonCode rather than unspecified, as 0.1.0 wrote it
  keyCompromise: 'keyCompromise',
  affiliationChanged: 'affiliationChanged',
  superseded: 'superseded',
  cessationOfOperation: 'cessationOfOperation',
};

/** crl.pem as the last publication left it (signed by the CA, numbered, AKI, 30 days), by openssl. */
async function writeCrl(
  dataDir: string,
  revocations: Array<{ serial: string; at: Date; reason: Reason; notAfter: Date }>,
  crlNumber: number,
  thisUpdate: Date,
): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'enroll-release-crl-'));
  try {
    const index = revocations.map((r) => {
      const reason = OPENSSL_REASONS[r.reason];
      const when = `${opensslTime(r.at)}${reason ? `,${reason}` : ''}`;
      return ['R', opensslTime(r.notAfter), when, r.serial.toUpperCase(), 'unknown', '/CN=revoked'].join('\t');
    });
    writeFileSync(path.join(scratch, 'index.txt'), index.map((line) => `${line}\n`).join(''));
    writeFileSync(path.join(scratch, 'crlnumber'), `${crlNumber.toString(16).toUpperCase().padStart(4, '0')}\n`);
    writeFileSync(
      path.join(scratch, 'openssl.cnf'),
      [
        '[ca]',
        'default_ca = release',
        '[release]',
        `database = ${path.join(scratch, 'index.txt')}`,
        `crlnumber = ${path.join(scratch, 'crlnumber')}`,
        `certificate = ${path.join(dataDir, 'ca.crt')}`,
        `private_key = ${path.join(dataDir, 'ca.key')}`,
        'default_md = sha256',
        'unique_subject = no',
        'crl_extensions = crl_extensions',
        '[crl_extensions]',
        'authorityKeyIdentifier = keyid:always',
        '',
      ].join('\n'),
    );
    await promisify(execFile)('openssl', [
      'ca',
      '-batch',
      '-config',
      path.join(scratch, 'openssl.cnf'),
      '-gencrl',
      '-crl_lastupdate',
      opensslTime(new Date(thisUpdate.getTime() - 5 * MINUTE)),
      '-crl_nextupdate',
      opensslTime(new Date(thisUpdate.getTime() + 30 * DAY)),
      '-out',
      path.join(dataDir, 'crl.pem'),
    ]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node --import tsx server/testing/release-fixture.ts <folder>');
    process.exit(2);
  }
  const fixture = await makeReleaseDataDir(path.resolve(dir));
  console.log(
    `Release ${RELEASE_VERSION} data folder in ${fixture.dataDir} (CRL ${fixture.crlNumber}); ` +
      `sign in as ${fixture.admin.username} / ${fixture.admin.password}`,
  );
}
