// Scheduled backups into BACKUP_DIR: every BACKUP_INTERVAL_HOURS, the newest BACKUP_KEEP kept,
// each written atomically, the outcome in the audit log and in settings for the Backups page.
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { AuditRepository } from '../db/audit.js';
import type { Db } from '../db/database.js';
import type { SettingsRepository } from '../db/settings.js';
import { createBackup } from './archive.js';

export const BACKUP_FILE = /^enroll-backup-\d{8}T\d{6}Z\.tar\.gz$/;

export interface BackupSchedule {
  dir: string;
  intervalHours: number;
  keep: number;
}

export interface LastBackup {
  at: string;
  outcome: 'success' | 'failure';
  file?: string;
  size?: number;
  error?: string;
}

export interface BackupFile {
  name: string;
  size: number;
  at: Date;
}

export class BackupScheduler {
  #running: Promise<LastBackup> | undefined;

  constructor(
    readonly schedule: BackupSchedule,
    private readonly deps: {
      db: Db;
      dataDir: string;
      settings: SettingsRepository;
      audit: AuditRepository;
      now: () => Date;
    },
  ) {}

  get last(): LastBackup | undefined {
    const value = this.deps.settings.get('backup_last');
    return value ? (JSON.parse(value) as LastBackup) : undefined;
  }

  /** The archives in BACKUP_DIR, newest first. */
  files(): BackupFile[] {
    let names: string[];
    try {
      names = readdirSync(this.schedule.dir).filter((name) => BACKUP_FILE.test(name));
    } catch {
      return [];
    }
    return names
      .map((name) => {
        const stat = statSync(path.join(this.schedule.dir, name));
        return { name, size: stat.size, at: stat.mtime };
      })
      .sort((a, b) => b.name.localeCompare(a.name));
  }

  /** Runs a backup now (one at a time), then removes all but the newest `keep` archives. */
  run(actor: string): Promise<LastBackup> {
    this.#running ??= this.#run(actor).finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Runs a backup when the last one is older than the interval. */
  async runIfDue(): Promise<LastBackup | undefined> {
    const last = this.last;
    const due = !last || this.deps.now().getTime() - Date.parse(last.at) >= this.schedule.intervalHours * 3600_000;
    return due ? this.run('system') : undefined;
  }

  /** Checks every ten minutes whether a backup is due (and once shortly after start). */
  start(onError: (error: unknown) => void): () => void {
    const check = () => void this.runIfDue().catch(onError);
    const first = setTimeout(check, 5_000);
    const timer = setInterval(check, 10 * 60_000);
    first.unref();
    timer.unref();
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }

  async #run(actor: string): Promise<LastBackup> {
    const { db, dataDir, settings, audit, now } = this.deps;
    const at = now();
    const name = `enroll-backup-${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')}.tar.gz`;
    let last: LastBackup;
    try {
      mkdirSync(this.schedule.dir, { recursive: true, mode: 0o700 });
      const result = await createBackup(db, dataDir, path.join(this.schedule.dir, name), at);
      for (const old of this.files().slice(this.schedule.keep)) unlinkSync(path.join(this.schedule.dir, old.name));
      last = { at: at.toISOString(), outcome: 'success', file: name, size: result.size };
      audit.record(
        {
          actor,
          action: 'backup',
          subject: name,
          outcome: 'success',
          detail: `${result.size} bytes, ${result.manifest.counts.certificates} certificates`,
        },
        now(),
      );
    } catch (error) {
      last = { at: at.toISOString(), outcome: 'failure', error: (error as Error).message };
      audit.record(
        { actor, action: 'backup', subject: name, outcome: 'failure', detail: (error as Error).message.slice(0, 300) },
        now(),
      );
    }
    settings.put('backup_last', JSON.stringify(last));
    return last;
  }
}
