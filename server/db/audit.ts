// The `audit_log` table: append-only record of who did what, when, from where. Never secrets.
import type { Db } from './database.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  outcome: 'success' | 'failure';
  detail?: string | null;
  ip?: string | null;
}

export interface AuditRow extends Required<AuditEntry> {
  id: number;
  at: string;
}

export function auditRepository(db: Db) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, actor, action, subject, outcome, detail, ip)
     VALUES (@at, @actor, @action, @subject, @outcome, @detail, @ip)`,
  );
  const forSubject = db.prepare<[string], AuditRow>(
    'SELECT * FROM audit_log WHERE subject = ? ORDER BY id DESC LIMIT 200',
  );
  return {
    record: (entry: AuditEntry, at: Date) =>
      void insert.run({ subject: null, detail: null, ip: null, ...entry, at: at.toISOString() }),
    forSubject: (subject: string) => forSubject.all(subject),
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
