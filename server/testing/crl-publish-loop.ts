// Child process for the crash test: publishes the CRL of DATA_DIR over and over until killed.
import { readFileSync } from 'node:fs';
import { dataFiles, openDataDir } from '../data-dir.js';
import { loadConfig } from '../config.js';
import { auditRepository } from '../db/audit.js';
import { certificatesRepository } from '../db/certificates.js';
import { settingsRepository } from '../db/settings.js';
import { CrlPublisher } from '../enroll/crl-publisher.js';
import { loadCa } from '../pki/ca.js';

const config = loadConfig();
const db = openDataDir(config.dataDir);
const files = dataFiles(config.dataDir);
const ca = loadCa(readFileSync(files.caCert, 'utf8'), readFileSync(files.caKey, 'utf8'), undefined, new Date());
const certificates = certificatesRepository(db);
const publisher = new CrlPublisher({
  db,
  ca,
  file: files.crl,
  settings: settingsRepository(db),
  audit: auditRepository(db),
  now: () => new Date(),
  reloadCommand: undefined,
  revoked: () => certificates.revokedEntries(),
  revokedMark: () => certificates.revokedMark(),
});
// Each publication is announced before it starts and after it ends (writes to a pipe are synchronous
// on Linux), so the test knows a kill landed while one was in flight.
for (let round = 1; ; round++) {
  process.stdout.write(`publishing ${round}\n`);
  await publisher.publish('test', 'crash test');
  process.stdout.write(`published ${round}\n`);
}
