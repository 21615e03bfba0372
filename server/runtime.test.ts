// The native SQLite binding must be safe on the runtime it runs under. better-sqlite3 12 wraps its
// objects in node::ObjectWrap, which is compiled into the addon from Node's headers; from Node
// 24.19.0 on, that header's destructor calls node::RemoveEnvironmentCleanupHook, and Node aborts the
// process when the collector frees a statement outside JavaScript (nodejs/node#65446): a portal
// that dies at a random GC. scripts/node24.sh and the image build it against 24.18.1's headers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';

const require = createRequire(import.meta.url);

test("better-sqlite3's native build never calls node::RemoveEnvironmentCleanupHook", () => {
  const db = new Database(':memory:');
  try {
    assert.deepEqual(db.prepare('SELECT 1 AS one').get(), { one: 1 });
  } finally {
    db.close();
  }
  // The build that just loaded: `bindings` takes build/Release first.
  const addon = path.join(
    path.dirname(require.resolve('better-sqlite3/package.json')),
    'build/Release/better_sqlite3.node',
  );
  const binary = readFileSync(addon);
  assert.ok(binary.includes('_ZN4node25AddEnvironmentCleanupHook'), 'the check reads the symbol table');
  assert.ok(
    !binary.includes('_ZN4node28RemoveEnvironmentCleanupHook'),
    `${addon} was compiled against Node >= 24.19 headers (Node ${process.version}); rebuild it against 24.18.1's (scripts/node24.sh)`,
  );
});
