// A mailer for the unit tier: messages are built by nodemailer exactly as for SMTP, then parsed by
// mailparser and kept in memory instead of crossing a socket. It can be told to fail, as a mail
// server that refuses or is down does. The real SMTP peer is in testing/smtp.ts.
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import type { Mailer } from '../mail/transport.js';
import type { ReceivedMail } from './smtp.js';

export class MemoryMailer implements Mailer {
  readonly kind = 'smtp' as const;
  readonly messages: ReceivedMail[] = [];
  /** When set, every send fails with this error (as nodemailer reports a refused connection). */
  failWith: Error | undefined;
  #transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  async send(message: Parameters<Mailer['send']>[0]) {
    if (this.failWith) throw this.failWith;
    const info = await this.#transport.sendMail(message);
    const raw = info.message as Buffer;
    const to = info.envelope.to;
    this.messages.push({ raw, parsed: await simpleParser(raw), to });
    return { messageId: info.messageId, response: '250 accepted in memory' };
  }

  close() {
    this.#transport.close();
  }
}

/** The error nodemailer gives when nothing listens at the SMTP address. */
export function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ESOCKET' });
}

/** A MemoryMailer whose mail server takes its time: every send waits until accept(). */
export class HeldMemoryMailer extends MemoryMailer {
  #accept: () => void = () => undefined;
  #accepted = new Promise<void>((resolve) => (this.#accept = resolve));

  accept() {
    this.#accept();
  }

  override async send(...args: Parameters<MemoryMailer['send']>) {
    await this.#accepted;
    return super.send(...args);
  }
}
