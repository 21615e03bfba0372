-- Day-one files (issue 15): one active certificate per (person, device) from now on.
--
-- Earlier versions let a person hold two active certificates for one device (or two without a
-- device name, whose configuration files both said "phone"): their apps share a client id and the
-- broker disconnects one for the other. Issuing now refuses that, so such pairs can only come from
-- before this migration: it lists them once, and the certificate list shows those still active and
-- unexpired (a scan of every active certificate on each page view would cost the list its speed).
CREATE TABLE device_collisions (
  certificate_id INTEGER PRIMARY KEY REFERENCES certificates (id)
);
INSERT INTO device_collisions (certificate_id)
  SELECT a.id FROM certificates a
  WHERE a.status = 'active'
    AND EXISTS (
      SELECT 1 FROM certificates b
      WHERE b.user_id = a.user_id AND b.id <> a.id AND b.status = 'active'
        AND coalesce(b.device, 'phone') = coalesce(a.device, 'phone')
    );
