// What the enrollment use cases work with. Built once by the composition root (server/services.ts)
// and seen only inside enroll/: routes reach the use cases through the Enrollment facade.
import type { BrokerAccess } from '../broker/access.js';
import type { ServerTrustMonitor } from '../broker/server-trust.js';
import type { Config } from '../config.js';
import type { AuditedTransaction, AuditRepository } from '../db/audit.js';
import type { CertificatesRepository } from '../db/certificates.js';
import type { CertificateQueries } from '../db/certificate-list.js';
import type { Db } from '../db/database.js';
import type { ServerCertificatesRepository } from '../db/server-certificates.js';
import type { SettingsRepository } from '../db/settings.js';
import type { UsersRepository } from '../db/users.js';
import type { DataFiles } from '../data-dir.js';
import type { InvitationsRepository } from '../db/invitations.js';
import type { Mailer } from '../mail/transport.js';
import type { Ca } from '../pki/ca.js';
import type { CrlPublisher } from './crl-publisher.js';
import type { Minter } from './minter.js';
import type { PresenceReads } from './presence.js';

export interface EnrollDeps {
  config: Pick<
    Config,
    'mailFrom' | 'mqtt' | 'smtpUrl' | 'brokerReloadCommand' | 'outboxRetentionDays' | 'publicUrl' | 'pickup'
  >;
  files: DataFiles;
  db: Db;
  ca: Ca;
  /** Whether ca.key is stored encrypted (a banner warns when it is not). */
  caKeyEncrypted: boolean;
  now: () => Date;
  /** Runs a state change and its audit rows in one transaction. */
  audited: AuditedTransaction;
  users: UsersRepository;
  certificates: CertificatesRepository;
  certificateQueries: CertificateQueries;
  invitations: InvitationsRepository;
  serverCertificates: ServerCertificatesRepository;
  /** Stored settings: the broker address an owner entered. */
  settings: SettingsRepository;
  audit: AuditRepository;
  minter: Minter;
  mailer: Mailer;
  crl: CrlPublisher;
  /** The broker link's access management; undefined without BROKER_CONTROL_URL. */
  broker?: BrokerAccess | undefined;
  /** Who is connected: last-seen times per person and device (recorded only with a broker link). */
  presence: PresenceReads;
  /** Whether the phones trust the broker's certificate without the portal's CA (checked in the background). */
  serverTrust?: Pick<ServerTrustMonitor, 'current' | 'refresh'> | undefined;
}

/** Who asked, for the audit log. */
export interface Actor {
  name: string;
  ip?: string | undefined;
}

/** The audit fields that name the actor. */
export const by = (actor: Actor) => ({ actor: actor.name, ip: actor.ip ?? null });
