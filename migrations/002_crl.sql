-- Index for building the CRL: every revoked certificate, without scanning the active ones.
CREATE INDEX certificates_revoked ON certificates (revoked_at) WHERE status = 'revoked';
