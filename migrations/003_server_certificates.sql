-- Broker (TLS server) certificates signed by the CA: recorded like client certificates, so that
-- everything the CA ever signed is listed and can be revoked.
CREATE TABLE server_certificates (
  id                 INTEGER PRIMARY KEY,
  serial             TEXT NOT NULL UNIQUE,
  names              TEXT NOT NULL,            -- host names and IP addresses, comma separated
  fingerprint_sha256 TEXT NOT NULL,
  pem                TEXT NOT NULL,
  not_before         TEXT NOT NULL,
  not_after          TEXT NOT NULL,
  issued_by          TEXT NOT NULL,
  issued_at          TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  revoked_at         TEXT,
  revocation_reason  TEXT,
  revoked_by         TEXT
);
CREATE INDEX server_certificates_revoked ON server_certificates (revoked_at) WHERE status = 'revoked';
