// The enrollment mail: the bundle under both names, the CA in PEM and DER, the steps for both apps,
// and (with MQTT_HOST) an OwnTracks configuration file. Never the passphrase.
import { Eta } from 'eta';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { viewsDir } from '../paths.js';

const html = new Eta({ views: viewsDir, autoEscape: true, cache: true });
const text = new Eta({ views: viewsDir, autoEscape: false, cache: true });

export interface EnrollmentMail {
  from: string;
  to: string;
  username: string;
  device: string | null;
  pkcs12: Uint8Array;
  caCertPem: string;
  caCertDer: Buffer;
  mqtt: { host: string | undefined; port: number };
}

/** OwnTracks remote configuration (.otrc): where to connect and as whom; no secrets. */
function owntracksConfiguration(mail: Pick<EnrollmentMail, 'username' | 'device' | 'mqtt'>) {
  return {
    _type: 'configuration',
    mode: 0,
    host: mail.mqtt.host,
    port: mail.mqtt.port,
    tls: true,
    username: mail.username, // must equal the certificate CN, or ACL patterns with %u do not match
    deviceId: mail.device ?? 'phone',
    clientpkcs: `${mail.username}.otrp`,
  };
}

export function enrollmentMessage(mail: EnrollmentMail): Mail.Options {
  const data = { username: mail.username, device: mail.device, mqtt: mail.mqtt };
  const bundle = Buffer.from(mail.pkcs12);
  const attachments: Mail.Attachment[] = [
    { filename: `${mail.username}.p12`, content: bundle, contentType: 'application/x-pkcs12' },
    { filename: `${mail.username}.otrp`, content: bundle, contentType: 'application/octet-stream' },
    { filename: 'ca.crt', content: mail.caCertPem, contentType: 'application/x-x509-ca-cert' },
    { filename: 'ca.otre', content: mail.caCertDer, contentType: 'application/octet-stream' },
  ];
  if (mail.mqtt.host) {
    attachments.push({
      filename: `${mail.username}.otrc`,
      content: `${JSON.stringify(owntracksConfiguration(mail), null, 2)}\n`,
      contentType: 'application/octet-stream',
    });
  }
  return {
    from: mail.from,
    to: mail.to,
    subject: `Your OwnTracks certificate${mail.device ? ` for ${mail.device}` : ''}`,
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
