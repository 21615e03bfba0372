// The broker's TLS server certificate: signed, recorded before it leaves, audited.
import { generateRsaKeyPair } from '../pki/keys.js';
import { issueServerCertificate, SERVER_MAX_DAYS } from '../pki/issue.js';
import type { AuditRepository } from '../db/audit.js';
import type { Db } from '../db/database.js';
import type { ServerCertificatesRepository } from '../db/server-certificates.js';
import type { Ca } from '../pki/ca.js';
import type { RevocationReason } from '../pki/crl.js';
import type { Actor, EnrollContext } from './context.js';
import type { Publication } from './crl-publisher.js';

export interface ServerCertDeps {
  db: Db;
  ca: Ca;
  serverCertificates: ServerCertificatesRepository;
  audit: AuditRepository;
  now: () => Date;
}

export interface BrokerCertificate {
  id: number;
  certPem: string;
  /** Unencrypted PKCS#8: Mosquitto's keyfile. Handed out once, never stored by the portal. */
  keyPem: string;
  serial: string;
  notAfter: Date;
}

export async function issueBrokerCertificate(
  deps: ServerCertDeps,
  request: { hosts: string[]; ips: string[]; days?: number },
  actor: Actor,
): Promise<BrokerCertificate> {
  const keys = await generateRsaKeyPair(2048);
  const at = deps.now();
  const cert = issueServerCertificate({
    ca: deps.ca,
    hosts: request.hosts,
    ips: request.ips,
    publicKeyPem: keys.publicKeyPem,
    days: request.days ?? SERVER_MAX_DAYS,
    now: at,
  });
  const names = [...request.hosts, ...request.ips].join(', ');
  const id = deps.db.transaction(() => {
    const inserted = deps.serverCertificates.insert({
      serial: cert.serial,
      names,
      fingerprint_sha256: cert.fingerprint,
      pem: cert.pem,
      not_before: cert.notBefore.toISOString(),
      not_after: cert.notAfter.toISOString(),
      issued_by: actor.name,
      issued_at: at.toISOString(),
    });
    deps.audit.record(
      {
        actor: actor.name,
        action: 'server-cert',
        subject: `server-certificate:${inserted}`,
        outcome: 'success',
        detail: `${names}, serial ${cert.serial}`,
        ip: actor.ip,
      },
      at,
    );
    return inserted;
  })();
  return { id, certPem: cert.pem, keyPem: keys.privateKeyPem, serial: cert.serial, notAfter: cert.notAfter };
}

/** Revokes a broker certificate (a leaked key, a retired name) and publishes the CRL. */
export async function revokeBrokerCertificate(
  ctx: EnrollContext,
  id: number,
  reason: RevocationReason,
  actor: Actor,
): Promise<Publication | undefined> {
  const at = ctx.now();
  const changed = ctx.db.transaction(() => {
    if (!ctx.serverCertificates.revoke(id, at, reason, actor.name)) return false;
    ctx.audit.record(
      {
        actor: actor.name,
        action: 'revoke',
        subject: `server-certificate:${id}`,
        outcome: 'success',
        detail: reason,
        ip: actor.ip,
      },
      at,
    );
    return true;
  })();
  return changed ? ctx.crl.publish(actor.name, `revoked server certificate ${id}`) : undefined;
}
