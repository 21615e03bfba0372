// Migration 009 rebuilds `certificates` to widen its delivery states: rows, ids and the rows of
// other tables that reference it (other migrations add such tables) must come through, and the
// new state must be accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migrationsDir } from '../paths.js';
import { migrate, readMigrations } from './database.js';

/** An in-memory database with the migrations before `version` applied, and all of them to apply next. */
function migratedBefore(version: number) {
  const all = readMigrations(migrationsDir);
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    all.filter((m) => m.version < version),
  );
  return { db, all };
}

test('009 keeps certificates, their ids and the rows that reference them; picked_up is a delivery state', () => {
  const { db, all } = migratedBefore(9);
  db.exec(`INSERT INTO users (username, email, created_at) VALUES ('alice', 'alice@example.org', '2026-01-01');
    INSERT INTO certificates (id, user_id, serial, fingerprint_sha256, pem, key_bits, not_before, not_after,
      bundle_format, issued_by, issued_at) VALUES (7, 1, '0a', 'f', 'p', 2048, 'a', 'b', 'compatible', 'admin', 't');
    CREATE TABLE referring (certificate_id INTEGER PRIMARY KEY REFERENCES certificates (id));
    INSERT INTO referring VALUES (7);`);
  migrate(db, all);
  assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), []);
  assert.equal(db.prepare('SELECT serial FROM certificates JOIN referring ON certificate_id = id').pluck().get(), '0a');
  db.exec("UPDATE certificates SET delivery = 'picked_up'");
  assert.throws(() => db.exec("UPDATE certificates SET delivery = 'lost'"), /CHECK constraint failed/);
  assert.equal(
    db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'certificates_before_009'").pluck().get(),
    0,
  );
});

test('013 counts no reopening for the links an earlier release made, and keeps them as they were', () => {
  const { db, all } = migratedBefore(13);
  db.exec(`INSERT INTO users (username, email, created_at) VALUES ('alice', 'alice@example.org', '2026-01-01');
    INSERT INTO invitations (user_id, device, token_sha256, code_hmac, kind, days, key_bits, bundle_format,
      created_by, created_at, expires_at, state, wrong_codes)
    VALUES (1, 'pixel', 't', 'c', 'mail', 30, 2048, 'compatible', 'admin', 'a', 'b', 'redeemed', 2);`);
  const before = db.prepare('SELECT * FROM invitations').get() as Record<string, unknown>;
  migrate(db, all);
  assert.deepEqual(db.prepare('SELECT * FROM invitations').get(), { ...before, reopenings: 0 });
});
