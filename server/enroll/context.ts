// Everything the enrollment use cases work with, built once at start (see server/portal.ts).
import type { Config } from '../config.js';
import type { AuditRepository } from '../db/audit.js';
import type { CertificatesRepository } from '../db/certificates.js';
import type { Db } from '../db/database.js';
import type { ServerCertificatesRepository } from '../db/server-certificates.js';
import type { UsersRepository } from '../db/users.js';
import type { Mailer } from '../mail/transport.js';
import type { Ca } from '../pki/ca.js';
import type { CrlPublisher } from './crl-publisher.js';
import type { Minter } from './minter.js';

export interface EnrollContext {
  config: Config;
  db: Db;
  ca: Ca;
  now: () => Date;
  users: UsersRepository;
  certificates: CertificatesRepository;
  serverCertificates: ServerCertificatesRepository;
  audit: AuditRepository;
  minter: Minter;
  mailer: Mailer;
  crl: CrlPublisher;
}

/** Who asked, for the audit log. */
export interface Actor {
  name: string;
  ip?: string | undefined;
}
