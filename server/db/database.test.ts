import assert from 'node:assert/strict';
import { chmodSync, cpSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, test } from 'node:test';
import { migrationsDir } from '../paths.js';
import { tempDir } from '../testing/temp-dir.js';
import { migrate, MigrationError, openDatabase, readMigrations, withoutWaitingForDisk, type Db } from './database.js';
import { sessionsRepository } from './sessions.js';

function freshDb() {
  return openDatabase(path.join(tempDir(), 'enroll.db'));
}

/** The `synchronous` value of each statement `work` runs on `db` that changes a row, in order. */
function syncOfWrites(db: Db, work: () => void): number[] {
  const seen: number[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (!/^\s*(INSERT|UPDATE|DELETE)/i.test(source)) return statement;
    const run = statement.run.bind(statement);
    statement.run = (...args: unknown[]) => {
      seen.push(db.pragma('synchronous', { simple: true }) as number);
      return run(...args);
    };
    return statement;
  }) as typeof db.prepare;
  try {
    work();
  } finally {
    db.prepare = prepare;
  }
  return seen;
}

describe('database', () => {
  test('a write that need not wait for the disk runs at NORMAL, and the connection is FULL again after it, failed or not', () => {
    const db = freshDb();
    db.exec('CREATE TABLE t (x NOT NULL)');
    const during = withoutWaitingForDisk(db, () => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      return db.pragma('synchronous', { simple: true });
    });
    assert.equal(during, 1); // NORMAL
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.throws(() => withoutWaitingForDisk(db, () => db.prepare('INSERT INTO t VALUES (NULL)').run()), /NOT NULL/);
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL again after a failed write');
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 1);
  });

  test('inside a transaction, a write that need not wait for the disk is part of that transaction', () => {
    const db = freshDb();
    db.exec('CREATE TABLE t (x)');
    const both = db.transaction(() => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      withoutWaitingForDisk(db, () => db.prepare('INSERT INTO t VALUES (2)').run());
      throw new Error('rolled back');
    });
    assert.throws(both, /rolled back/);
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 0, 'both rolled back together');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
  });

  test('a signed-out session saved again by a request that loaded it before stays ended', () => {
    const db = freshDb();
    migrate(db, readMigrations(migrationsDir));
    let at = new Date('2026-11-28T12:00:00Z').getTime();
    const store = sessionsRepository(db, () => new Date(at)).store<{ admin?: string }>(60_000);
    const done = (error?: Error | null) => assert.ifError(error);
    const read = (id: string) => {
      let found: unknown = 'not called';
      store.get(id, (error, session) => {
        assert.ifError(error);
        found = session;
      });
      return found;
    };
    store.set('old', { admin: 'alice' }, done);
    store.destroy('old', done); // the sign-out
    store.set('old', { admin: 'alice' }, done); // the end of a request that loaded it before
    assert.equal(read('old'), null, 'not brought back');
    store.set('new', { admin: 'alice' }, done); // signing in again: a new id
    assert.deepEqual(read('new'), { admin: 'alice' });
    at += 60_000; // its row would have expired by now: the id is forgotten, and nothing is kept for it
    store.set('other', { admin: 'bob' }, done);
    assert.equal(read('old'), null);
  });

  test("a session's save does not wait for the disk; its end, a sign-out and the ending of sessions do", () => {
    const db = freshDb();
    migrate(db, readMigrations(migrationsDir));
    const now = () => new Date('2026-11-28T12:00:00Z');
    const done = (error?: Error | null) => assert.ifError(error);
    const seen = syncOfWrites(db, () => {
      const sessions = sessionsRepository(db, now);
      const store = sessions.store<{ admin?: string }>(60_000);
      store.set('one', { admin: 'alice' }, done); // prune, then put
      store.destroy('one', done);
      sessions.endFor('alice'); // note, then delete
      sessions.endAll();
    });
    assert.deepEqual(seen, [1, 1, 2, 2, 2, 2, 2]);
  });

  test('sets the pragmas of the design', () => {
    const db = freshDb();
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  });

  test('a database of an older version, made 0644 with its -wal and -shm, is 0600 once opened', () => {
    const file = path.join(tempDir(), 'enroll.db');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x)');
    for (const name of [file, `${file}-wal`, `${file}-shm`]) chmodSync(name, 0o644);
    const db = openDatabase(file);
    try {
      for (const name of [file, `${file}-wal`, `${file}-shm`]) assert.equal(statSync(name).mode & 0o777, 0o600, name);
    } finally {
      db.close();
      old.close();
    }
  });

  test('migrates a fresh database, then does nothing on restart', () => {
    const db = freshDb();
    const migrations = readMigrations(migrationsDir);
    assert.deepEqual(
      migrate(db, migrations),
      migrations.map((m) => m.version),
    );
    assert.deepEqual(migrate(db, migrations), []);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    for (const table of ['admins', 'audit_log', 'certificates', 'sessions', 'settings', 'users'])
      assert.ok(tables.includes(table), table);
  });

  test('refuses a migration edited after it was applied', () => {
    const db = freshDb();
    const dir = tempDir();
    cpSync(migrationsDir, dir, { recursive: true });
    migrate(db, readMigrations(dir));
    writeFileSync(path.join(dir, '001_initial.sql'), '-- edited\n', { flag: 'a' });
    assert.throws(
      () => migrate(db, readMigrations(dir)),
      (error: Error) => error instanceof MigrationError && /differs from the one applied/.test(error.message),
    );
  });

  test('refuses a database from a newer version', () => {
    const db = freshDb();
    migrate(db, readMigrations(migrationsDir));
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 'x', 'now')").run();
    assert.throws(() => migrate(db, readMigrations(migrationsDir)), /does not know/);
  });

  test('a failing migration leaves no trace', () => {
    const db = freshDb();
    const dir = tempDir();
    cpSync(migrationsDir, dir, { recursive: true });
    const next = String(readMigrations(dir).at(-1)!.version + 1).padStart(3, '0');
    writeFileSync(path.join(dir, `${next}_broken.sql`), 'CREATE TABLE half (x);\nTHIS IS NOT SQL;\n');
    assert.throws(() => migrate(db, readMigrations(dir)));
    assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get(), 0);
    assert.equal(db.prepare('SELECT count(*) FROM schema_migrations WHERE version = ?').pluck().get(Number(next)), 0);
  });

  test('the audit log is append-only', () => {
    const db = freshDb();
    migrate(db, readMigrations(migrationsDir));
    db.prepare("INSERT INTO audit_log (at, actor, action, outcome) VALUES ('t', 'a', 'x', 'success')").run();
    assert.throws(() => db.prepare("UPDATE audit_log SET actor = 'b'").run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/);
  });
});
