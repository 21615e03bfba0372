-- Day-one pages (issue 15): delivery states, substring search, people.

-- Delivery states of DESIGN.md. `sent` meant "handed over" whether an SMTP server accepted the mail
-- or it was written to the outbox; now `sent` is only the former, `outbox` the latter until an admin
-- marks it `forwarded`; `picked_up` is for pickup links. A CHECK constraint cannot be altered in
-- SQLite, so the table is rebuilt. 006's device_collisions references it: its rows are set aside
-- while the old table is dropped and put back once the rebuilt one holds the same ids (a deferred
-- foreign-key check would still count the drop's violations at commit). `replaces` names the
-- certificate a Replace supersedes once this one is forwarded (a bundle still in the outbox has
-- reached nobody).
CREATE TEMP TABLE device_collisions_007 AS SELECT certificate_id FROM device_collisions;
DELETE FROM device_collisions;
CREATE TABLE certificates_007 (
  id                 INTEGER PRIMARY KEY,
  user_id            INTEGER NOT NULL REFERENCES users (id),
  serial             TEXT NOT NULL UNIQUE,
  device             TEXT,
  fingerprint_sha256 TEXT NOT NULL,
  pem                TEXT NOT NULL,
  key_bits           INTEGER NOT NULL,
  not_before         TEXT NOT NULL,
  not_after          TEXT NOT NULL,
  bundle_format      TEXT NOT NULL CHECK (bundle_format IN ('compatible', 'modern')),
  status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  delivery           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (delivery IN ('pending', 'sent', 'outbox', 'forwarded', 'picked_up', 'failed')),
  delivery_error     TEXT,
  issued_by          TEXT NOT NULL,
  issued_at          TEXT NOT NULL,
  revoked_at         TEXT,
  revocation_reason  TEXT,
  revoked_by         TEXT,
  replaces           INTEGER REFERENCES certificates_007 (id),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
INSERT INTO certificates_007 (id, user_id, serial, device, fingerprint_sha256, pem, key_bits, not_before, not_after,
    bundle_format, status, delivery, delivery_error, issued_by, issued_at, revoked_at, revocation_reason, revoked_by)
  SELECT id, user_id, serial, device, fingerprint_sha256, pem, key_bits, not_before, not_after,
    bundle_format, status, delivery, delivery_error, issued_by, issued_at, revoked_at, revocation_reason, revoked_by
  FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_007 RENAME TO certificates;
INSERT INTO device_collisions (certificate_id) SELECT certificate_id FROM temp.device_collisions_007;
DROP TABLE temp.device_collisions_007;
CREATE INDEX certificates_user ON certificates (user_id, id);
CREATE INDEX certificates_issued ON certificates (issued_at, id);
CREATE INDEX certificates_expiry ON certificates (not_after, id);
CREATE INDEX certificates_status_issued ON certificates (status, issued_at, id);
CREATE INDEX certificates_status_expiry ON certificates (status, not_after, id);
CREATE INDEX certificates_pending ON certificates (delivery) WHERE delivery = 'pending';
CREATE INDEX certificates_revoked ON certificates (revoked_at) WHERE status = 'revoked';
CREATE INDEX certificates_outbox ON certificates (delivery) WHERE delivery = 'outbox';
CREATE INDEX certificates_replaces ON certificates (replaces) WHERE replaces IS NOT NULL;

-- Mail that earlier versions wrote to the outbox was recorded as `sent`; its audit row says where it went.
UPDATE certificates SET delivery = 'outbox'
  WHERE delivery = 'sent'
    AND id IN (SELECT CAST(substr(subject, 13) AS INTEGER) FROM audit_log
               WHERE action = 'mail' AND outcome = 'success' AND subject LIKE 'certificate:%'
                 AND detail LIKE '%: written to outbox/%');

-- Search by any part of a username, email, device or serial: FTS5 with the trigram tokenizer over
-- the rows themselves (external content), kept up to date by triggers, so an index entry commits
-- or rolls back with its row. Queries shorter than three characters are served by prefix instead.
CREATE VIRTUAL TABLE users_search USING fts5 (
  username, email, content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
  INSERT INTO users_search (rowid, username, email) VALUES (new.id, new.username, new.email);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF username, email ON users BEGIN
  INSERT INTO users_search (users_search, rowid, username, email) VALUES ('delete', old.id, old.username, old.email);
  INSERT INTO users_search (rowid, username, email) VALUES (new.id, new.username, new.email);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
  INSERT INTO users_search (users_search, rowid, username, email) VALUES ('delete', old.id, old.username, old.email);
END;
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE certificates_search USING fts5 (
  device, serial, content = 'certificates', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER certificates_search_insert AFTER INSERT ON certificates BEGIN
  INSERT INTO certificates_search (rowid, device, serial) VALUES (new.id, new.device, new.serial);
END;
CREATE TRIGGER certificates_search_update AFTER UPDATE OF device, serial ON certificates BEGIN
  INSERT INTO certificates_search (certificates_search, rowid, device, serial) VALUES ('delete', old.id, old.device, old.serial);
  INSERT INTO certificates_search (rowid, device, serial) VALUES (new.id, new.device, new.serial);
END;
CREATE TRIGGER certificates_search_delete AFTER DELETE ON certificates BEGIN
  INSERT INTO certificates_search (certificates_search, rowid, device, serial) VALUES ('delete', old.id, old.device, old.serial);
END;
INSERT INTO certificates_search (certificates_search) VALUES ('rebuild');

-- People can be deleted: their certificates revoked (the serials stay in the CRL), their address
-- erased, the row kept as a tombstone so the certificates and the audit log still name them.
ALTER TABLE users ADD COLUMN deleted_at TEXT;
