// English words: the setup steps for the OwnTracks apps, per OS, as data. The enrollment mail and
// the pickup pages render the same steps; how a file reaches the phone (a mail attachment, a
// download on a page) is a parameter, so the steps themselves do not say "attachment". Each step is
// one short instruction and what the person should see once it is done. Menu paths and messages
// were checked against the apps' sources (OwnTracks Android 2.6.0, iOS 26.3.x), not on phones.

/** How the files reach the phone. */
export type Arrival = 'attachment' | 'download';

/** What the steps need to know: whose files, their names, the server (when known), how they arrive. */
export interface StepContext {
  username: string;
  device: string;
  files: { p12: string; otrp: string; otrc: string; ca: string };
  /** The broker's address for phones; undefined until the portal knows it. */
  server: { host: string; port: number } | undefined;
  arrival: Arrival;
}

export interface Step {
  /** What to do, in one or two sentences. */
  action: string;
  /** What the person should see once it is done. */
  result: string;
}

export interface StepList {
  title: string;
  steps: Step[];
}

/** "open the attachment x" / "download x from this page and open it", per way of arrival. */
const openFile: Record<Arrival, (file: string) => string> = {
  attachment: (file) => `open the attachment ${file}`,
  download: (file) => `download ${file} and open it`,
};
const saveFile: Record<Arrival, (file: string) => string> = {
  attachment: (file) => `save the attachment ${file} to the phone`,
  download: (file) => `download ${file}`,
};
const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The broker settings typed by hand, when there is no .otrc to import. */
const manualServer = (c: StepContext, labels: { user: string; device: string }) =>
  c.server
    ? `Host ${c.server.host}, Port ${c.server.port}, TLS on, ${labels.user} ${c.username} and ${labels.device} ${c.device}`
    : `Host and Port as your administrator tells you, TLS on, ${labels.user} ${c.username} and ${labels.device} ${c.device}`;

function android(c: StepContext): StepList {
  const steps: Step[] = [
    {
      action:
        `${capitalised(saveFile[c.arrival](c.files.ca))}. In the phone's Settings open Security › Encryption & credentials › ` +
        `Install a certificate › CA certificate (or search Settings for “CA certificate”) and choose ${c.files.ca}.`,
      result: 'Android says the CA certificate is installed. It may first ask you to set a screen lock.',
    },
    {
      action:
        `${capitalised(saveFile[c.arrival](c.files.p12))}. On Android 10 or later: in OwnTracks open Preferences › Connection, ` +
        `and in its TLS section tap “Install client certificate”. On Android 7 to 9: in the phone's Settings open ` +
        `Security › Install from storage. Choose ${c.files.p12}, type the passphrase, and when asked what the ` +
        `certificate is for, choose “VPN and apps”.`,
      result: 'Android says the certificate is installed.',
    },
    {
      action:
        'In OwnTracks open Preferences › Connection, tap “Client certificate” and pick the certificate you installed.',
      result: 'Its name shows under “Client certificate”.',
    },
    c.server
      ? {
          action:
            `${capitalised(openFile[c.arrival](c.files.otrc))} with OwnTracks and accept the changes it lists. ` +
            `If OwnTracks refuses the file, set these under Preferences › Connection instead: ` +
            `${manualServer(c, { user: 'Username', device: 'Device ID' })}.`,
          result: `OwnTracks connects to ${c.server.host}: its status says it is connected.`,
        }
      : {
          action: `In OwnTracks open Preferences › Connection and set ${manualServer(c, { user: 'Username', device: 'Device ID' })}.`,
          result: 'OwnTracks connects: its status says it is connected.',
        },
  ];
  return { title: 'Android (OwnTracks 2.5 or later)', steps };
}

function ios(c: StepContext): StepList {
  const steps: Step[] = [
    {
      action:
        `${capitalised(openFile[c.arrival](c.files.ca))} and install the profile under Settings › General › ` +
        `VPN & Device Management. Then open Settings › General › About › Certificate Trust Settings and ` +
        `switch on full trust for it.`,
      result: 'The switch for the certificate is on.',
    },
    {
      action:
        'Start OwnTracks and leave it open: a file opened while the app is closed may be ignored. In OwnTracks ' +
        'open Settings › Remote Control (tap ⓘ), switch on “Allow external configuration” and confirm with “Continue”.',
      result: '“Allow external configuration” is on. Without it OwnTracks refuses the files below.',
    },
    {
      action: `${capitalised(openFile[c.arrival](c.files.otrp))} with OwnTracks.`,
      result: `OwnTracks comes to the front and keeps the file as ${c.files.otrp}.`,
    },
    {
      action:
        `In OwnTracks open Settings › TLS (tap ⓘ). Under Filename (tap ⓘ) choose ${c.files.otrp}, ` +
        'then type the passphrase under Passphrase.',
      result: `Filename shows ${c.files.otrp}.`,
    },
    c.server
      ? {
          action: `${capitalised(openFile[c.arrival](c.files.otrc))} with OwnTracks and accept the changes it lists.`,
          result: `OwnTracks connects to ${c.server.host} as ${c.username}, device ${c.device}.`,
        }
      : {
          action: `In OwnTracks open Settings and set ${manualServer(c, { user: 'UserID', device: 'DeviceID' })}.`,
          result: 'OwnTracks connects.',
        },
  ];
  return { title: 'iPhone and iPad', steps };
}

function troubleshooting(c: StepContext): string[] {
  return [
    `iPhone: “TLS Client Certificate – incorrect file or passphrase” means OwnTracks could not open the file named ` +
      `under Settings › TLS › Filename with the passphrase typed there. Check that Filename is ${c.files.otrp} and ` +
      'type the passphrase again: it is case-sensitive. The message also shows if the server settings arrive ' +
      'before the certificate and passphrase are in; it stops once both are.',
    'iPhone: if opening a file does nothing, start OwnTracks first, check that “Allow external configuration” is ' +
      'on, and open the file again.',
    'Android: if the passphrase is refused although you typed it exactly, the phone cannot read this bundle: ask ' +
      'your administrator for one in the “compatible” format.',
    'Android: if the certificate does not appear under “Client certificate”, install it again and choose “VPN ' +
      'and apps”, not “Wi-Fi”.',
  ];
}

export const steps = {
  android,
  ios,
  troubleshooting,
  troubleshootingTitle: 'If something goes wrong',
  /** How a step's result is introduced. */
  resultLabel: 'You should see:',
} as const;
