// English words: pickup. Part of the catalog in ../index.ts; keep user-facing text here, not in code or views.
// The pickup pages' own words around the guided steps (the steps themselves, each with what the
// person should see, are the mail's: ./steps.ts); the admin's invitation screens; the pickup mail. Menu paths follow REFERENCE-apps.md (OwnTracks Android
// 2.6.0, iOS 26.3.x); what was read in the apps' sources but never tried on a phone is listed in
// the README ("Pickup: what is verified").

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
    qrAlt: 'QR code of this page’s link',
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
      'Open this page in Safari: a mail app’s own browser may not install a profile or hand a downloaded file to OwnTracks. Tap ··· or the share button, then "Open in Safari" (or copy the link into Safari).',
    passphraseLabel: 'Passphrase',
    noBroker:
      'The server address is not set up yet, so the last step is missing: ask the person who invited you for the host name and port.',
    done: 'Done',
    doneHint: 'Tap Done when OwnTracks shows Connected: the files then disappear from this page.',
    finished: 'All done. You can close this page.',
    finishedTitle: 'All done',
  },
  admin: {
    listTitle: 'Pickup invitations',
    createdTitle: 'Pickup link created',
    mailed: (email: string) => `The pickup link was mailed to ${email}. The code is not in the mail.`,
    qrIntro: 'Let the person scan this code with the phone that will run OwnTracks.',
    qrAlt: 'QR code of the pickup link and its code',
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
      connected: 'connected',
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
