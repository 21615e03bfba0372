// Scheduled backups into BACKUP_DIR: every BACKUP_INTERVAL_HOURS, the newest BACKUP_KEEP kept,
// each written atomically, the outcome in the audit log and in settings for the Backups page.
import { createReadStream, mkdirSync, readdirSync, statSync, unlinkSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import type { AuditEntry, AuditedTransaction } from '../db/audit.js';
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
  #timers: NodeJS.Timeout[] = [];

  constructor(
    readonly schedule: BackupSchedule,
    private readonly deps: {
      db: Db;
      dataDir: string;
      settings: SettingsRepository;
      audited: AuditedTransaction;
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
    const since = last ? this.deps.now().getTime() - Date.parse(last.at) : Infinity;
    // A last run in the future (the clock ran ahead, then was put right) is no reason to wait for it.
    const due = since < 0 || since >= this.schedule.intervalHours * 3600_000;
    return due ? this.run('system') : undefined;
  }

  /** One archive of BACKUP_DIR as a stream; undefined for a name that is not there. */
  open(name: string): { name: string; stream: ReadStream } | undefined {
    const file = this.files().find((entry) => entry.name === name);
    return file && { name: file.name, stream: createReadStream(path.join(this.schedule.dir, file.name)) };
  }

  /** Checks every ten minutes whether a backup is due (and once shortly after start). */
  start(onError: (error: unknown) => void): void {
    this.stop();
    const check = () => void this.runIfDue().catch(onError);
    this.#timers = [setTimeout(check, 5_000), setInterval(check, 10 * 60_000)];
    for (const timer of this.#timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }

  async #run(actor: string): Promise<LastBackup> {
    const { db, dataDir, settings, audited, now } = this.deps;
    const at = now();
    const name = `enroll-backup-${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')}.tar.gz`;
    let last: LastBackup;
    let entry: AuditEntry;
    try {
      mkdirSync(this.schedule.dir, { recursive: true, mode: 0o700 });
      const result = await createBackup(db, dataDir, path.join(this.schedule.dir, name), at);
      // The one just written, then the newest by name; names dated after it (a clock that once ran
      // ahead) come last, so they are the first to go rather than holding places for ever.
      const others = this.files().filter((file) => file.name !== name);
      const ranked = [...others.filter((file) => file.name < name), ...others.filter((file) => file.name > name)];
      for (const old of ranked.slice(this.schedule.keep - 1)) unlinkSync(path.join(this.schedule.dir, old.name));
      last = { at: at.toISOString(), outcome: 'success', file: name, size: result.size };
      entry = {
        actor,
        action: 'backup',
        subject: name,
        outcome: 'success',
        detail: `${result.size} bytes, ${result.manifest.counts.certificates} certificates`,
      };
    } catch (error) {
      last = { at: at.toISOString(), outcome: 'failure', error: (error as Error).message };
      entry = { actor, action: 'backup', subject: name, outcome: 'failure', detail: last.error!.slice(0, 300) };
    }
    audited(now(), (audit) => {
      settings.put('backup_last', JSON.stringify(last));
      audit(entry);
    });
    return last;
  }
}
