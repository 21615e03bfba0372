// Admin commands: `npm run admin -- <command> [options]`. Each runs against DATA_DIR.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAccounts } from './accounts/accounts.js';
import { createBackup, restoreBackup } from './backup/archive.js';
import { loadConfig, type Config } from './config.js';
import { checkSchema, dataFiles, openDataDir } from './data-dir.js';
import { adminsRepository } from './db/admins.js';
import { auditedTransactions, auditRepository } from './db/audit.js';
import { certificatesRepository } from './db/certificates.js';
import type { Db } from './db/database.js';
import { settingsRepository } from './db/settings.js';
import { importCa, isCaKeyEncrypted, loadOrCreateCa } from './enroll/ca-store.js';
import { writeFileAtomic } from './files.js';
import { StartupError } from './errors.js';
import type { Invalid } from './outcome.js';
import { createServices } from './services.js';
import { readSecret } from './cli/prompt.js';

/** A command used the wrong way, or its input broke a rule: one line, exit status 1. */
class CommandError extends StartupError {
  override name = 'CommandError';
}

const USAGE = `Usage: npm run admin -- <command>

Commands:
  create-admin NAME      create an admin; the password is prompted for, or read from stdin
  reset-password NAME    set a new password for an admin (clears its sign-in back-off, ends its sessions)
  disable-admin NAME     stop an admin from signing in and end their sessions (not the last enabled admin)
  enable-admin NAME      let a disabled admin sign in again
  delete-admin NAME      remove an admin and end their sessions (not the last enabled admin)
  end-sessions [NAME]    sign out one admin everywhere, or every admin when no name is given
  prune-audit            delete audit rows older than AUDIT_RETENTION_DAYS (the portal also does it daily)
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
    throw new CommandError('The passwords do not match');
  }
  return password;
}

/**
 * Runs `work` against DATA_DIR's database, closed afterwards whatever happens; migrated first unless
 * `migrate: false`.
 */
async function withDatabase<T>(
  work: (db: Db, config: Config) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const config = loadConfig();
  const db = openDataDir(config.dataDir, options);
  try {
    return await work(db, config);
  } finally {
    db.close();
  }
}

function accountsOf(db: Db, config: Config) {
  const audit = auditRepository(db);
  return createAccounts({
    config,
    db,
    audit,
    admins: adminsRepository(db),
    settings: settingsRepository(db),
    audited: auditedTransactions(db, audit),
    now: () => new Date(),
    passwordCost: undefined,
  });
}

/** The rule an input broke, as the one line the command prints. */
const describeInvalid = (outcome: Invalid) => Object.values(outcome.issues).join('; ');

function nameArgument(args: string[], command: string): string {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals.length !== 1) throw new CommandError(`${command} takes one admin name\n\n${USAGE}`);
  return positionals[0]!;
}

const commands: Record<string, Command> = {
  'import-ca': importCaCommand,
  backup: backupCommand,
  restore: restoreCommand,
  'server-cert': serverCertCommand,
  'create-admin': async (args) => {
    const username = nameArgument(args, 'create-admin');
    const password = await readNewPassword();
    return withDatabase(async (db, config) => {
      const created = await accountsOf(db, config).createAdmin({ username, password }, { name: 'cli' });
      if (created.ok) return `Admin ${created.username} created.`;
      throw new CommandError(
        created.reason === 'exists' ? `Admin ${username.trim()} already exists` : describeInvalid(created),
      );
    });
  },
  'reset-password': async (args) => {
    const username = nameArgument(args, 'reset-password');
    const password = await readNewPassword();
    return withDatabase(async (db, config) => {
      const reset = await accountsOf(db, config).resetPassword({ username, password }, { name: 'cli' });
      if (reset.ok) return `Password of ${username} changed; ${reset.sessionsEnded} session(s) ended.`;
      throw new CommandError(reset.reason === 'unknown' ? `No admin named ${username}` : describeInvalid(reset));
    });
  },
  'disable-admin': async (args) => {
    const username = nameArgument(args, 'disable-admin');
    return withDatabase(async (db, config) => {
      const done = accountsOf(db, config).disableAdmin(username, { name: 'cli' });
      if (done.ok) return `Admin ${done.username} disabled; ${done.sessionsEnded} session(s) ended.`;
      throw new CommandError(adminChangeRefused(done.reason, username, 'disable'));
    });
  },
  'enable-admin': async (args) => {
    const username = nameArgument(args, 'enable-admin');
    return withDatabase(async (db, config) => {
      const done = accountsOf(db, config).enableAdmin(username, { name: 'cli' });
      if (done.ok) return `Admin ${done.username} enabled.`;
      throw new CommandError(`No admin named ${username}`);
    });
  },
  'delete-admin': async (args) => {
    const username = nameArgument(args, 'delete-admin');
    return withDatabase(async (db, config) => {
      const done = accountsOf(db, config).deleteAdmin(username, { name: 'cli' });
      if (done.ok) return `Admin ${done.username} deleted; ${done.sessionsEnded} session(s) ended.`;
      throw new CommandError(adminChangeRefused(done.reason, username, 'delete'));
    });
  },
  'end-sessions': async (args) => {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (positionals.length > 1) throw new CommandError(`end-sessions takes at most one admin name\n\n${USAGE}`);
    const username = positionals[0];
    return withDatabase(async (db, config) => {
      const done = accountsOf(db, config).endSessions(username, { name: 'cli' });
      if (done.ok) return `${done.sessionsEnded} session(s) ended${username ? ` for ${username}` : ''}.`;
      throw new CommandError(`No admin named ${username}`);
    });
  },
  'prune-audit': async (args) => {
    parseArgs({ args });
    return withDatabase(async (db, config) => {
      const pruned = accountsOf(db, config).pruneAudit({ name: 'cli' });
      if (pruned.ok) return `Removed ${pruned.removed} audit row(s) older than ${pruned.before.toISOString()}.`;
      throw new CommandError('AUDIT_RETENTION_DAYS is not set: the audit log is kept for ever, nothing to prune');
    });
  },
};

function adminChangeRefused(reason: 'unknown' | 'last-admin', username: string, verb: string): string {
  return reason === 'unknown'
    ? `No admin named ${username}`
    : `${username} is the last enabled admin; refusing to ${verb} it (create or enable another admin first)`;
}

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
  if (!values.cert || !values.key) throw new CommandError(`import-ca needs --cert and --key\n\n${USAGE}`);
  return withDatabase(async (db, config) => {
    const issued = certificatesRepository(db).count();
    if (issued > 0 && !values.force) {
      throw new CommandError(
        `This portal's CA already signed ${issued} certificate(s); importing another CA would orphan them. Add --force to replace it anyway.`,
      );
    }
    const ca = importCa(config.dataDir, {
      certPem: readInput(values.cert!, 'certificate'),
      keyPem: readInput(values.key!, 'key'),
      importPassphrase: values['passphrase-file']
        ? readInput(values['passphrase-file'], 'passphrase file').replace(/\r?\n$/, '')
        : undefined,
      storePassphrase: config.caKeyPassphrase,
      now: new Date(),
    });
    const subject = ca.x509.subject.replace(/\n/g, ', ');
    auditedTransactions(db, auditRepository(db))(new Date(), (audit) =>
      audit({
        actor: 'cli',
        action: 'import-ca',
        subject,
        outcome: 'success',
        detail: `serial ${ca.x509.serialNumber}`,
      }),
    );
    const encrypted = config.caKeyPassphrase
      ? 'encrypted with CA_KEY_PASSPHRASE'
      : 'unencrypted: set CA_KEY_PASSPHRASE to encrypt it';
    return `Imported CA "${subject}" into ${config.dataDir} (key ${encrypted}). Restart the portal to use it.`;
  });
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
  if (!values.out) throw new CommandError(`server-cert needs --out DIR\n\n${USAGE}`);
  const out = values.out;
  // The folder first: a key signed and recorded but not written would be lost.
  try {
    mkdirSync(out, { recursive: true });
    if (!statSync(out).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    accessSync(out, constants.W_OK);
  } catch (error) {
    throw new CommandError(
      `--out ${out}: no folder the key can be written to (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  return withDatabase(async (db, config) => {
    const { ca, created } = await loadOrCreateCa(config.dataDir, {
      commonName: config.caCommonName,
      serverNames: config.caServerNames,
      passphrase: config.caKeyPassphrase,
      now: new Date(),
    });
    const services = createServices(config, { db, ca, caKeyEncrypted: isCaKeyEncrypted(config.dataDir) });
    try {
      const issued = await services.enrollment.serverCertificates.issue(
        { hosts: values.host ?? [], ips: values.ip ?? [], ...(values.days !== undefined && { days: values.days }) },
        { name: 'cli' },
      );
      if (!issued.ok) throw new CommandError(describeInvalid(issued));
      mkdirSync(out, { recursive: true });
      writeFileAtomic(path.join(out, 'server.key'), issued.keyPem, 0o600);
      writeFileAtomic(path.join(out, 'server.crt'), issued.certPem, 0o644);
      writeFileAtomic(path.join(out, 'ca.crt'), ca.certPem, 0o644);
      return (
        (created ? `Made a new CA in ${config.dataDir} (there was none: is DATA_DIR right?).\n` : '') +
        `Wrote server.key (0600), server.crt (valid until ${issued.notAfter.toISOString().slice(0, 10)}, serial ${issued.serial}) and ca.crt to ${out}.\n` +
        `Mosquitto reads server.key after it drops root: sudo chgrp mosquitto ${path.join(out, 'server.key')} && sudo chmod 0640 ${path.join(out, 'server.key')}`
      );
    } finally {
      await services.stop();
    }
  });
}

async function backupCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (!values.out) throw new CommandError(`backup needs --out FILE\n\n${USAGE}`);
  const out = path.resolve(values.out);
  const { dataDir } = loadConfig();
  if (!existsSync(dataFiles(dataDir).database))
    throw new CommandError(`${dataDir} holds no portal database (enroll.db): nothing to back up. Is DATA_DIR right?`);
  if (existsSync(out) && statSync(out).isDirectory())
    throw new CommandError(`--out ${out} is a folder: give the archive's file name`);
  if (!existsSync(path.dirname(out)))
    throw new CommandError(`--out ${out}: the folder ${path.dirname(out)} does not exist`);
  // Never into DATA_DIR, however either is spelled (a symlink, a bind mount): the archive would take
  // the place of the database, the CA or the CRL.
  const inside = path.relative(realpathSync(dataDir), path.join(realpathSync(path.dirname(out)), path.basename(out)));
  const [folder, data] = [statSync(path.dirname(out)), statSync(dataDir)];
  const sameFolder = folder.dev === data.dev && folder.ino === data.ino;
  if (sameFolder || (inside !== '..' && !inside.startsWith(`..${path.sep}`) && !path.isAbsolute(inside)))
    throw new CommandError(
      `--out ${out} is inside DATA_DIR (${path.resolve(dataDir)}): write the backup somewhere else`,
    );
  // Not migrated: a backup taken before an upgrade must hold the folder as the old version left it
  // (and leave it so), so that the old version can still run on it.
  return withDatabase(
    async (db, config) => {
      const { pending } = checkSchema(db);
      const result = await createBackup(db, config.dataDir, out, new Date());
      // An older schema's audit log is the old version's to write: the upgrade's first start audits.
      if (pending === 0)
        auditedTransactions(db, auditRepository(db))(new Date(), (audit) =>
          audit({
            actor: 'cli',
            action: 'backup',
            subject: path.basename(result.file),
            outcome: 'success',
            detail: `${result.size} bytes`,
          }),
        );
      const { counts } = result.manifest;
      const older = pending
        ? `\nThe folder is from an earlier version (${pending} migration(s) to apply): backed up and left as it was.`
        : '';
      const warning = result.manifest.caKeyEncrypted
        ? ''
        : '\nWARNING: the archive holds the CA key UNENCRYPTED (no CA_KEY_PASSPHRASE is set). Anyone with this file can issue certificates your broker trusts: keep it like the key itself (mode 0600 set).';
      return `Wrote ${result.file} (${result.size} bytes): ${counts.certificates} certificates (${counts.revoked} revoked), ${counts.users} users, ${counts.admins} admins.${older}${warning}`;
    },
    { migrate: false },
  );
}

async function restoreCommand(args: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, force: { type: 'boolean' } },
  });
  if (positionals.length !== 1 || !values['data-dir'])
    throw new CommandError(`restore takes FILE and --data-dir DIR\n\n${USAGE}`);
  const target = path.resolve(values['data-dir']);
  const manifest = await restoreBackup(path.resolve(positionals[0]!), target, { force: values.force ?? false });
  const { carried } = manifest;
  const kept = carried
    ? `\nKept from the CRL it replaced (CRL ${carried.crlNumber}; the next is numbered above it): ${carried.revoked} certificate(s) revoked after the backup, and ${carried.carried} revoked serial(s) the backup does not know (certificates issued after it: they stay revoked, but the portal cannot list them).`
    : '';
  const links = manifest.cancelledInvitations
    ? `\nCancelled ${manifest.cancelledInvitations} pickup link(s) that could still be used in the backup: they may have been used after it. Send again (Resend on the invitation's page) those a person still needs.`
    : '';
  const admins = manifest.admins.length
    ? `\nAdmins who can sign in, as at the backup: ${manifest.admins.join(', ')}. An admin disabled or deleted since is back, and a password changed since is the old one again: use disable-admin, delete-admin or reset-password where that matters.`
    : '\nNo admin can sign in: create one with create-admin, or open the setup link the portal prints at its start.';
  return `Restored the backup of ${manifest.createdAt} into ${target}: ${manifest.counts.certificates} certificates, ${manifest.counts.admins} admins. Start the portal with DATA_DIR=${target}; it rebuilds the CRL at start.${kept}${links}${admins}`;
}

function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CommandError(`Cannot read the ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function describe(error: unknown): string {
  if (error instanceof StartupError) return error.message;
  // node:util's parseArgs: an unknown option or a missing value.
  const code = (error as NodeJS.ErrnoException).code;
  if (code?.startsWith('ERR_PARSE_ARGS')) return `${(error as Error).message}\n\n${USAGE}`;
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
