// Admin commands: `npm run admin -- <command> [options]`. Each runs against DATA_DIR.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AdminError, createAdmin, resetAdminPassword } from './accounts/admins.js';
import { BackupError, createBackup, restoreBackup } from './backup/archive.js';
import { openDataDir } from './bootstrap.js';
import { loadConfig } from './config.js';
import { adminsRepository } from './db/admins.js';
import { auditRepository } from './db/audit.js';
import { certificatesRepository } from './db/certificates.js';
import { serverCertificatesRepository } from './db/server-certificates.js';
import { importCa, loadOrCreateCa } from './enroll/ca-store.js';
import { issueBrokerCertificate } from './enroll/server-cert.js';
import { writeFileAtomic } from './files.js';
import { StartupError } from './errors.js';
import { readSecret } from './cli/prompt.js';

const USAGE = `Usage: npm run admin -- <command>

Commands:
  create-admin NAME      create an admin; the password is prompted for, or read from stdin
  reset-password NAME    set a new password for an admin (also clears its sign-in back-off)
  import-ca --cert ca.crt --key ca.key [--passphrase-file F] [--force]
                         adopt an existing broker CA (e.g. from generate-CA.sh) as this portal's CA
  server-cert --host NAME [--host NAME ...] [--ip ADDRESS ...] [--days N] --out DIR
                         write the broker's TLS key (0600) and certificate, signed by the CA
  backup --out FILE      write a backup archive (database, CA, manifest); works while the portal runs
  restore FILE --data-dir DIR [--force]
                         check an archive and restore it into DIR (which must be empty unless --force)
`;

type Command = (args: string[]) => Promise<string>;

async function readNewPassword(): Promise<string> {
  const password = await readSecret('Password (at least 12 characters): ');
  if (process.stdin.isTTY && (await readSecret('Repeat the password: ')) !== password) {
    throw new AdminError('The passwords do not match');
  }
  return password;
}

type Accounts = { admins: ReturnType<typeof adminsRepository>; audit: ReturnType<typeof auditRepository> };

async function withAccounts<T>(run: (accounts: Accounts) => Promise<T>): Promise<T> {
  const db = openDataDir(loadConfig());
  try {
    return await run({ admins: adminsRepository(db), audit: auditRepository(db) });
  } finally {
    db.close();
  }
}

function nameArgument(args: string[], command: string): string {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals.length !== 1) throw new AdminError(`${command} takes one admin name\n\n${USAGE}`);
  return positionals[0]!;
}

const commands: Record<string, Command> = {
  'import-ca': importCaCommand,
  backup: backupCommand,
  restore: restoreCommand,
  'server-cert': serverCertCommand,
  'create-admin': async (args) => {
    const name = nameArgument(args, 'create-admin');
    const password = await readNewPassword();
    return withAccounts(async ({ admins, audit }) => {
      const created = await createAdmin(admins, name, password, new Date());
      audit.record({ actor: 'cli', action: 'admin-created', subject: created, outcome: 'success' }, new Date());
      return `Admin ${created} created.`;
    });
  },
  'reset-password': async (args) => {
    const name = nameArgument(args, 'reset-password');
    const password = await readNewPassword();
    return withAccounts(async ({ admins, audit }) => {
      await resetAdminPassword(admins, name, password);
      audit.record({ actor: 'cli', action: 'password-reset', subject: name, outcome: 'success' }, new Date());
      return `Password of ${name} changed.`;
    });
  },
};

async function importCaCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      cert: { type: 'string' },
      key: { type: 'string' },
      'passphrase-file': { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  if (!values.cert || !values.key) throw new AdminError(`import-ca needs --cert and --key\n\n${USAGE}`);
  const config = loadConfig();
  const db = openDataDir(config);
  try {
    const issued = certificatesRepository(db).count();
    if (issued > 0 && !values.force) {
      throw new AdminError(
        `This portal's CA already signed ${issued} certificate(s); importing another CA would orphan them. Add --force to replace it anyway.`,
      );
    }
    const ca = importCa(config.dataDir, {
      certPem: readInput(values.cert, 'certificate'),
      keyPem: readInput(values.key, 'key'),
      importPassphrase: values['passphrase-file']
        ? readInput(values['passphrase-file'], 'passphrase file').replace(/\r?\n$/, '')
        : undefined,
      storePassphrase: config.caKeyPassphrase,
      now: new Date(),
    });
    auditRepository(db).record(
      {
        actor: 'cli',
        action: 'import-ca',
        subject: ca.x509.subject.replace(/\n/g, ', '),
        outcome: 'success',
        detail: `serial ${ca.x509.serialNumber}`,
      },
      new Date(),
    );
    const encrypted = config.caKeyPassphrase
      ? 'encrypted with CA_KEY_PASSPHRASE'
      : 'unencrypted: set CA_KEY_PASSPHRASE to encrypt it';
    return `Imported CA "${ca.x509.subject.replace(/\n/g, ', ')}" into ${config.dataDir} (key ${encrypted}). Restart the portal to use it.`;
  } finally {
    db.close();
  }
}

async function serverCertCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', multiple: true },
      ip: { type: 'string', multiple: true },
      days: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.out) throw new AdminError(`server-cert needs --out DIR\n\n${USAGE}`);
  const config = loadConfig();
  const db = openDataDir(config);
  try {
    const { ca } = await loadOrCreateCa(config.dataDir, {
      commonName: config.caCommonName,
      passphrase: config.caKeyPassphrase,
      now: new Date(),
    });
    const days = values.days === undefined ? undefined : Number(values.days);
    if (days !== undefined && !Number.isInteger(days)) throw new AdminError('--days takes a whole number');
    let issued;
    try {
      issued = await issueBrokerCertificate(
        {
          db,
          ca,
          serverCertificates: serverCertificatesRepository(db),
          audit: auditRepository(db),
          now: () => new Date(),
        },
        { hosts: values.host ?? [], ips: values.ip ?? [], days },
        { name: 'cli' },
      );
    } catch (error) {
      if (error instanceof RangeError) throw new AdminError(error.message);
      throw error;
    }
    mkdirSync(values.out, { recursive: true });
    writeFileAtomic(path.join(values.out, 'server.key'), issued.keyPem, 0o600);
    writeFileAtomic(path.join(values.out, 'server.crt'), issued.certPem, 0o644);
    writeFileAtomic(path.join(values.out, 'ca.crt'), ca.certPem, 0o644);
    return `Wrote server.key (0600), server.crt (valid until ${issued.notAfter.toISOString().slice(0, 10)}, serial ${issued.serial}) and ca.crt to ${values.out}.`;
  } finally {
    db.close();
  }
}

async function backupCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (!values.out) throw new AdminError(`backup needs --out FILE\n\n${USAGE}`);
  const config = loadConfig();
  const db = openDataDir(config);
  try {
    const result = await createBackup(db, config.dataDir, path.resolve(values.out), new Date());
    auditRepository(db).record(
      {
        actor: 'cli',
        action: 'backup',
        subject: path.basename(result.file),
        outcome: 'success',
        detail: `${result.size} bytes`,
      },
      new Date(),
    );
    const { counts } = result.manifest;
    const warning = result.manifest.caKeyEncrypted
      ? ''
      : '\nWARNING: the archive holds the CA key UNENCRYPTED (no CA_KEY_PASSPHRASE is set). Anyone with this file can issue certificates your broker trusts: keep it like the key itself (mode 0600 set).';
    return `Wrote ${result.file} (${result.size} bytes): ${counts.certificates} certificates (${counts.revoked} revoked), ${counts.users} users, ${counts.admins} admins.${warning}`;
  } finally {
    db.close();
  }
}

async function restoreCommand(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, force: { type: 'boolean' } },
  });
  if (positionals.length !== 1 || !values['data-dir'])
    throw new AdminError(`restore takes FILE and --data-dir DIR\n\n${USAGE}`);
  const target = path.resolve(values['data-dir']);
  try {
    const manifest = await restoreBackup(path.resolve(positionals[0]!), target, { force: values.force ?? false });
    return `Restored the backup of ${manifest.createdAt} into ${target}: ${manifest.counts.certificates} certificates, ${manifest.counts.admins} admins. Start the portal with DATA_DIR=${target}; it rebuilds the CRL at start.`;
  } catch (error) {
    if (error instanceof BackupError) throw new AdminError(error.message);
    throw error;
  }
}

function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new AdminError(`Cannot read the ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function describe(error: unknown): string {
  if (error instanceof StartupError || error instanceof AdminError) return error.message;
  if (error instanceof Error && error.name === 'ZodError') {
    return (error as Error & { issues: Array<{ message: string }> }).issues.map((issue) => issue.message).join('; ');
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    const unknown = name !== undefined && name !== 'help';
    process.stderr.write(unknown ? `Unknown command: ${name}\n\n${USAGE}` : USAGE);
    return unknown ? 2 : 0;
  }
  process.stdout.write(`${await command(args)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${describe(error)}\n`);
    process.exit(1);
  },
);
