// The admin's certificate list: search, filters, two sort orders and keyset pages, every path
// served by an index (see migrations) so it stays fast at 100,000 certificates. Search finds any
// part of a username, email, device or serial (FTS5 trigram indexes, migration 007).
import type { Db } from './database.js';
import { CERTIFICATE_END, UNDELIVERED, type CertificateView } from './certificates.js';

/** UNDELIVERED as an SQL list. */
const UNDELIVERED_SQL = UNDELIVERED.map((delivery) => `'${delivery}'`).join(', ');

export type ListStatus = 'all' | 'active' | 'revoked' | 'expired';
export type ListSort = 'issued' | 'expiry';

export interface ListQuery {
  search?: string | undefined;
  status: ListStatus;
  /** Active certificates that expire within this many days. */
  expiringWithinDays?: number | undefined;
  /** Active certificates whose device has not been seen on the broker since the certificate was issued. */
  neverConnected?: boolean | undefined;
  sort: ListSort;
  /** Cursor: the last row of the previous page. */
  after?: { key: string; id: number } | undefined;
  limit: number;
  now: Date;
}

export interface ListPage {
  rows: CertificateView[];
  next: { key: string; id: number } | undefined;
}

const HIGHEST = '\u{10FFFF}';
/** Below this many matches a search term is looked up in the indexes; from it on, rows are read in list order. */
const NARROW_MATCHES = 1000;

export function certificateQueries(db: Db, options: { narrow?: number } = {}) {
  const NARROW = options.narrow ?? NARROW_MATCHES;
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  const statement = (sql: string) => {
    let prepared = cache.get(sql);
    if (!prepared) cache.set(sql, (prepared = db.prepare(sql)));
    return prepared;
  };

  // How many rows a term matches, counted up to NARROW in each index (cheap: the counts stop there).
  const ftsMatches = db
    .prepare(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM users_search WHERE users_search MATCH @phrase LIMIT ${NARROW}))
            + (SELECT count(*) FROM (SELECT 1 FROM certificates_search WHERE certificates_search MATCH @phrase LIMIT ${NARROW}))`,
    )
    .pluck();
  const prefixMatches = db
    .prepare(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM users WHERE username >= @q AND username < @qEnd LIMIT ${NARROW}))
            + (SELECT count(*) FROM (SELECT 1 FROM users WHERE email >= @q AND email < @qEnd LIMIT ${NARROW}))
            + (SELECT count(*) FROM (SELECT 1 FROM certificates WHERE serial >= @q AND serial < @qEnd LIMIT ${NARROW}))`,
    )
    .pluck();

  return {
    page(query: ListQuery): ListPage {
      const key = query.sort === 'issued' ? 'c.issued_at' : 'c.not_after';
      // Newest issue first; soonest expiry first.
      const order = query.sort === 'issued' ? 'DESC' : 'ASC';
      const where: string[] = [];
      const params: Record<string, string | number> = { now: query.now.toISOString(), limit: query.limit + 1 };
      if (query.status === 'active') where.push("c.status = 'active' AND c.not_after >= @now");
      if (query.status === 'expired') where.push("c.status = 'active' AND c.not_after < @now");
      if (query.status === 'revoked') where.push("c.status = 'revoked'");
      if (query.expiringWithinDays !== undefined) {
        where.push("c.status = 'active' AND c.not_after >= @now AND c.not_after < @soon");
        params.soon = new Date(query.now.getTime() + query.expiringWithinDays * 86400_000).toISOString();
      }
      if (query.neverConnected)
        // Not delivered (UNDELIVERED), or nothing on its device's topic since it counts: its issue, or
        // the end of the certificate it replaces when later (enroll/presence.ts says why).
        where.push(`c.status = 'active' AND c.not_after >= @now AND (c.delivery IN (${UNDELIVERED_SQL})
          OR NOT EXISTS (SELECT 1 FROM device_presence p
            WHERE p.user_id = c.user_id AND p.device = coalesce(c.device, '')
              AND max(coalesce(p.last_message_at, ''), coalesce(p.last_will_at, '')) >= max(c.issued_at,
                coalesce((SELECT ${CERTIFICATE_END('o')} FROM certificates o WHERE o.id = c.replaces), ''))))`);
      const search = query.search?.trim().toLowerCase();
      if (search) {
        // Narrow terms are looked up in the indexes and the page is taken from their few matches;
        // broad ones ("example.org", "phone") match most rows, so the page is read in list order
        // and each row tested, which stops after a page's worth.
        const trigrams = [...search].length >= 3;
        params.q = search;
        if (trigrams) params.phrase = `"${search.replace(/"/g, '""')}"`;
        else params.qEnd = search + HIGHEST;
        const matches = (trigrams ? ftsMatches : prefixMatches).get(
          trigrams ? { phrase: params.phrase } : { q: search, qEnd: params.qEnd },
        ) as number;
        if (matches < NARROW && trigrams)
          // Any part of a username, email, device or serial (trigram FTS5), as one quoted phrase
          // so that nothing typed is read as query syntax.
          where.push(`(c.user_id IN (SELECT rowid FROM users_search WHERE users_search MATCH @phrase)
                       OR c.id IN (SELECT rowid FROM certificates_search WHERE certificates_search MATCH @phrase))`);
        else if (matches < NARROW)
          // Too short for trigrams: the start of a username, email or serial, through their indexes.
          where.push(`(c.user_id IN (SELECT id FROM users WHERE (username >= @q AND username < @qEnd) OR (email >= @q AND email < @qEnd))
                       OR (c.serial >= @q AND c.serial < @qEnd))`);
        else if (trigrams)
          where.push(`(instr(u.username, @q) > 0 OR instr(lower(u.email), @q) > 0
                       OR instr(coalesce(c.device, ''), @q) > 0 OR instr(c.serial, @q) > 0)`);
        else
          where.push(`((u.username >= @q AND u.username < @qEnd) OR (u.email >= @q AND u.email < @qEnd)
                       OR (c.serial >= @q AND c.serial < @qEnd))`);
      }
      if (query.after) {
        where.push(
          order === 'DESC' ? `(${key}, c.id) < (@afterKey, @afterId)` : `(${key}, c.id) > (@afterKey, @afterId)`,
        );
        params.afterKey = query.after.key;
        params.afterId = query.after.id;
      }
      const sql = `SELECT c.*, u.username, u.email FROM certificates c JOIN users u ON u.id = c.user_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${key} ${order}, c.id ${order} LIMIT @limit`;
      const rows = statement(sql).all(params) as CertificateView[];
      const more = rows.length > query.limit;
      if (more) rows.pop();
      const last = rows.at(-1);
      return {
        rows,
        next:
          more && last ? { key: query.sort === 'issued' ? last.issued_at : last.not_after, id: last.id } : undefined,
      };
    },
  };
}

export type CertificateQueries = ReturnType<typeof certificateQueries>;
