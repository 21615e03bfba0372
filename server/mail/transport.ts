// Where mail goes: an SMTP server when SMTP_URL is set, otherwise .eml files in DATA_DIR/outbox.
// An outbox message holds a bundle (a private key inside its passphrase-protected PKCS#12): the
// one place the portal keeps a key on disk. Each is named by its certificate's serial so that it
// can be removed when the certificate is revoked, and every message goes after
// OUTBOX_RETENTION_DAYS (the prune job, server/enroll/enrollment.ts).
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { writeFileAtomic } from '../files.js';

export interface SentMail {
  messageId: string;
  /** The SMTP server's answer, or the outbox file. */
  response: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /**
   * Sends (or writes) a message. `label` (letters and digits: the certificate's serial) names the
   * outbox file, so that the message can be found and removed later; SMTP ignores it.
   */
  send(message: Mail.Options, label?: string): Promise<SentMail>;
  /** Connects and greets the SMTP server without sending (checked at start); rejects with why not. */
  verify?(): Promise<void>;
  close(): void;
}

/**
 * The message built now, MIME and encoded attachments, with its envelope: sent as it is by either
 * mailer. An issue builds its mail before it records the certificate, so that a message that cannot
 * be built leaves nothing pending, and after the record only the SMTP exchange remains on the way
 * to the result page (about 4 ms less there, measured side by side with bench:pickup --latency).
 */
export async function buildMessage(message: Mail.Options): Promise<Mail.Options> {
  const node = new MailComposer(message).compile();
  return { envelope: node.getEnvelope(), raw: await node.build() };
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
    async verify() {
      await transport.verify();
    },
    close: () => transport.close(),
  };
}

const SAFE_LABEL = /^[A-Za-z0-9]{1,64}$/;

/** Writes each message as a .eml file into `dir` (DATA_DIR/outbox), for an admin to forward. */
function outboxMailer(dir: string): Mailer {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    async send(message, label) {
      const info = await transport.sendMail(message);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const tag = label && SAFE_LABEL.test(label) ? label : String(info.messageId).replace(/[^A-Za-z0-9]/g, '');
      const name = `${stamp}-${tag.slice(0, 64)}.eml`;
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

/** Removes the messages written with `label` (a certificate's serial); returns how many. */
export function removeOutboxMessages(dir: string, label: string): number {
  if (!SAFE_LABEL.test(label)) return 0;
  const matching = listOutbox(dir).filter((entry) => entry.name.endsWith(`-${label}.eml`));
  for (const entry of matching) rmSync(path.join(dir, entry.name), { force: true });
  return matching.length;
}

/** Removes every message written before `before` (messages of earlier versions included); returns how many. */
export function pruneOutbox(dir: string, before: Date): number {
  const old = listOutbox(dir).filter((entry) => entry.writtenAt.getTime() < before.getTime());
  for (const entry of old) rmSync(path.join(dir, entry.name), { force: true });
  return old.length;
}
