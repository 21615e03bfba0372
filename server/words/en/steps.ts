// English words: the setup steps for the OwnTracks apps, per OS, as data. The enrollment mail and
// the pickup pages render the same steps; how a file reaches the phone (a mail attachment, a
// download on a page) is a parameter, so the steps themselves do not say "attachment". Each step is
// one short instruction and what the person should see once it is done. Menu paths and messages
// were checked against the apps' sources (OwnTracks Android 2.6.0, iOS 26.3.x), not on phones.

/**
 * How the files reach the phone: mail attachments, or downloads from a pickup page, where a known
 * server makes one tap on an owntracks:///config link replace the .otrc (on iOS it also carries the
 * certificate's file name and passphrase, so nothing is typed) and iOS gets the CA as a profile.
 */
export type Arrival = 'attachment' | 'download';

/** What the steps need to know: whose files, their names, the server (when known), how they arrive. */
export interface StepContext {
  username: string;
  device: string;
  files: { p12: string; otrp: string; otrc: string; ca: string };
  /** The broker's address for phones; undefined until the portal knows it. */
  server: { host: string; port: number } | undefined;
  arrival: Arrival;
  /**
   * The broker's certificate chains to a root the phones already trust (server/broker/server-trust.ts
   * checked it): no CA step. Unset: the CA is installed first, as with the portal's own CA.
   */
  serverTrusted?: boolean;
}

/** What a pickup page offers beside a step: a download, the passphrase, or the one-tap config link. */
export type Offer = 'ca-profile' | 'ca' | 'otrp' | 'p12' | 'passphrase' | 'configure';

export interface Step {
  /** A short heading (the pickup pages show it; the mail numbers the steps instead). */
  title: string;
  /** What to do, in one or two sentences. */
  action: string;
  /** What the person should see once it is done. */
  result: string;
  /** What the pickup page puts beside this step; the mail attaches the files instead. */
  offers?: Offer[];
}

export interface StepList {
  title: string;
  steps: Step[];
}

/** The labels of a pickup page's buttons, which the steps refer to by name. */
const buttons = {
  caProfile: 'Download the CA profile',
  caCrt: 'Download ca.crt',
  file: (name: string) => `Download ${name}`,
  otrcOptional: (name: string) => `Download ${name} (optional)`,
  configure: 'Configure OwnTracks',
  copy: 'Copy',
};

/** "open the attachment x" / "tap “Download x” and open it", per way of arrival. */
const openFile: Record<Arrival, (file: string) => string> = {
  attachment: (file) => `open the attachment ${file}`,
  download: (file) => `tap “${buttons.file(file)}” and open the file`,
};
const saveFile: Record<Arrival, (file: string) => string> = {
  attachment: (file) => `save the attachment ${file} to the phone`,
  download: (file) => `tap “${buttons.file(file)}”`,
};
const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The broker settings typed by hand, when there is no .otrc to import. */
const manualServer = (c: StepContext, labels: { user: string; device: string }) =>
  c.server
    ? `Host ${c.server.host}, Port ${c.server.port}, TLS on, ${labels.user} ${c.username} and ${labels.device} ${c.device}`
    : `Host and Port as your administrator tells you, TLS on, ${labels.user} ${c.username} and ${labels.device} ${c.device}`;

/** On a pickup page with a known server, one tap on an owntracks:///config link replaces the .otrc. */
const hasLink = (c: StepContext) => c.arrival === 'download' && c.server !== undefined;

/** Links and opened files are refused unless this is on (Android 2.6.0, iOS 26.2.3). */
const externalConfiguration: Record<'android' | 'ios', (c: StepContext) => Step> = {
  android: (c) => ({
    title: 'Allow external configuration in OwnTracks',
    action:
      'In OwnTracks open Preferences and switch on “Allow external configuration” ' +
      `(OwnTracks 2.6 and later)${c.arrival === 'download' ? ', then come back to this page' : ''}.`,
    result: '“Allow external configuration” is on. Without it OwnTracks ignores the configuration link.',
  }),
  ios: (c) => ({
    title: 'Allow external configuration in OwnTracks',
    action:
      'Start OwnTracks and leave it open: a file opened while the app is closed may be ignored. In OwnTracks ' +
      'open Settings › Remote Control (tap ⓘ), switch on “Allow external configuration” and confirm with “Continue”' +
      `${c.arrival === 'download' ? '. Then come back to Safari' : ''}.`,
    result: '“Allow external configuration” is on. Without it OwnTracks refuses what the next steps give it.',
  }),
};

function android(c: StepContext): StepList {
  const passphrase =
    c.arrival === 'download' ? `paste the passphrase (“${buttons.copy}” below)` : 'type the passphrase';
  const steps: Step[] = [];
  if (!c.serverTrusted)
    steps.push({
      title: 'Install the CA certificate',
      action:
        `${capitalised(c.arrival === 'download' ? `tap “${buttons.caCrt}”` : saveFile[c.arrival](c.files.ca))}. ` +
        "In the phone's Settings open Security › Encryption & credentials › " +
        `Install a certificate › CA certificate (or search Settings for “CA certificate”) and choose ${c.files.ca}.`,
      result: 'Android says the CA certificate is installed. It may first ask you to set a screen lock.',
      offers: ['ca'],
    });
  steps.push(
    {
      title: 'Install your certificate',
      action:
        `${capitalised(saveFile[c.arrival](c.files.p12))}. On Android 10 or later: in OwnTracks open Preferences › Connection, ` +
        `and in its TLS section tap “Install client certificate”. On Android 7 to 9: in the phone's Settings open ` +
        `Security › Install from storage. Choose ${c.files.p12}, ${passphrase}, and when asked what the ` +
        `certificate is for, choose “VPN and apps”.`,
      result: 'Android says the certificate is installed.',
      offers: ['p12', 'passphrase'],
    },
    {
      title: 'Pick it in OwnTracks',
      action:
        'In OwnTracks open Preferences › Connection, tap “Client certificate” and pick the certificate you installed.',
      result: 'Its name shows under “Client certificate”.',
    },
  );
  if (hasLink(c)) {
    steps.push(externalConfiguration.android(c), {
      title: 'Configure OwnTracks',
      action:
        `Tap “${buttons.configure}”: it sets the server, port, TLS, your username and device. OwnTracks lists the ` +
        `changes; confirm them. If the link does nothing, tap “${buttons.otrcOptional(c.files.otrc)}” and open the file ` +
        `with OwnTracks, or set these under Preferences › Connection: ${manualServer(c, { user: 'Username', device: 'Device ID' })}.`,
      result: `OwnTracks connects to ${c.server!.host}: its status says it is connected.`,
      offers: ['configure'],
    });
  } else if (c.server) {
    steps.push({
      title: 'Configure OwnTracks',
      action:
        `${capitalised(openFile[c.arrival](c.files.otrc))} with OwnTracks and accept the changes it lists. ` +
        `If OwnTracks refuses the file, set these under Preferences › Connection instead: ` +
        `${manualServer(c, { user: 'Username', device: 'Device ID' })}.`,
      result: `OwnTracks connects to ${c.server.host}: its status says it is connected.`,
    });
  } else {
    steps.push({
      title: 'Configure OwnTracks',
      action: `In OwnTracks open Preferences › Connection and set ${manualServer(c, { user: 'Username', device: 'Device ID' })}.`,
      result: 'OwnTracks connects: its status says it is connected.',
    });
  }
  return { title: 'Android (OwnTracks 2.5 or later)', steps };
}

function ios(c: StepContext): StepList {
  const caStep: Step =
    c.arrival === 'download'
      ? {
          title: 'Install the CA profile',
          action:
            `Tap “${buttons.caProfile}” and allow the download, then install the profile under Settings › General › ` +
            'VPN & Device Management (iOS asks for your passcode). Then open Settings › General › About › ' +
            'Certificate Trust Settings and switch on full trust for it.',
          result: 'The switch for the certificate is on.',
          offers: ['ca-profile'],
        }
      : {
          title: 'Install the CA certificate',
          action:
            `${capitalised(openFile[c.arrival](c.files.ca))} and install the profile under Settings › General › ` +
            `VPN & Device Management. Then open Settings › General › About › Certificate Trust Settings and ` +
            `switch on full trust for it.`,
          result: 'The switch for the certificate is on.',
        };
  const steps: Step[] = [
    ...(c.serverTrusted ? [] : [caStep]),
    externalConfiguration.ios(c),
    {
      title: 'Get your certificate',
      action: `${capitalised(openFile[c.arrival](c.files.otrp))} with OwnTracks.`,
      result: `OwnTracks comes to the front and keeps the file as ${c.files.otrp}.`,
      offers: ['otrp'],
    },
  ];
  if (hasLink(c)) {
    steps.push({
      title: 'Configure OwnTracks',
      action:
        `Tap “${buttons.configure}”. It sets the server, your username and device, the certificate file and its ` +
        'passphrase: there is nothing to type. OwnTracks lists the changes; confirm them.',
      result: `OwnTracks connects to ${c.server!.host} as ${c.username}, device ${c.device}.`,
      offers: ['configure'],
    });
    return { title: 'iPhone and iPad', steps };
  }
  steps.push({
    title: 'Enter the passphrase',
    action:
      `In OwnTracks open Settings › TLS (tap ⓘ). Under Filename (tap ⓘ) choose ${c.files.otrp}, ` +
      'then type the passphrase under Passphrase.',
    result: `Filename shows ${c.files.otrp}.`,
    offers: ['passphrase'],
  });
  steps.push(
    c.server
      ? {
          title: 'Configure OwnTracks',
          action: `${capitalised(openFile[c.arrival](c.files.otrc))} with OwnTracks and accept the changes it lists.`,
          result: `OwnTracks connects to ${c.server.host} as ${c.username}, device ${c.device}.`,
        }
      : {
          title: 'Configure OwnTracks',
          action: `In OwnTracks open Settings and set ${manualServer(c, { user: 'UserID', device: 'DeviceID' })}.`,
          result: 'OwnTracks connects.',
        },
  );
  return { title: 'iPhone and iPad', steps };
}

function troubleshooting(c: StepContext): string[] {
  return [
    // The portal found the broker's certificate publicly trusted when this was written; should it
    // change (the owner installs one from the portal's CA), the CA is the missing piece.
    ...(c.serverTrusted
      ? [
          `Both: if OwnTracks says the server's certificate is not trusted, install ${c.files.ca} after all. ` +
            "Android: in the phone's Settings open Security › Encryption & credentials › Install a certificate › " +
            `CA certificate and choose ${c.files.ca}. iPhone: open ${c.files.ca}, install the profile under Settings › ` +
            'General › VPN & Device Management, then switch on full trust for it under Settings › General › About › ' +
            'Certificate Trust Settings.',
        ]
      : []),
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
  /** How a step's result is introduced: in the mail, and on a pickup page. */
  resultLabel: 'You should see:',
  resultLabelPage: 'What you should see now',
  buttons,
} as const;
