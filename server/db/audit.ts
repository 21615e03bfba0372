// The `audit_log` table: append-only record of who did what, when, from where. Never secrets. The one
// deletion the database allows is the retention prune: rows older than `audit_prune_before`, a setting
// that exists only inside the prune's transaction (see migrations/005_sign_in_sessions_audit_retention.sql).
// The one change it allows is a deleted person's addresses in their rows' details, replaced by a marker
// while `audit_erasing` names them (migrations/011_audit_erasure.sql).
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

/** What stands where a deleted person's address stood (the database accepts no other change). */
const ADDRESS_ERASED = '[address erased]';
// Anything shaped like an address in a detail: `to <address>: 250 ...`, `old → new`, `<address>` in
// a mail server's refusal. The part before the @ may hold ' ` { } | and the like, as addresses may;
// a trailing dot ends a sentence, not the address.
const ADDRESS_LIKE = /[^\s<>()[\],;:"@]+@[^\s<>()[\]{},;:"'`@]*[^\s<>()[\]{},;:"'`.@]/g;

/** The longest detail kept (a reconcile's list of changes is the longest written). */
export const AUDIT_DETAIL_LIMIT = 1000;
/** Characters no address holds (ADDRESS_LIKE's delimiters): an address lies between two of them. */
const NOT_IN_ADDRESS = /[\s<>()[\],;:"]/;

/**
 * A detail longer than AUDIT_DETAIL_LIMIT, cut and marked with an ellipsis; never inside an address,
 * so that erasing a deleted person's addresses finds each one whole (a mail server's refusal that
 * named the address again where the limit fell left `ann@x.o` behind). The run of characters the
 * limit falls in, from one delimiter to the next, is dropped whole when it holds an @; any other
 * run is cut at the limit (never between the two halves of a surrogate pair).
 */
function clipped(detail: string): string {
  if (detail.length <= AUDIT_DETAIL_LIMIT) return detail;
  let start = AUDIT_DETAIL_LIMIT;
  while (start > 0 && !NOT_IN_ADDRESS.test(detail[start - 1]!)) start--;
  let end = AUDIT_DETAIL_LIMIT;
  while (end < detail.length && !NOT_IN_ADDRESS.test(detail[end]!)) end++;
  let cut = detail.slice(start, end).includes('@') ? start : AUDIT_DETAIL_LIMIT;
  const last = detail.charCodeAt(cut - 1);
  if (cut === AUDIT_DETAIL_LIMIT && last >= 0xd800 && last <= 0xdbff) cut--;
  return `${detail.slice(0, cut).trimEnd()}…`;
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
  const openErasing = db.prepare<[string]>("INSERT INTO settings (key, value) VALUES ('audit_erasing', ?)");
  const closeErasing = db.prepare("DELETE FROM settings WHERE key = 'audit_erasing'");
  // The rows about a person: their user row, and those of every certificate and invitation of theirs.
  const rowsAbout = db.prepare<{ username: string }, { id: number; detail: string }>(
    `SELECT id, detail FROM audit_log WHERE detail IS NOT NULL AND subject IN (
       SELECT 'user:' || @username
       UNION ALL SELECT 'certificate:' || c.id FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username = @username
       UNION ALL SELECT 'invitation:' || i.id FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.username = @username
     ) ORDER BY id`,
  );
  const setDetail = db.prepare<[string, number]>('UPDATE audit_log SET detail = ? WHERE id = ?');
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
        ...entry,
        detail: entry.detail == null ? null : clipped(entry.detail),
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
    /**
     * Replaces, in the details of the rows about a person already deleted, each of `addresses` and
     * every other address those details hold (a former one in an address change, one in a mail
     * server's answer) by ADDRESS_ERASED; returns how many rows changed. Call it inside the deletion's
     * transaction, before recording the deletion (no row can be written while the door is open).
     */
    eraseAddresses(username: string, addresses: string[]): number {
      const rows = rowsAbout.all({ username });
      const found = new Set(addresses.filter((address) => address.includes('@')));
      for (const row of rows) for (const match of row.detail.match(ADDRESS_LIKE) ?? []) found.add(match);
      // Longest first: an address inside a longer one of theirs goes with it, not half of it.
      const erased = [...found].sort((a, b) => b.length - a.length);
      let changed = 0;
      openErasing.run(username);
      for (const row of rows) {
        let detail = row.detail;
        for (const address of erased) detail = detail.split(address).join(ADDRESS_ERASED);
        if (detail === row.detail) continue;
        setDetail.run(detail, row.id);
        changed++;
      }
      closeErasing.run();
      return changed;
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
