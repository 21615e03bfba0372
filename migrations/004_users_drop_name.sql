-- users.name was never read or written: a person is their username (the certificate CN) and
-- their address. Nothing is lost: every row holds NULL there (the upgrade test checks it).
ALTER TABLE users DROP COLUMN name;
