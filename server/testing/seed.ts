// Seeds certificates through the portal's own repositories (tests and benchmarks).
import type { Db } from '../db/database.js';
import { certificatesRepository } from '../db/certificates.js';
import { usersRepository } from '../db/users.js';
import { randomSerial } from '../pki/serial.js';

const DAY = 86400_000;

export interface SeedOptions {
  count: number;
  now: Date;
  /** Fraction of certificates revoked. */
  revoked?: number;
  /** Placeholder certificate text: seeded rows are for listing, not for TLS. */
  pem?: string;
}

export function seedCertificates(db: Db, options: SeedOptions): void {
  const users = usersRepository(db);
  const certificates = certificatesRepository(db);
  const pem = options.pem ?? '-----BEGIN CERTIFICATE-----\nseeded\n-----END CERTIFICATE-----\n';
  db.transaction(() => {
    for (let i = 0; i < options.count; i++) {
      const username = `user${String(i).padStart(6, '0')}`;
      const user = users.find(username) ?? users.create(username, `${username}@example.org`, options.now);
      const issuedAt = new Date(options.now.getTime() - (options.count - i) * 60_000);
      const notAfter = new Date(issuedAt.getTime() + ((i % 400) - 20) * DAY); // some expired, some soon, most later
      const id = certificates.insert({
        user_id: user.id,
        serial: randomSerial(),
        device: i % 2 ? 'phone' : 'tablet',
        fingerprint_sha256: 'seeded',
        pem,
        key_bits: 2048,
        not_before: issuedAt.toISOString(),
        not_after: notAfter.toISOString(),
        bundle_format: 'compatible',
        issued_by: 'seed',
        issued_at: issuedAt.toISOString(),
      });
      certificates.setDelivery(id, 'sent');
      if (options.revoked && i % Math.round(1 / options.revoked) === 0)
        certificates.revoke(id, issuedAt, 'superseded', 'seed');
    }
  })();
}
