-- The broker link (issue 16): what the portal manages in Mosquitto's dynamic security, the kicks
-- it still owes the broker, and the certificates it revokes to check that the broker reloaded its CRL.

-- Every dynsec client and role the portal created. Nothing else in dynsec is ever changed or deleted
-- by the portal; a dynsec client with a person's username that is not listed here is a conflict.
CREATE TABLE broker_managed (
  kind       TEXT NOT NULL CHECK (kind IN ('client', 'role')),
  name       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (kind, name)
);

-- A revoked certificate's device must be disconnected: queued in the revocation's transaction,
-- carried out once the CRL is known to be in force and the link is up (at once, or on reconnect).
CREATE TABLE broker_kicks (
  id             INTEGER PRIMARY KEY,
  username       TEXT NOT NULL,
  certificate_id INTEGER REFERENCES certificates (id),
  queued_at      TEXT NOT NULL,
  done_at        TEXT,
  outcome        TEXT
);
CREATE INDEX broker_kicks_pending ON broker_kicks (done_at) WHERE done_at IS NULL;

-- Probe certificates: signed by the CA for the portal itself (CN "Enroll CRL probe", never a
-- username), revoked from the start and listed in the CRL. While the broker still accepts one it
-- has not read that CRL. Short-lived: expired probes leave the CRL.
CREATE TABLE broker_probes (
  serial     TEXT PRIMARY KEY,
  pem        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  not_after   TEXT NOT NULL,
  covers_kick INTEGER NOT NULL         -- the newest broker_kicks.id when it was made: the kicks its CRL covers
);
