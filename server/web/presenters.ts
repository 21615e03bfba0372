// Small helpers that turn stored values into what pages show.
import type { CertificateRow } from '../db/certificates.js';
import type { ReloadOutcome } from '../enroll/crl-publisher.js';
import type { RevocationReason } from '../pki/crl.js';

export const REASON_LABELS: Record<RevocationReason, string> = {
  unspecified: 'Unspecified',
  keyCompromise: 'Key compromise (lost or stolen device, leaked bundle)',
  affiliationChanged: 'Affiliation changed (left the family or company)',
  superseded: 'Superseded (replaced by a new certificate)',
  cessationOfOperation: 'Cessation of operation (device retired, or never delivered)',
};

/** active, revoked, or expired (computed from the date). */
export function displayStatus(
  row: Pick<CertificateRow, 'status' | 'not_after'>,
  now: Date,
): 'active' | 'revoked' | 'expired' {
  if (row.status === 'revoked') return 'revoked';
  return new Date(row.not_after).getTime() < now.getTime() ? 'expired' : 'active';
}

/** "in 11 months", "3 days ago". */
export function relativeTime(date: Date | string, now: Date): string {
  const ms = new Date(date).getTime() - now.getTime();
  const abs = Math.abs(ms);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['year', 365 * 86400_000],
    ['month', 30 * 86400_000],
    ['day', 86400_000],
    ['hour', 3600_000],
    ['minute', 60_000],
  ];
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, size] of units) if (abs >= size) return format.format(Math.round(ms / size), unit);
  return 'just now';
}

export function describeReload(reload: ReloadOutcome | undefined): { ok: boolean; message: string } | undefined {
  if (!reload) return undefined;
  return reload.ok
    ? { ok: true, message: `The broker was asked to re-read the CRL (${reload.message}).` }
    : {
        ok: false,
        message: `The broker reload command failed (${reload.message}). The broker still uses the old CRL: reload or restart it by hand.`,
      };
}
