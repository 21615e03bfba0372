// Admin commands: `npm run admin -- <command> [options]`. Each runs against DATA_DIR.
import { parseArgs } from 'node:util';
import { AdminError, createAdmin, resetAdminPassword } from './accounts/admins.js';
import { openDataDir } from './bootstrap.js';
import { loadConfig } from './config.js';
import { adminsRepository } from './db/admins.js';
import { auditRepository } from './db/audit.js';
import { StartupError } from './errors.js';
import { readSecret } from './cli/prompt.js';

const USAGE = `Usage: npm run admin -- <command>

Commands:
  create-admin NAME      create an admin; the password is prompted for, or read from stdin
  reset-password NAME    set a new password for an admin (also clears its sign-in back-off)
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
