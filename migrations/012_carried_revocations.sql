-- Revocations a restore carried over from the CRL it replaced, for serials the restored database does
-- not know (certificates issued after the backup was taken, and revoked since): every CRL from then
-- on lists them, so a restore never lets a revoked phone back in. Only a restore writes here.
CREATE TABLE carried_revocations (
  serial     TEXT PRIMARY KEY,            -- lower-case hex, as certificates.serial
  revoked_at TEXT NOT NULL,               -- from the replaced CRL's entry
  reason     TEXT NOT NULL,               -- a RevocationReason
  carried_at TEXT NOT NULL
);
