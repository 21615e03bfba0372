-- Sign-in hardening, sessions per admin, and audit retention (issue 14).

-- An admin can be disabled (cannot sign in; their sessions end) instead of only deleted.
ALTER TABLE admins ADD COLUMN disabled_at TEXT;

-- The sign-in back-off of every name tried, real or not, in one place: a 429 after a restart does not
-- tell which names exist. Keyed by the SHA-256 of the lower-cased name (a password typed into the
-- username field is not kept in clear). The admins' own counters move here; a count in progress is
-- forgotten by the upgrade (its back-off starts again from zero).
CREATE TABLE sign_in_failures (
  name_sha256    TEXT PRIMARY KEY,
  failures       INTEGER NOT NULL,            -- consecutive failures, counted before each check
  last_failed_at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_age ON sign_in_failures (last_failed_at);
ALTER TABLE admins DROP COLUMN failed_logins;
ALTER TABLE admins DROP COLUMN last_failed_at;

-- Sessions: the id is stored as its SHA-256 (a copy of the database is no key to a live session), and
-- the admin it belongs to is a column, so that a password reset or a disabled account ends them all.
-- The sessions of the previous release hold raw ids: they end here, and admins sign in again.
DROP TABLE sessions;
CREATE TABLE sessions (
  id_sha256  TEXT PRIMARY KEY,
  admin      TEXT COLLATE NOCASE,
  data       TEXT NOT NULL,
  expires_at INTEGER NOT NULL                 -- epoch milliseconds
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_admin ON sessions (admin);

-- The audit log stays append-only, except for rows older than the retention (AUDIT_RETENTION_DAYS).
-- A prune sets `audit_prune_before` in settings, deletes the rows older than it and removes the
-- setting, in one transaction. Without that setting no row can be deleted, and the setting cannot
-- name a time less than a day ago: nothing recent can ever be deleted.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_delete_only_expired BEFORE DELETE ON audit_log
  WHEN coalesce(old.at < (SELECT value FROM settings WHERE key = 'audit_prune_before'), 0) = 0
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only; only rows older than the retention may be pruned'); END;
CREATE TRIGGER audit_prune_before_insert BEFORE INSERT ON settings
  WHEN new.key = 'audit_prune_before' AND new.value > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
  BEGIN SELECT RAISE(ABORT, 'audit_prune_before must be at least a day ago'); END;
CREATE TRIGGER audit_prune_before_update BEFORE UPDATE ON settings
  WHEN new.key = 'audit_prune_before' AND new.value > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
  BEGIN SELECT RAISE(ABORT, 'audit_prune_before must be at least a day ago'); END;
