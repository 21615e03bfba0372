-- Who is connected (issue 17): per person and device that holds a certificate, the time the portal
-- last saw a message from the device on its OwnTracks topic and the time the broker last published
-- the app's last will ("lwt": the connection was lost). Never a payload, never a coordinate. A row
-- exists only for a (user, device) named in `certificates` (device '' stands for the person's
-- certificates without a device name), so invented device names on the broker cannot grow it.
CREATE TABLE device_presence (
  user_id         INTEGER NOT NULL REFERENCES users (id),
  device          TEXT NOT NULL,               -- certificates.device, or '' for a certificate without one
  last_message_at TEXT,                        -- ISO 8601 UTC, the portal's clock when the message arrived
  last_will_at    TEXT,                        -- ISO 8601 UTC, when the broker published the app's last will
  PRIMARY KEY (user_id, device)
) WITHOUT ROWID;

-- Sharing groups (issue 17): people in a group see each other's locations in the app. Each maps to a
-- dynamic-security group and role named after its id (share-<id>), so a rename changes nothing on the
-- broker.
CREATE TABLE sharing_groups (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at TEXT NOT NULL
);
CREATE TABLE sharing_group_members (
  group_id INTEGER NOT NULL REFERENCES sharing_groups (id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES users (id),
  added_at TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX sharing_group_members_user ON sharing_group_members (user_id);
