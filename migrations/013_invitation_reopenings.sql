-- How many times a redeemed pickup link opened again without a download (Done before any, its hold
-- running out, a stop): after a few it is cancelled instead, since each round makes a key and
-- revokes a certificate. A resend starts the count again. Links of earlier releases start at none.
ALTER TABLE invitations ADD COLUMN reopenings INTEGER NOT NULL DEFAULT 0;
