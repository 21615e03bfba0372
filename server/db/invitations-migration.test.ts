// Migration 009 rebuilds `certificates` to widen its delivery states: rows, ids and the rows of
// other tables that reference it (other migrations add such tables) must come through, and the
// new state must be accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migrationsDir } from '../paths.js';
import { migrate, readMigrations } from './database.js';

test('009 keeps certificates, their ids and the rows that reference them; picked_up is a delivery state', () => {
  const all = readMigrations(migrationsDir);
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    all.filter((m) => m.version < 9),
  );
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

test('013 counts no reopening for the links an earlier release made, and mends the rows its resend left behind', () => {
  const all = readMigrations(migrationsDir);
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    all.filter((m) => m.version < 13),
  );
  db.exec(`INSERT INTO users (username, email, created_at) VALUES ('alice', 'alice@example.org', '2026-01-01');
    INSERT INTO certificates (id, user_id, serial, fingerprint_sha256, pem, key_bits, not_before, not_after,
      bundle_format, issued_by, issued_at, status, delivery, revoked_at, revocation_reason) VALUES
      (1, 1, '01', 'f1', 'p', 2048, 'a', 'b', 'compatible', 'admin', 't', 'revoked', 'failed', 't', 'keyCompromise'),
      (2, 1, '02', 'f2', 'p', 2048, 'a', 'b', 'compatible', 'admin', 't', 'revoked', 'picked_up', 't', 'keyCompromise'),
      (3, 1, '03', 'f3', 'p', 2048, 'a', 'b', 'compatible', 'admin', 't', 'active', 'picked_up', NULL, NULL);`);
  const invitation = db.prepare(`INSERT INTO invitations (id, user_id, device, token_sha256, code_hmac, kind, days,
      key_bits, bundle_format, created_by, created_at, expires_at, state, wrong_codes, certificate_id, closed_at)
    VALUES (?, 1, ?, ?, 'c', 'mail', 30, 2048, 'compatible', 'admin', 'a', 'b', ?, ?, ?, ?)`);
  invitation.run(1, 'pixel', 't1', 'open', 0, 1, null); // resent after its bundle was revoked
  invitation.run(2, 'ipad', 't2', 'redeemed', 1, 1, 'c'); // resent, redeemed again, stopped while minting
  invitation.run(3, 'tab', 't3', 'redeemed', 5, 1, 'c'); // the same, with its tries used up
  invitation.run(4, 'phone', 't4', 'redeemed', 0, 2, 'c'); // picked up, then the phone was lost
  invitation.run(5, 'watch', 't5', 'redeemed', 0, 3, 'c'); // picked up, in use
  invitation.run(6, 'car', 't6', 'cancelled', 0, 1, 'c'); // history
  const before = db.prepare('SELECT * FROM invitations ORDER BY id').all() as Array<Record<string, unknown>>;
  migrate(db, all);
  const after = db.prepare('SELECT * FROM invitations ORDER BY id').all() as Array<Record<string, unknown>>;
  assert.deepEqual(
    after,
    before.map((row) => ({
      ...row,
      reopenings: 0,
      ...(row.id === 1 && { certificate_id: null }),
      ...(row.id === 2 && { state: 'open', closed_at: null, certificate_id: null }),
      ...(row.id === 3 && { state: 'cancelled', certificate_id: null }),
    })),
  );
  assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), []);
});
