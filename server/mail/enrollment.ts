// The enrollment mail: the bundle under both names (.p12 for Android, .otrp for iOS), the CA, and,
// once the broker's address is known, an OwnTracks configuration file (.otrc); text and HTML bodies
// with the steps for both apps, from the words catalog. Never the passphrase.
import { Eta } from 'eta';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { viewsDir } from '../paths.js';
import { wordsFor } from '../words/index.js';
import type { StepContext } from '../words/en/steps.js';

const html = new Eta({ views: viewsDir, autoEscape: true, cache: true });
// The text part keeps every newline it is given: eta's default trimming ate its blank lines.
const text = new Eta({ views: viewsDir, autoEscape: false, cache: true, autoTrim: false });

export interface EnrollmentMail {
  from: string;
  to: string;
  username: string;
  device: string;
  /** The attachments' names (enroll/rules.ts bundleFileNames). */
  files: { p12: string; otrp: string; otrc: string };
  pkcs12: Uint8Array;
  caCertPem: string;
  /** The broker's address for phones; no host: the mail says so and carries no .otrc. */
  mqtt: { host: string | undefined; port: number };
  /** The broker's certificate is one the phones already trust: the steps skip installing the CA. */
  serverTrusted?: boolean;
}

/** OwnTracks remote configuration (.otrc): where to connect and as whom; no secrets. */
function owntracksConfiguration(
  mail: Pick<EnrollmentMail, 'username' | 'device' | 'files'>,
  host: string,
  port: number,
) {
  return {
    _type: 'configuration',
    mode: 0,
    host,
    port,
    tls: true,
    username: mail.username, // must equal the certificate CN, or ACL patterns with %u do not match
    deviceId: mail.device, // unique per person: two devices with one deviceId knock each other off
    clientpkcs: mail.files.otrp, // iOS keeps an opened .otrp under its own name
  };
}

export function enrollmentMessage(mail: EnrollmentMail): Mail.Options {
  const words = wordsFor();
  const host = mail.mqtt.host;
  const context: StepContext = {
    username: mail.username,
    device: mail.device,
    files: { ...mail.files, ca: 'ca.crt' },
    server: host ? { host, port: mail.mqtt.port } : undefined,
    arrival: 'attachment',
    serverTrusted: mail.serverTrusted === true,
  };
  const bundle = Buffer.from(mail.pkcs12);
  const attachments: Mail.Attachment[] = [
    { filename: mail.files.p12, content: bundle, contentType: 'application/x-pkcs12' },
    { filename: mail.files.otrp, content: bundle, contentType: 'application/octet-stream' },
    { filename: 'ca.crt', content: mail.caCertPem, contentType: 'application/x-x509-ca-cert' },
  ];
  if (host) {
    attachments.push({
      filename: mail.files.otrc,
      content: `${JSON.stringify(owntracksConfiguration(mail, host, mail.mqtt.port), null, 2)}\n`,
      contentType: 'application/json',
    });
  }
  const files = [
    { name: mail.files.p12, about: words.mail.attachments.p12 },
    { name: mail.files.otrp, about: words.mail.attachments.otrp },
    { name: 'ca.crt', about: mail.serverTrusted ? words.mail.attachments.caNotNeeded : words.mail.attachments.ca },
    ...(host ? [{ name: mail.files.otrc, about: words.mail.attachments.otrc }] : []),
  ];
  const data = {
    words,
    username: mail.username,
    device: mail.device,
    server: context.server,
    files,
    sections: [words.steps.android(context), words.steps.ios(context)],
    troubleshooting: words.steps.troubleshooting(context),
  };
  return {
    from: mail.from,
    to: mail.to,
    subject: words.mail.subject(mail.device),
    text: text.render('email/enrollment.text.eta', data),
    html: html.render('email/enrollment.html.eta', data),
    attachments,
    // base64 rather than quoted-printable bodies: encoded natively, not scanned line by line in
    // JavaScript on the event loop.
    textEncoding: 'base64',
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
