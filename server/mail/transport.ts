// Where mail goes: an SMTP server when SMTP_URL is set, otherwise .eml files in DATA_DIR/outbox.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { writeFileAtomic } from '../files.js';

export interface SentMail {
  messageId: string;
  /** The SMTP server's answer, or the outbox file. */
  response: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(message: Mail.Options): Promise<SentMail>;
  close(): void;
}

/** A hanging mail server answers the admin within about 15 seconds. */
const SMTP_TIMEOUTS = { connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 10_000 };

function smtpMailer(url: string): Mailer {
  // A small pool keeps the connection between messages: no new TCP and TLS handshake and greeting
  // per certificate when several are issued in a row. Idle connections close on the server's timeout.
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 2,
    maxMessages: 100,
    ...SMTP_TIMEOUTS,
  } as unknown as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async send(message) {
      const info = await transport.sendMail(message);
      return { messageId: info.messageId, response: String(info.response ?? '') };
    },
    close: () => transport.close(),
  };
}

/** Writes each message as a .eml file into `dir` (DATA_DIR/outbox), for an admin to forward. */
function outboxMailer(dir: string): Mailer {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    async send(message) {
      const info = await transport.sendMail(message);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `${stamp}-${String(info.messageId)
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 24)}.eml`;
      // Mail holds a private key (inside its passphrase-protected bundle): readable by the portal only.
      writeFileAtomic(path.join(dir, name), info.message as Buffer, 0o600);
      return { messageId: info.messageId, response: `written to outbox/${name}` };
    },
    close: () => transport.close(),
  };
}

export function createMailer(smtpUrl: string | undefined, outbox: string): Mailer {
  return smtpUrl ? smtpMailer(smtpUrl) : outboxMailer(outbox);
}

export interface OutboxEntry {
  name: string;
  size: number;
  writtenAt: Date;
}

/** The outbox's messages, newest first. */
export function listOutbox(dir: string): OutboxEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.eml'));
  } catch {
    return [];
  }
  return names
    .map((name) => {
      const stat = statSync(path.join(dir, name));
      return { name, size: stat.size, writtenAt: stat.mtime };
    })
    .sort((a, b) => b.writtenAt.getTime() - a.writtenAt.getTime());
}
