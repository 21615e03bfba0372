-- Deleting a person erases their address from the audit log too (issue 15): the rows about them keep
-- what happened, with every address they had replaced by "[address erased]".
-- The log stays append-only otherwise. An UPDATE passes only while the setting `audit_erasing` names
-- a person already deleted, only for a row about that person (their user row, a certificate or an
-- invitation of theirs), only changing `detail`, and only to a text that holds the marker. The
-- deletion sets the setting, rewrites the rows and removes the setting in its transaction; no audit
-- row can be written while the setting is there, so the transaction must close the door before it
-- records the deletion, and a door left open would stop every audited change instead of staying open.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_update_only_erasure BEFORE UPDATE ON audit_log
  WHEN NOT coalesce(
    new.id IS old.id AND new.at IS old.at AND new.actor IS old.actor AND new.action IS old.action
    AND new.subject IS old.subject AND new.outcome IS old.outcome AND new.ip IS old.ip
    AND instr(new.detail, '[address erased]') > 0
    AND old.subject IN (
      SELECT 'user:' || u.username FROM users u
        WHERE u.username = (SELECT value FROM settings WHERE key = 'audit_erasing') AND u.deleted_at IS NOT NULL
      UNION ALL
      SELECT 'certificate:' || c.id FROM certificates c JOIN users u ON u.id = c.user_id
        WHERE u.username = (SELECT value FROM settings WHERE key = 'audit_erasing') AND u.deleted_at IS NOT NULL
      UNION ALL
      SELECT 'invitation:' || i.id FROM invitations i JOIN users u ON u.id = i.user_id
        WHERE u.username = (SELECT value FROM settings WHERE key = 'audit_erasing') AND u.deleted_at IS NOT NULL
    ), 0)
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only; only a deleted person''s addresses may be erased'); END;
CREATE TRIGGER audit_erasing_insert BEFORE INSERT ON settings
  WHEN new.key = 'audit_erasing'
    AND NOT EXISTS (SELECT 1 FROM users WHERE username = new.value AND deleted_at IS NOT NULL)
  BEGIN SELECT RAISE(ABORT, 'audit_erasing must name a deleted person'); END;
CREATE TRIGGER audit_erasing_update BEFORE UPDATE ON settings
  WHEN new.key = 'audit_erasing' OR old.key = 'audit_erasing'
  BEGIN SELECT RAISE(ABORT, 'audit_erasing must name a deleted person; set it once, then remove it'); END;
CREATE TRIGGER audit_log_no_insert_while_erasing BEFORE INSERT ON audit_log
  WHEN EXISTS (SELECT 1 FROM settings WHERE key = 'audit_erasing')
  BEGIN SELECT RAISE(ABORT, 'audit_erasing is set: remove it before recording in the audit log'); END;
