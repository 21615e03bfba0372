// English words: pickup. Part of the catalog in ../index.ts; keep user-facing text here, not in code or views.
// The guided steps for the phone, each followed by what the person should see; the admin's
// invitation screens; the pickup mail. Menu paths follow REFERENCE-apps.md (OwnTracks Android
// 2.6.0, iOS 26.3.x); what was read in the apps' sources but never tried on a phone is listed in
// the README ("Pickup: what is verified").

export interface GuideStep {
  /** What to do. */
  title: string;
  /** How, in one or two sentences. */
  body: string;
  /** "What you should see now". */
  expect: string;
}

export const pickup = {
  mail: {
    subject: (device: string | null) => `Pick up your OwnTracks certificate${device ? ` for ${device}` : ''}`,
    greeting: (username: string) => `Hello ${username},`,
    intro:
      'open this link on the phone that will run OwnTracks. It walks you through the setup step by step, ' +
      'and the certificate is made only when you pick it up.',
    code: 'You also need the 6-digit pickup code. It is not in this mail: the person who invited you gives it to you.',
    expires: (when: string) => `The link works once, until ${when} (UTC).`,
    ignore: 'If you did not expect this mail, ignore it: nothing happens without the pickup code.',
  },
  unavailable: {
    title: 'This pickup link does not work',
    body:
      'The link is unknown, was already used, has expired or was cancelled. ' +
      'Ask the person who invited you for a new one.',
  },
  redeem: {
    title: 'Pick up your OwnTracks certificate',
    intro: (username: string, device: string | null) =>
      `This sets up OwnTracks for ${username}${device ? ` on ${device}` : ''}. Do it on the phone that will run OwnTracks.`,
    codeLabel: 'Pickup code',
    codeHint: 'The 6 digits the person who invited you gave you.',
    button: 'Get my certificate',
    wrongCode: (left: number) =>
      `That code is not right. ${left} more ${left === 1 ? 'try' : 'tries'}, then this link stops working.`,
    locked: 'Too many wrong codes: this link no longer works. Ask the person who invited you for a new one.',
    deviceTaken:
      'This device already has an active certificate. Ask the person who invited you to replace or revoke it first.',
    caEnding: 'The certificate authority is about to expire: ask the person who invited you.',
    expires: (when: string) => `This link works until ${when} (UTC), once.`,
    desktopTitle: 'Continue on your phone',
    desktopBody:
      'This page is meant for the phone that will run OwnTracks. Scan this code with its camera, or open the link there.',
  },
  guide: {
    title: 'Set up OwnTracks',
    ready: (username: string, device: string | null) =>
      `Your certificate for ${username}${device ? ` (${device})` : ''} is ready. Follow the steps in order; this page stays here when you come back from Settings.`,
    heldFor: (minutes: number) =>
      `The files stay available on this page for ${minutes} minutes, or until you tap Done.`,
    switchTo: {
      ios: 'Using an Android phone? Show the Android steps.',
      android: 'Using an iPhone? Show the iPhone steps.',
    },
    openInSafari:
      'Open this page in Safari: iPhones install profiles only from Safari. Tap ··· or the share button, then "Open in Safari" (or copy the link into Safari).',
    expectLabel: 'What you should see now',
    passphraseLabel: 'Passphrase',
    copy: 'Copy',
    noBroker:
      'The server address is not set up yet, so the last step is missing: ask the person who invited you for the host name and port.',
    done: 'Done',
    doneHint: 'Tap Done when OwnTracks shows Connected: the files then disappear from this page.',
    finished: 'All done. You can close this page.',
    files: {
      mobileconfig: 'Download the CA profile',
      caCrt: 'Download ca.crt',
      otrp: (name: string) => `Download ${name}`,
      p12: (name: string) => `Download ${name}`,
      otrc: (name: string) => `Download ${name} (optional)`,
      configure: 'Configure OwnTracks',
    },
    ios: [
      {
        title: 'Install the CA profile',
        body: 'Tap "Download the CA profile" and allow the download. Then open Settings › General › VPN & Device Management, tap the profile and Install (iOS asks for your passcode).',
        expect:
          'Settings shows the profile as "Verified" or "Not Verified" with the certificate authority\'s name, and "Installed".',
      },
      {
        title: 'Trust it fully',
        body: "Settings › General › About › Certificate Trust Settings: switch on the certificate authority's name and confirm Continue.",
        expect: 'The switch is green.',
      },
      {
        title: 'Allow external configuration in OwnTracks',
        body: 'Open OwnTracks (install it from the App Store first). Settings › Remote Control (tap ⓘ) › Allow external configuration: switch it on and confirm Continue. Then come back to Safari.',
        expect: 'The "Allow external configuration" switch is green.',
      },
      {
        title: 'Get your certificate',
        body: "Tap the download button below, then open the file in OwnTracks (Safari's downloads, or the share button › OwnTracks).",
        expect: "OwnTracks opens; under Settings › TLS ⓘ the certificate's file name is listed.",
      },
      {
        title: 'Configure OwnTracks',
        body: 'Tap "Configure OwnTracks". It sets the server, your username, the certificate file and its passphrase: there is nothing to type. OwnTracks shows the changes and asks you to confirm.',
        expect: 'After confirming, the status at the top of OwnTracks says Connected within a few seconds.',
      },
    ] satisfies GuideStep[],
    android: [
      {
        title: 'Install the CA certificate',
        body: 'Tap "Download ca.crt". Then open Settings and search for "CA certificate" (Security › Encryption & credentials › Install a certificate › CA certificate), confirm "Install anyway" and pick ca.crt. Android may ask you to set a screen lock first.',
        expect: 'A short message "CA certificate installed".',
      },
      {
        title: 'Allow external configuration in OwnTracks',
        body: 'Open OwnTracks (install it from Google Play first). In its Preferences, switch on "Allow external configuration" (OwnTracks 2.6 and later), then come back to this page.',
        expect: 'The switch is on.',
      },
      {
        title: 'Install your certificate',
        body: 'Tap the download button below. In OwnTracks: Preferences › Connection › Install client certificate (Android 10 and later; on 7 to 9: Settings › Security › Install from storage), pick the file, paste the passphrase (Copy button below), keep the name and choose "VPN and apps".',
        expect: 'A short message that the certificate was installed.',
      },
      {
        title: 'Configure OwnTracks',
        body: 'Tap "Configure OwnTracks": it sets the server, port, TLS and your username. OwnTracks shows the changes; confirm them. Then Preferences › Connection › Client certificate: pick the one you just installed.',
        expect: 'The status in OwnTracks says Connected within a few seconds.',
      },
    ] satisfies GuideStep[],
  },
  admin: {
    listTitle: 'Pickup invitations',
    createdTitle: 'Pickup link created',
    mailed: (email: string) => `The pickup link was mailed to ${email}. The code is not in the mail.`,
    qrIntro: 'Let the person scan this code with the phone that will run OwnTracks.',
    codeLabel: 'Pickup code',
    codeShownOnce:
      'This is the only time the code is shown. Give it to the person another way (in person, by phone or message): the link alone is not enough.',
    qrCarriesCode: 'The QR code carries the code: scanned in person, nothing needs typing.',
    linkLabel: 'The link, for those who cannot scan',
    expires: (when: string) => `Works once, until ${when} (UTC).`,
    resend: 'Send a new link',
    showNew: 'Show a new QR code',
    cancel: 'Cancel invitation',
    resendHint: 'A new link and code replace these; the old ones stop working.',
    cancelled: 'Invitation cancelled: its link no longer works.',
    status: {
      invited: 'invited',
      redeemed: 'redeemed',
      'picked-up': 'picked up',
      expired: 'expired',
      cancelled: 'cancelled',
    },
    none: 'No pickup invitations yet. Choose "Mail a pickup link" or "Show a pickup QR code" when issuing.',
  },
  adminDownload: {
    title: 'Bundle files',
    hint: (minutes: number) =>
      `For handing over in person: the files stay here for ${minutes} minutes, then only the mail has them.`,
    gone: 'The files are no longer held here; the mail has them.',
  },
} as const;
