// Small helpers that turn stored values into what pages show.
import type { PublicationResult, ReloadOutcome } from '../enroll/crl-publisher.js';
import type { KickReport } from '../enroll/revoke.js';
import { wordsFor } from '../words/index.js';

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

function describeReload(reload: ReloadOutcome | undefined): { ok: boolean; message: string } | undefined {
  if (!reload) return undefined;
  return reload.ok
    ? { ok: true, message: wordsFor().admin.publication.reloaded(reload.message) }
    : {
        ok: false,
        message: wordsFor().admin.publication.reloadFailed(reload.message),
      };
}

export interface Notice {
  kind: 'success' | 'info' | 'warning' | 'error';
  message: string;
}

/**
 * What the admin is told after a change that republishes the CRL (`done` says what the change
 * was): the CRL and the broker's reload, or that the publication failed. The change stands either
 * way, and the portal keeps retrying a failed publication.
 */
export function describePublication(done: string, result: PublicationResult): Notice[] {
  if (!result.ok)
    return [
      { kind: 'success', message: done },
      {
        kind: 'error',
        message: wordsFor().admin.publication.failed(result.error),
      },
    ];
  const { publication } = result;
  const notices: Notice[] = [
    {
      kind: 'success',
      message: wordsFor().admin.publication.published(done, String(publication.crlNumber), publication.entries),
    },
  ];
  const reload = describeReload(publication.reload);
  if (reload) notices.push({ kind: reload.ok ? 'info' : 'error', message: reload.message });
  return notices;
}

/** What became of a revoked device's connection (the broker link), as one notice. */
export function describeKick(kick: KickReport | undefined, options: { all?: boolean } = {}): Notice | undefined {
  const words = wordsFor().broker.kick;
  const all = options.all === true;
  if (!kick) return { kind: 'info', message: words.withoutLink };
  switch (kick.state) {
    case 'none':
      return undefined;
    case 'queued':
      return { kind: 'warning', message: words.queued(all) };
    case 'crl-not-in-force':
      return { kind: 'error', message: words.crlNotInForce(all) };
    case 'done':
      if (kick.failures.length) return { kind: 'warning', message: words.failed(kick.failures.join('; '), all) };
      if (kick.notes.length) return { kind: 'warning', message: words.takenOver(kick.notes.join('; ')) };
      return kick.probe.verdict === 'unreachable'
        ? { kind: 'warning', message: words.unverified(kick.probe.error, all) }
        : { kind: 'success', message: words.done(all) };
  }
}
