// The broker link's tables (migration 008): what the portal manages in dynsec, the kicks it still
// owes the broker, and its CRL probe certificates; plus the one question it asks of `certificates`:
// who holds an active certificate now.
import type { Db } from './database.js';

export type ManagedKind = 'client' | 'role';

export interface KickRow {
  id: number;
  username: string;
  certificate_id: number | null;
  queued_at: string;
  done_at: string | null;
  outcome: string | null;
}

export interface ProbeRow {
  serial: string;
  pem: string;
  created_at: string;
  not_after: string;
  /** The newest kick queued when the probe was made: the kicks up to it are covered by its CRL. */
  covers_kick: number;
}

export function brokerRepository(db: Db) {
  const managed = db.prepare<[ManagedKind], { name: string }>('SELECT name FROM broker_managed WHERE kind = ?');
  const markManaged = db.prepare<[ManagedKind, string, string]>(
    'INSERT INTO broker_managed (kind, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const unmark = db.prepare<[ManagedKind, string]>('DELETE FROM broker_managed WHERE kind = ? AND name = ?');
  const people = db.prepare<[string], { username: string }>(
    `SELECT DISTINCT u.username FROM users u JOIN certificates c ON c.user_id = u.id
     WHERE c.status = 'active' AND c.not_after > ? ORDER BY u.username`,
  );
  const holds = db.prepare<[string, string], { n: number }>(
    `SELECT count(*) AS n FROM users u JOIN certificates c ON c.user_id = u.id
     WHERE u.username = ? AND c.status = 'active' AND c.not_after > ?`,
  );
  const queueKick = db.prepare<[string, number | null, string]>(
    'INSERT INTO broker_kicks (username, certificate_id, queued_at) VALUES (?, ?, ?)',
  );
  const pendingKicks = db.prepare<[], KickRow>('SELECT * FROM broker_kicks WHERE done_at IS NULL ORDER BY id');
  const deviceOf = db.prepare<[number], { device: string | null }>('SELECT device FROM certificates WHERE id = ?');
  const recentKicks = db.prepare<[], KickRow>('SELECT * FROM broker_kicks ORDER BY id DESC LIMIT 20');
  const finishKick = db.prepare<[string, string, number]>(
    'UPDATE broker_kicks SET done_at = ?, outcome = ? WHERE id = ? AND done_at IS NULL',
  );
  const insertProbe = db.prepare<[string, string, string, string, number]>(
    'INSERT INTO broker_probes (serial, pem, created_at, not_after, covers_kick) VALUES (?, ?, ?, ?, ?)',
  );
  const lastKickId = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM broker_kicks');
  const newestProbe = db.prepare<[], ProbeRow>('SELECT * FROM broker_probes ORDER BY rowid DESC LIMIT 1');
  const liveProbes = db.prepare<[string], { serial: string; created_at: string }>(
    'SELECT serial, created_at FROM broker_probes WHERE not_after > ? ORDER BY created_at',
  );
  const probeMark = db.prepare<[string], { n: number; last: string | null }>(
    'SELECT count(*) AS n, max(created_at) AS last FROM broker_probes WHERE not_after > ?',
  );
  const pruneProbes = db.prepare<[string]>('DELETE FROM broker_probes WHERE not_after <= ?');

  return {
    managed: (kind: ManagedKind) => new Set(managed.all(kind).map((row) => row.name)),
    markManaged: (kind: ManagedKind, name: string, at: Date) => void markManaged.run(kind, name, at.toISOString()),
    unmarkManaged: (kind: ManagedKind, name: string) => void unmark.run(kind, name),
    /** Usernames that hold at least one active, unexpired certificate: the people dynsec must know. */
    peopleWithAccess: (now: Date) => people.all(now.toISOString()).map((row) => row.username),
    hasAccess: (username: string, now: Date) => holds.get(username, now.toISOString())!.n > 0,
    queueKick: (username: string, certificateId: number | null, at: Date) =>
      void queueKick.run(username, certificateId, at.toISOString()),
    pendingKicks: () => pendingKicks.all(),
    /** The device a kicked certificate was for (null: none named). */
    deviceOf: (certificateId: number) => deviceOf.get(certificateId)?.device ?? null,
    recentKicks: () => recentKicks.all(),
    finishKick: (id: number, at: Date, outcome: string) => void finishKick.run(at.toISOString(), outcome, id),
    recordProbe: (row: ProbeRow) =>
      void insertProbe.run(row.serial, row.pem, row.created_at, row.not_after, row.covers_kick),
    lastKickId: () => lastKickId.get()!.id ?? 0,
    newestProbe: () => newestProbe.get(),
    /** The probes the CRL lists (revoked from the start, at their creation): those not yet expired. */
    *probeEntries(now: Date) {
      for (const row of liveProbes.iterate(now.toISOString()))
        yield { serial: row.serial, revoked_at: row.created_at, revocation_reason: 'cessationOfOperation' };
    },
    /** Size and newest creation of the probes the CRL lists now: changes whenever that set does. */
    probeMark: (now: Date) => {
      const row = probeMark.get(now.toISOString())!;
      return `${row.n}@${row.last ?? ''}`;
    },
    pruneProbes: (now: Date) => pruneProbes.run(now.toISOString()).changes,
  };
}
export type BrokerRepository = ReturnType<typeof brokerRepository>;
