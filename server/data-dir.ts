// DATA_DIR's layout, in one place: which file is which, with the modes DESIGN.md gives them.
// Opening the folder (and migrating its database) is shared by the server, the admin commands
// and the tests.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate, openDatabase, readMigrations, type Db } from './db/database.js';
import { migrationsDir } from './paths.js';

export interface DataFiles {
  dir: string;
  /** SQLite database (0600), with its -wal and -shm companions. */
  database: string;
  /** The CA certificate in PEM (0644): the broker's cafile. */
  caCert: string;
  /** The CA key, PKCS#8, encrypted when CA_KEY_PASSPHRASE is set (0600). */
  caKey: string;
  /** The CRL in PEM (0644): the broker's crlfile, replaced atomically and never moved. */
  crl: string;
  /** Mail written as .eml files when no SMTP server is configured. */
  outbox: string;
}

export function dataFiles(dir: string): DataFiles {
  return {
    dir,
    database: path.join(dir, 'enroll.db'),
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    crl: path.join(dir, 'crl.pem'),
    outbox: path.join(dir, 'outbox'),
  };
}

/** Makes DATA_DIR if needed and opens its database, migrated to the current schema. */
export function openDataDir(dataDir: string): Db {
  const files = dataFiles(dataDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o750 });
  const db = openDatabase(files.database);
  try {
    migrate(db, readMigrations(migrationsDir));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
