-- Pickup links (issue 18): an invitation lets a person fetch their bundle on the phone itself. It
-- holds no key and no certificate until it is redeemed; the token and the pickup code are stored
-- only as hashes (the code's hash is keyed by the token, so a copy of the database cannot test
-- codes offline without the link).

-- A certificate handed over through a pickup link is `picked_up`: 007 already widened the
-- delivery states for it.
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
