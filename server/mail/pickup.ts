// The pickup mail: a link to open on the phone, and nothing else. No bundle, no key, no code (the
// admin hands the code over by another channel, so the mailbox alone is not enough).
import type Mail from 'nodemailer/lib/mailer/index.js';
import { pickup } from '../words/en/pickup.js';

export interface PickupMail {
  from: string;
  to: string;
  username: string;
  device: string | null;
  url: string;
  expiresAt: Date;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function pickupMessage(mail: PickupMail): Mail.Options {
  const words = pickup.mail;
  const when = mail.expiresAt.toISOString().replace('T', ' ').slice(0, 16);
  const paragraphs = [words.intro, words.code, words.expires(when), words.ignore];
  const text = [
    words.greeting(mail.username),
    '',
    paragraphs[0],
    '',
    mail.url,
    '',
    ...paragraphs.slice(1).flatMap((p) => [p, '']),
  ]
    .join('\n')
    .trimEnd();
  const html =
    `<p>${escapeHtml(words.greeting(mail.username))}</p><p>${escapeHtml(paragraphs[0]!)}</p>` +
    `<p><a href="${escapeHtml(mail.url)}">${escapeHtml(mail.url)}</a></p>` +
    paragraphs
      .slice(1)
      .map((p) => `<p>${escapeHtml(p)}</p>`)
      .join('');
  return {
    from: mail.from,
    to: mail.to,
    subject: words.subject(mail.device),
    text: `${text}\n`,
    html,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
