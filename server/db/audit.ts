// The `audit_log` table: append-only record of who did what, when, from where. Never secrets. The one
// deletion the database allows is the retention prune: rows older than `audit_prune_before`, a setting
// that exists only inside the prune's transaction (see migrations/005_sign_in_sessions_audit_retention.sql).
import { isIP } from 'node:net';
import type { Db } from './database.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  outcome: 'success' | 'failure';
  detail?: string | null;
  ip?: string | null;
}

export interface AuditRow extends Required<AuditEntry> {
  id: number;
  at: string;
}

export function auditRepository(db: Db) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, actor, action, subject, outcome, detail, ip)
     VALUES (@at, @actor, @action, @subject, @outcome, @detail, @ip)`,
  );
  const forSubject = db.prepare<[string], AuditRow>(
    'SELECT * FROM audit_log WHERE subject = ? ORDER BY id DESC LIMIT 200',
  );
  const actions = db.prepare<[], { action: string }>('SELECT DISTINCT action FROM audit_log ORDER BY action');
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  const setPruneBefore = db.prepare<[string]>(
    "INSERT INTO settings (key, value) VALUES ('audit_prune_before', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const pruneRows = db.prepare<[string]>('DELETE FROM audit_log WHERE at < ?');
  const clearPruneBefore = db.prepare("DELETE FROM settings WHERE key = 'audit_prune_before'");
  return {
    /** A page of entries, newest first, optionally for one actor and one action; keyset by id. */
    page(query: {
      actor?: string | undefined;
      action?: string | undefined;
      beforeId?: number | undefined;
      limit: number;
    }): { rows: AuditRow[]; nextBeforeId: number | undefined } {
      const where: string[] = [];
      if (query.actor) where.push('actor = @actor');
      if (query.action) where.push('action = @action');
      if (query.beforeId) where.push('id < @beforeId');
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
      let statement = cache.get(sql);
      if (!statement) cache.set(sql, (statement = db.prepare(sql)));
      const rows = statement.all({
        actor: query.actor,
        action: query.action,
        beforeId: query.beforeId,
        limit: query.limit + 1,
      }) as AuditRow[];
      const more = rows.length > query.limit;
      if (more) rows.pop();
      return { rows, nextBeforeId: more ? rows.at(-1)?.id : undefined };
    },
    actions: () => actions.all().map((row) => row.action),
    // Only a valid address is stored: behind a proxy the address comes from a header.
    record: (entry: AuditEntry, at: Date) =>
      void insert.run({
        subject: null,
        detail: null,
        ...entry,
        ip: entry.ip && isIP(entry.ip) ? entry.ip : null,
        at: at.toISOString(),
      }),
    forSubject: (subject: string) => forSubject.all(subject),
    /**
     * Deletes the rows older than `before` (at least a day ago: the database refuses otherwise) and
     * returns how many; call it inside the transaction that audits the prune.
     */
    prune(before: Date): number {
      setPruneBefore.run(before.toISOString());
      const removed = pruneRows.run(before.toISOString()).changes;
      clearPruneBefore.run();
      return removed;
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;

/**
 * The one way a state change is written: `work` runs in a transaction, and the audit rows it
 * records commit or roll back with the change they describe.
 */
export function auditedTransactions(db: Db, audit: AuditRepository) {
  return <T>(at: Date, work: (record: (entry: AuditEntry) => void) => T): T =>
    db.transaction(() => work((entry) => audit.record(entry, at)))();
}
export type AuditedTransaction = ReturnType<typeof auditedTransactions>;
