// Opens what the portal keeps under DATA_DIR: the data folder and the migrated database.
// Shared by the server (main.ts), the admin commands (cli.ts) and the tests.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { migrate, openDatabase, readMigrations, type Db } from './db/database.js';
import { migrationsDir } from './paths.js';

export function openDataDir(config: Config): Db {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o750 });
  const db = openDatabase(path.join(config.dataDir, 'enroll.db'));
  try {
    migrate(db, readMigrations(migrationsDir));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
