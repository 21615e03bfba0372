// The `settings` table: small named values the portal keeps (session secret, CRL number, ...).
import type { Db } from './database.js';

export function settingsRepository(db: Db) {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const put = db.prepare<[string, string]>(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const insertIfMissing = db.prepare<[string, string]>(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
  );
  return {
    get: (key: string) => get.get(key)?.value,
    put: (key: string, value: string) => void put.run(key, value),
    /** Returns the stored value, storing `create()` first when there is none. */
    getOrCreate: (key: string, create: () => string) => {
      insertIfMissing.run(key, create());
      return get.get(key)!.value;
    },
  };
}
export type SettingsRepository = ReturnType<typeof settingsRepository>;
