// What the web layer knows of the rest of the portal, and the types fastify is extended with.
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { AdminsRepository } from '../db/admins.js';
import type { AuditRepository } from '../db/audit.js';
import type { SettingsRepository } from '../db/settings.js';
import type { PasswordCost } from '../accounts/password.js';
import type { SetupToken } from '../accounts/setup-token.js';
import type { BackupScheduler } from '../backup/scheduler.js';
import type { EnrollContext } from '../enroll/context.js';
import type { OneTimeSecrets } from './one-time-secrets.js';

export interface Portal {
  config: Config;
  db: Db;
  now: () => Date;
  admins: AdminsRepository;
  audit: AuditRepository;
  settings: SettingsRepository;
  setupToken: SetupToken;
  enroll: EnrollContext;
  /** Passphrases of just-issued bundles, shown once on the result page. */
  passphrases: OneTimeSecrets<{ certificateId: number; passphrase: string }>;
  /** Whether ca.key is stored encrypted (a banner warns when it is not). */
  caKeyEncrypted: boolean;
  /** scrypt cost of new admin passwords; undefined: the default. */
  passwordCost: PasswordCost | undefined;
  /** Scheduled backups, when BACKUP_DIR is set. */
  backups: BackupScheduler | undefined;
}

export interface PageData {
  title: string;
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyInstance {
    portal: Portal;
  }
  interface FastifyReply {
    /** Renders `views/<view>.eta` inside the layout, with the session's admin, flash and CSRF token. */
    page(view: string, data: PageData): Promise<FastifyReply>;
  }
  interface Session {
    admin?: string;
    signedInAt?: number;
    lastSeenAt?: number;
  }
}
