// Backup archives: a consistent online copy of the database (checked with integrity_check), the
// CA exactly as stored, and a manifest with the SHA-256 of each member, in one .tar.gz.
// An archive restores the portal, not anyone's sign-in: the copy holds no session and no secret
// that signs session cookies (with both, anyone holding an archive could forge an admin's cookie).
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import type { Db } from '../db/database.js';
import { checkSchema, dataFiles, migrateToCurrent, replacedPlaces, type DataFiles } from '../data-dir.js';
import { carryRevocations, type Carried } from './carry.js';
import { cancelUsableLinks } from './pickup-links.js';
import { StartupError } from '../errors.js';
import {
  aside,
  finishInterruptedReplace,
  replaceFilesTogether,
  writeFileAtomic,
  writeFileAtomicWith,
} from '../files.js';
import { isEncryptedKeyPem } from '../pki/ca.js';

const BACKUP_FORMAT = 'owntracks-enroll-backup';
const BACKUP_VERSION = 1;
const MEMBERS = ['enroll.db', 'ca.crt', 'ca.key'] as const;
/** Where each member lives in DATA_DIR, and its mode there. */
const PLACES: Record<(typeof MEMBERS)[number], { file: (files: DataFiles) => string; mode: number }> = {
  'enroll.db': { file: (files) => files.database, mode: 0o600 },
  'ca.crt': { file: (files) => files.caCert, mode: 0o644 },
  'ca.key': { file: (files) => files.caKey, mode: 0o600 },
};

/** An archive that cannot be made or restored: the admin command stops with this one line. */
export class BackupError extends StartupError {
  override name = 'BackupError';
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  caKeyEncrypted: boolean;
  counts: { admins: number; users: number; certificates: number; revoked: number };
  files: Array<{ name: string; size: number; sha256: string }>;
}

/**
 * Removes from a database copy what would let its holder act as a signed-in admin: the sessions
 * and the secrets that sign their cookies and the known-device cookies that jump the sign-in queue
 * (the portal makes new ones when it has none). VACUUM
 * rebuilds the file, so the deleted rows are not left behind in free pages; the copy leaves WAL
 * mode so that it is one self-contained file.
 */
function withoutSignIns(copy: Database.Database): void {
  copy.pragma('journal_mode = DELETE');
  copy.transaction(() => {
    copy.prepare('DELETE FROM sessions').run();
    copy.prepare("DELETE FROM settings WHERE key IN ('session_secret', 'known_device_secret')").run();
  })();
  copy.exec('VACUUM');
}

/** SHA-256 of a file, streamed: a database can be larger than what is sensible to hold in memory. */
async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export interface BackupResult {
  file: string;
  size: number;
  manifest: Manifest;
}

/** Writes a backup archive of DATA_DIR to `out` (mode 0600, written atomically). Works while the portal runs. */
export async function createBackup(db: Db, dataDir: string, out: string, now: Date): Promise<BackupResult> {
  const staging = mkdtempSync(path.join(tmpdir(), 'enroll-backup-'));
  try {
    const dbCopy = path.join(staging, 'enroll.db');
    await db.backup(dbCopy); // SQLite's online backup: a consistent snapshot, writers keep going
    const copy = new Database(dbCopy);
    let counts: Manifest['counts'];
    try {
      withoutSignIns(copy);
      const integrity = copy.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok')
        throw new BackupError(`The database copy failed its integrity check: ${String(integrity)}`);
      const one = (sql: string) => copy.prepare(sql).pluck().get() as number;
      counts = {
        admins: one('SELECT count(*) FROM admins'),
        users: one('SELECT count(*) FROM users'),
        certificates: one('SELECT count(*) FROM certificates'),
        revoked: one("SELECT count(*) FROM certificates WHERE status = 'revoked'"),
      };
    } finally {
      copy.close();
    }
    const files = dataFiles(dataDir);
    copyFileSync(files.caCert, path.join(staging, 'ca.crt'));
    copyFileSync(files.caKey, path.join(staging, 'ca.key'));
    // Each member carries the mode it has in DATA_DIR: what `tar -x` by hand gives back.
    for (const name of MEMBERS) chmodSync(path.join(staging, name), PLACES[name].mode);
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: now.toISOString(),
      caKeyEncrypted: isEncryptedKeyPem(readFileSync(path.join(staging, 'ca.key'), 'utf8')),
      counts,
      files: await Promise.all(
        MEMBERS.map(async (name) => ({
          name,
          size: statSync(path.join(staging, name)).size,
          sha256: await sha256(path.join(staging, name)),
        })),
      ),
    };
    writeFileAtomic(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
    // Packed straight into place (atomically, mode 0600): the archive holds the CA key.
    await writeFileAtomicWith(out, 0o600, async (temporary) => {
      await tar.create({ gzip: true, file: temporary, cwd: staging, portable: true }, ['manifest.json', ...MEMBERS]);
    });
    return { file: out, size: statSync(out).size, manifest };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Unpacks an archive into a temporary folder and checks it against its manifest. */
async function verifyBackup(file: string): Promise<{ dir: string; manifest: Manifest }> {
  if (!existsSync(file)) throw new BackupError(`No such file: ${file}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'enroll-restore-'));
  try {
    const entries: string[] = [];
    try {
      await tar.extract({ file, cwd: dir, strict: true, onReadEntry: (entry) => void entries.push(entry.path) });
    } catch (error) {
      throw new BackupError(`The archive is damaged or not a backup (${(error as Error).message})`);
    }
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      throw new BackupError('The archive has no readable manifest.json: not a backup of this portal');
    }
    if (manifest.format !== BACKUP_FORMAT || manifest.version !== BACKUP_VERSION) {
      throw new BackupError(`Unknown backup format ${manifest.format} version ${manifest.version}`);
    }
    const expected = ['manifest.json', ...MEMBERS].sort();
    if (JSON.stringify([...entries].sort()) !== JSON.stringify(expected)) {
      throw new BackupError(`The archive holds ${entries.sort().join(', ')}; expected ${expected.join(', ')}`);
    }
    for (const name of MEMBERS) {
      const listed = manifest.files.find((f) => f.name === name);
      if (!listed || (await sha256(path.join(dir, name))) !== listed.sha256) {
        throw new BackupError(`${name} does not match the SHA-256 in the manifest: the archive is damaged`);
      }
    }
    return { dir, manifest };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Restores an archive into `dataDir`; refuses a folder that holds anything unless `force`. A folder
 * with a CRL of the archive's CA keeps it, and the restored database takes over what it revoked
 * after the backup (carry.ts): `carried` says what that was. Pickup links that could still mint
 * are cancelled (pickup-links.ts): `cancelledInvitations` counts them.
 */
export async function restoreBackup(
  file: string,
  dataDir: string,
  options: { force: boolean },
): Promise<Manifest & { carried?: Carried | undefined; cancelledInvitations: number; admins: string[] }> {
  const { dir, manifest } = await verifyBackup(file);
  try {
    if (existsSync(dataDir) && !statSync(dataDir).isDirectory())
      throw new BackupError(`${dataDir} is a file, not a folder: give the data folder to restore into`);
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0 && !options.force) {
      throw new BackupError(
        `${dataDir} is not empty; restore into an empty folder, or add --force to replace its database and CA`,
      );
    }
    const files = dataFiles(dataDir);
    // A restore of this folder that a crash stopped halfway is finished first, so that its files
    // moved aside are not taken for the current ones (this restore replaces them anyway); old files
    // left aside with no journal (a crash while a failed swap was undone) go too: the start refuses
    // to run beside them and tells the admin to restore again, which is this.
    finishInterruptedReplace(files.replaceJournal);
    for (const file of replacedPlaces(files)) rmSync(aside(file), { recursive: true, force: true });
    let carried: Carried | undefined;
    let cancelledInvitations = 0;
    let admins: string[] = [];
    const restored = new Database(path.join(dir, 'enroll.db'));
    try {
      // A newer portal's database would not start here: refused before anything is replaced.
      try {
        checkSchema(restored);
      } catch (error) {
        throw new BackupError(
          `This backup comes from a newer version of the portal, or one whose migrations differ (${(error as Error).message}): restore it with that version`,
        );
      }
      // Archives of earlier versions hold sessions and the session secret: a restore makes a new one.
      withoutSignIns(restored);
      // The result is a folder of this version, whatever the archive's: migrated here as the portal's
      // start would (to run an earlier version on an archive of its own, restore with that version).
      migrateToCurrent(restored);
      // A link redeemed after the backup would be open again in it.
      cancelledInvitations = cancelUsableLinks(restored, new Date());
      // Admins come back as they were at the backup: the command names those who can sign in.
      admins = restored
        .prepare('SELECT username FROM admins WHERE disabled_at IS NULL ORDER BY username')
        .pluck()
        .all() as string[];
      // The folder's CRL, when the archive's CA signed it: revocations made after the backup survive,
      // and the file stays where the broker reads it until the portal's first start publishes anew.
      if (existsSync(files.crl))
        carried = carryRevocations(
          restored,
          readFileSync(files.crl, 'utf8'),
          readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
          new Date(),
        );
    } finally {
      restored.close();
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    // The three members go in together, or not at all (a failure puts the old ones back). A replaced
    // database must not meet the old one's write-ahead log; another CA's CRL is of no use.
    replaceFilesTogether(
      MEMBERS.map((name) => {
        const { file, mode } = PLACES[name];
        return { file: file(files), mode, write: (temporary: string) => copyFileSync(path.join(dir, name), temporary) };
      }),
      [`${files.database}-wal`, `${files.database}-shm`, ...(carried ? [] : [files.crl])],
      { journal: files.replaceJournal },
    );
    return { ...manifest, carried, cancelledInvitations, admins };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
