-- Pickup links (issue 18): an invitation lets a person fetch their bundle on the phone itself. It
-- holds no key and no certificate until it is redeemed; the token and the pickup code are stored
-- only as hashes (the code's hash is keyed by the token, so a copy of the database cannot test
-- codes offline without the link).

-- A certificate handed over through a pickup link is `picked_up`. SQLite cannot widen a CHECK in
-- place, so the table is rebuilt with every delivery state of DESIGN.md (`outbox` and `forwarded`
-- belong to the mail path), rows and ids unchanged. Tables of other migrations may reference
-- `certificates`: with foreign keys deferred, dropping the table counts their rows as dangling
-- and inserting the same ids into the new table settles them again before the commit.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE certificates_before_009 AS SELECT * FROM certificates;
DROP TABLE certificates;
CREATE TABLE certificates (
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
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
INSERT INTO certificates SELECT id, user_id, serial, device, fingerprint_sha256, pem, key_bits, not_before,
  not_after, bundle_format, status, delivery, delivery_error, issued_by, issued_at, revoked_at, revocation_reason,
  revoked_by FROM certificates_before_009;
DROP TABLE certificates_before_009;
CREATE INDEX certificates_user ON certificates (user_id, id);
CREATE INDEX certificates_issued ON certificates (issued_at, id);
CREATE INDEX certificates_expiry ON certificates (not_after, id);
CREATE INDEX certificates_status_issued ON certificates (status, issued_at, id);
CREATE INDEX certificates_status_expiry ON certificates (status, not_after, id);
CREATE INDEX certificates_pending ON certificates (delivery) WHERE delivery = 'pending';
CREATE INDEX certificates_revoked ON certificates (revoked_at) WHERE status = 'revoked';

CREATE TABLE invitations (
  id             INTEGER PRIMARY KEY,
  user_id        INTEGER NOT NULL REFERENCES users (id),
  device         TEXT,
  token_sha256   TEXT NOT NULL UNIQUE,          -- SHA-256 of the 128-bit token in the link
  code_hmac      TEXT NOT NULL,                 -- HMAC-SHA256 of the pickup code, keyed by the token
  kind           TEXT NOT NULL CHECK (kind IN ('mail', 'qr')),
  days           INTEGER NOT NULL,              -- asked-for validity; clamped by the CA's end at redemption
  key_bits       INTEGER NOT NULL,
  bundle_format  TEXT NOT NULL CHECK (bundle_format IN ('compatible', 'modern')),
  created_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  expires_at     TEXT NOT NULL,
  -- `expired` is written when a late redemption finds it so; reads derive it from expires_at.
  state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'redeemed', 'expired', 'cancelled')),
  wrong_codes    INTEGER NOT NULL DEFAULT 0,
  certificate_id INTEGER REFERENCES certificates (id),
  closed_at      TEXT
);
CREATE INDEX invitations_user_device ON invitations (user_id, device) WHERE state = 'open';
CREATE INDEX invitations_created ON invitations (created_at, id);
