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
