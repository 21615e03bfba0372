// The list's search takes one of two paths by how many rows a term matches (the indexes for few,
// a read in list order for many): both must give the same pages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataDir } from '../data-dir.js';
import { seedCertificates } from '../testing/seed.js';
import { tempDir } from '../testing/temp-dir.js';
import { certificateQueries, type ListQuery } from './certificate-list.js';

test('a broad term read in list order gives the pages the index lookup gives', () => {
  const db = openDataDir(tempDir());
  const now = new Date();
  seedCertificates(db, { count: 90, now, revoked: 0.1 });
  db.prepare("UPDATE users SET email = 'Someone@Example.net' WHERE username = 'user000003'").run();
  const indexed = certificateQueries(db); // 90 rows: every term is narrow
  const scanned = certificateQueries(db, { narrow: 1 }); // every term is broad
  const ids = (queries: typeof indexed, query: Partial<ListQuery>) => {
    const all: number[] = [];
    let after: ListQuery['after'];
    do {
      const page = queries.page({ status: 'all', sort: 'issued', limit: 20, now, ...query, after });
      all.push(...page.rows.map((row) => row.id));
      after = page.next;
    } while (after);
    return all;
  };
  for (const search of ['example', 'phone', 'tablet', 'r00004', 'someone@example.net', 'us', 'so', 'zz']) {
    for (const query of [{ search }, { search, status: 'revoked' as const }, { search, sort: 'expiry' as const }]) {
      const expected = ids(indexed, query);
      assert.deepEqual(ids(scanned, query), expected, JSON.stringify(query));
    }
  }
  assert.equal(ids(indexed, { search: 'example' }).length, 90);
  assert.equal(ids(indexed, { search: 'someone@example.net' }).length, 1);
  db.close();
});

test('"issued but never connected" counts only what reached the person: a pickup bundle not downloaded is never connected', () => {
  const db = openDataDir(tempDir());
  const now = new Date();
  seedCertificates(db, { count: 2, now: new Date(now.getTime() - 3600_000) }); // both delivered ('sent')
  // The same device published since both were issued (the old phone, still on the broker).
  for (const row of db.prepare('SELECT user_id, device FROM certificates').all() as Array<{
    user_id: number;
    device: string;
  }>)
    db.prepare('INSERT INTO device_presence (user_id, device, last_message_at) VALUES (?, ?, ?)').run(
      row.user_id,
      row.device,
      now.toISOString(),
    );
  db.prepare('UPDATE certificates SET not_after = ?').run(new Date(now.getTime() + 86400_000).toISOString());
  db.prepare("UPDATE certificates SET delivery = 'pending' WHERE id = 1").run(); // a pickup's bundle, not downloaded yet
  const page = certificateQueries(db).page({ status: 'all', sort: 'issued', limit: 20, now, neverConnected: true });
  assert.deepEqual(
    page.rows.map((row) => row.id),
    [1],
  );
  db.close();
});
