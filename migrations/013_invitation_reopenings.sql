-- How many times a redeemed pickup link opened again without a download (Done before any, its hold
-- running out, a stop): after a few it is cancelled instead, since each round makes a key and
-- revokes a certificate. A resend starts the count again. Links of earlier releases start at none.
ALTER TABLE invitations ADD COLUMN reopenings INTEGER NOT NULL DEFAULT 0;

-- Earlier releases left two kinds of rows behind that the portal now reads otherwise:
-- * a resent link kept the id of the certificate of its previous round (revoked): an open link
--   names no certificate now;
-- * such a link, redeemed again and stopped before its new certificate was recorded, still named
--   the old, revoked one that was never picked up, so the next start did not open it again, and
--   neither resend nor cancel could touch it. It opens again now, as the start does for a
--   redemption a stop interrupted (cancelled when five wrong codes were typed at it).
UPDATE invitations SET certificate_id = NULL WHERE state = 'open';
UPDATE invitations
   SET state = CASE WHEN wrong_codes >= 5 THEN 'cancelled' ELSE 'open' END,
       closed_at = CASE WHEN wrong_codes >= 5 THEN closed_at ELSE NULL END,
       certificate_id = NULL
 WHERE state = 'redeemed'
   AND certificate_id IN (SELECT id FROM certificates WHERE status = 'revoked' AND delivery IN ('pending', 'failed'));
