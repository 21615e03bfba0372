-- The portal's data model (see DESIGN.md). Times are ISO 8601 UTC text, which sorts correctly.

CREATE TABLE admins (
  id             INTEGER PRIMARY KEY,
  username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash  TEXT NOT NULL,               -- scrypt$N$r$p$salt$hash: parameters kept with the hash
  failed_logins  INTEGER NOT NULL DEFAULT 0,  -- consecutive failures, for the sign-in back-off
  last_failed_at TEXT,
  created_at     TEXT NOT NULL,
  last_login_at  TEXT
);

CREATE TABLE users (
  id         INTEGER PRIMARY KEY,
  username   TEXT NOT NULL UNIQUE,            -- certificate CN and MQTT username
  email      TEXT NOT NULL,
  name       TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX users_email ON users (email);

CREATE TABLE certificates (
  id                 INTEGER PRIMARY KEY,
  user_id            INTEGER NOT NULL REFERENCES users (id),
  serial             TEXT NOT NULL UNIQUE,    -- lower-case hex, no leading zeros stripped
  device             TEXT,
  fingerprint_sha256 TEXT NOT NULL,
  pem                TEXT NOT NULL,           -- the certificate only; never a key or bundle
  key_bits           INTEGER NOT NULL,
  not_before         TEXT NOT NULL,
  not_after          TEXT NOT NULL,
  bundle_format      TEXT NOT NULL CHECK (bundle_format IN ('compatible', 'modern')),
  status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  delivery           TEXT NOT NULL DEFAULT 'pending' CHECK (delivery IN ('pending', 'sent', 'failed')),
  delivery_error     TEXT,
  issued_by          TEXT NOT NULL,
  issued_at          TEXT NOT NULL,
  revoked_at         TEXT,
  revocation_reason  TEXT,
  revoked_by         TEXT,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX certificates_user ON certificates (user_id, id);
CREATE INDEX certificates_issued ON certificates (issued_at, id);
CREATE INDEX certificates_expiry ON certificates (not_after, id);
CREATE INDEX certificates_status_issued ON certificates (status, issued_at, id);
CREATE INDEX certificates_status_expiry ON certificates (status, not_after, id);
CREATE INDEX certificates_pending ON certificates (delivery) WHERE delivery = 'pending';

CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT,
  outcome TEXT NOT NULL,
  detail  TEXT,
  ip      TEXT
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE sessions (
  id         TEXT PRIMARY KEY,
  data       TEXT NOT NULL,
  expires_at INTEGER NOT NULL                 -- epoch milliseconds
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
