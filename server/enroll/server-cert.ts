// The broker's TLS server certificate: checked against the rules, signed, recorded before it
// leaves, audited; and revoked into the CRL like a client certificate.
import { generateRsaKeyPair } from '../pki/keys.js';
import { issueServerCertificate } from '../pki/issue.js';
import type { RevocationReason } from '../pki/crl.js';
import { failed, fieldIssues, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import type { PublicationResult } from './crl-publisher.js';
import { caDaysLeft } from './issue.js';
import { namesOutsideCa, serverCertificateRequestSchema, type ServerCertificateRequest } from './rules.js';

export type BrokerCertificate = Ok<{
  id: number;
  certPem: string;
  /** Unencrypted PKCS#8: Mosquitto's keyfile. Handed out once, never stored by the portal. */
  keyPem: string;
  serial: string;
  notAfter: Date;
}>;

type ServerCertDeps = Pick<EnrollDeps, 'ca' | 'now' | 'audited' | 'serverCertificates'>;

export async function issueBrokerCertificate(
  ctx: ServerCertDeps,
  input: ServerCertificateRequest,
  actor: Actor,
): Promise<BrokerCertificate | Invalid> {
  const parsed = serverCertificateRequestSchema.safeParse(input);
  if (!parsed.success) return failed('invalid', { issues: fieldIssues(parsed.error.issues) });
  const { hosts, ips } = parsed.data;
  const outside = namesOutsideCa(ctx.ca.nameConstraints, { hosts, ips });
  if (Object.keys(outside).length) return failed('invalid', { issues: outside });
  // Never beyond the CA's own end (phones refuse the chain then anyway): the certificate says so.
  const caDays = caDaysLeft(ctx);
  if (caDays < 1)
    return failed('invalid', { issues: { hosts: 'The CA expires within a day: make or import a new CA first' } });
  const days = Math.min(parsed.data.days, caDays);
  const keys = await generateRsaKeyPair(2048);
  const at = ctx.now();
  const cert = issueServerCertificate({ ca: ctx.ca, hosts, ips, publicKeyPem: keys.publicKeyPem, days, now: at });
  const names = [...hosts, ...ips].join(', ');
  const id = ctx.audited(at, (audit) => {
    const inserted = ctx.serverCertificates.insert({
      serial: cert.serial,
      names,
      fingerprint_sha256: cert.fingerprint,
      pem: cert.pem,
      not_before: cert.notBefore.toISOString(),
      not_after: cert.notAfter.toISOString(),
      issued_by: actor.name,
      issued_at: at.toISOString(),
    });
    audit({
      ...by(actor),
      action: 'server-cert',
      subject: `server-certificate:${inserted}`,
      outcome: 'success',
      detail: `${names}, serial ${cert.serial}`,
    });
    return inserted;
  });
  return ok({ id, certPem: cert.pem, keyPem: keys.privateKeyPem, serial: cert.serial, notAfter: cert.notAfter });
}

/** Revokes a broker certificate (a leaked key, a retired name) and publishes the CRL. */
export async function revokeBrokerCertificate(
  ctx: Pick<EnrollDeps, 'now' | 'audited' | 'serverCertificates' | 'crl'>,
  id: number,
  reason: RevocationReason,
  actor: Actor,
): Promise<Ok<{ publication: PublicationResult }> | Failed<'not-active'>> {
  const changed = ctx.audited(ctx.now(), (audit) => {
    if (!ctx.serverCertificates.revoke(id, ctx.now(), reason, actor.name)) return false;
    audit({
      ...by(actor),
      action: 'revoke',
      subject: `server-certificate:${id}`,
      outcome: 'success',
      detail: reason,
    });
    return true;
  });
  if (!changed) return failed('not-active');
  return ok({ publication: await ctx.crl.publishOrRetry(actor.name, `revoked server certificate ${id}`) });
}
