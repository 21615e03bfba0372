// English words: the admin pages, one section per page (views/layout.eta, views/certificates/*).
// Part of the catalog in ../index.ts. Entries named `...Html` hold fixed markup (links, <code>) and no
// values, so views print them unescaped; every entry that takes a value returns plain text.

export const admin = {
  layout: {
    skip: 'Skip to content',
    nav: 'Main',
    certificates: 'Certificates',
    issue: 'Issue',
    pickups: 'Pickups',
    outbox: 'Outbox',
    audit: 'Audit log',
    broker: 'Broker',
    groups: 'Groups',
    backups: 'Backups',
    settings: 'Settings',
    signedInAs: 'Signed in as',
    signOut: 'Sign out',
    caCertificate: 'CA certificate',
    revocationList: 'Revocation list',
  },

  certificateList: {
    title: 'Certificates',
    issue: 'Issue certificate',
    caKeyUnencryptedHtml:
      'The CA key is stored unencrypted in the data folder. Anyone who can read it can issue certificates your broker trusts. Set <code>CA_KEY_PASSPHRASE</code> (or <code>CA_KEY_PASSPHRASE_FILE</code>) to encrypt it at rest.',
    collisions:
      'These people have two or more active certificates for one device. Their apps use the same client ID, so the broker disconnects one for the other in a loop: revoke the ones no longer used, or replace one to give it its own device name.',
    device: 'device',
    certificate: (id: number) => `certificate ${id}`,
    invitationsWaiting: (n: number) => `${n} pickup invitation${n === 1 ? '' : 's'} waiting`,
    invitationsNote: '(invited, not picked up yet).',
    gettingStarted: 'Getting started',
    caReady: 'The CA is ready.',
    caReadyHtml:
      'Give <a href="/ca.crt">ca.crt</a> to your broker as its <code>cafile</code>, and point its <code>crlfile</code> at this portal\'s <code>crl.pem</code>.',
    mail: 'Mail',
    mailOutboxHtml:
      'goes to the <a href="/outbox">outbox</a>, because no SMTP server is configured (set <code>SMTP_URL</code> to send it).',
    mailSmtp: 'goes out through the configured SMTP server.',
    issueFirst: 'Issue the first certificate',
    issueFirstAfter:
      'The person gets a mail with the bundle and the steps for Android and iPhone; you get the passphrase to hand over.',
    search: 'Search',
    status: 'Status',
    statuses: { all: 'all', active: 'active', revoked: 'revoked', expired: 'expired' } as Record<string, string>,
    sortBy: 'Sort by',
    newestIssued: 'newest issued',
    soonestExpiry: 'soonest expiry',
    expiringSoon: 'Expires within 30 days',
    apply: 'Apply',
    noMatch: 'No certificate matches.',
    showAll: 'Show all',
    columns: {
      username: 'Username',
      email: 'Email',
      device: 'Device',
      serial: 'Serial',
      issued: 'Issued',
      expires: 'Expires',
      status: 'Status',
      issuedBy: 'Issued by',
    },
    pages: 'Pages',
    firstPage: 'First page',
    nextPage: 'Next page',
  },

  certificateDetail: {
    title: 'Certificate of',
    subject: 'Subject',
    email: 'Email',
    serial: 'Serial',
    fingerprint: 'SHA-256 fingerprint',
    valid: 'Valid',
    to: 'to',
    key: 'Key',
    bundleFormat: 'Bundle format',
    delivery: 'Delivery',
    pickupInvitation: 'pickup invitation',
    issued: 'Issued',
    revoked: 'Revoked',
    by: 'by',
    allDevices: (username: string) => `All devices of ${username}`,
    download: 'Download the certificate',
    publicOnly: '(public part only)',
    issueAnother: (username: string) => `Issue another device for ${username}`,
    outbox: 'Outbox',
    replace: 'Replace',
    replaceHint: (username: string, device: string | null, email: string) =>
      `Issues a new key and certificate for ${username}${device ? ` (${device})` : ''} with the same settings and mails them to ${email}. You get a new passphrase to hand over, and confirm on the next page.`,
    replacingBecause: 'Replacing because',
    replaceButton: 'Replace certificate',
    revoke: 'Revoke',
    revokeHint:
      'The broker refuses this certificate once it reads the new revocation list. You confirm on the next page.',
    reason: 'Reason',
    reasonHint:
      'Lost or stolen phone: key compromise. Replaced by a new certificate: superseded. Person left: affiliation changed.',
    revokeButton: 'Revoke certificate',
    history: 'History',
    noEntries: 'No entries.',
    columns: { when: 'When', who: 'Who', what: 'What', outcome: 'Outcome', detail: 'Detail' },
  },

  certificateNew: {
    title: 'Issue a certificate',
    noBrokerHtml:
      'No broker address is set, so the mail will not say where to connect (no server, port or <code>.otrc</code> file). Enter it in <a href="/settings">Settings</a> first.',
    existing: (n: string, email: string) =>
      `already exists with ${n}: this issues another device for the same person. Their mail goes to ${email}.`,
    nothingIssued: 'Nothing was issued. Correct the fields marked below.',
    username: 'Username',
    usernameHint: 'Certificate name and MQTT username: lower-case letters, digits, . _ -',
    email: 'Email',
    emailHint: 'The bundle and the app steps go to this address.',
    device: 'Device',
    deviceHint: (defaultDevice: string) =>
      `Left empty, it is “${defaultDevice}”. For example phone or tablet: it becomes the OwnTracks device ID and part of the file names.`,
    days: 'Valid for (days)',
    daysHint: '1 to 3650. A year is a good default.',
    replaceOffer: (username: string, device: string) =>
      `To give ${username}'s ${device} a new certificate, replace the one it has:`,
    replaceLink: (device: string) => `Replace the certificate for ${device}`,
    replaceAfter: '(the old one is revoked in the same step).',
    changeEmail: (username: string, email: string) => `Change the address of ${username} to ${email}`,
    delivery: 'Delivery',
    mailBundle: 'Mail the bundle',
    mailLink: 'Mail a pickup link',
    showQr: 'Show a pickup QR code',
    deliveryHint:
      'A pickup link makes the certificate only when the person opens it on the phone and enters the code you give them; the phone then walks them through the setup. The passphrase choice below applies to a mailed bundle only.',
    passphrase: 'Passphrase',
    passphraseHint:
      'The bundle is locked with a passphrase. It is shown once after issuing and never mailed: hand it over by phone, message or in person.',
    generate: 'Generate one (recommended)',
    custom: 'Use my own',
    ownPassphrase: 'Own passphrase',
    ownPassphraseHint: 'Only with “Use my own”: at least 12 printable ASCII characters.',
    keySize: 'Key size',
    keySizes: { '2048': 'RSA 2048 (fast, recommended)', '3072': 'RSA 3072', '4096': 'RSA 4096 (slow to make)' },
    bundleFormat: 'Bundle format',
    bundleFormatHint:
      'Compatible opens on Android and iPhone. Modern (AES-256) is for other clients: the OwnTracks apps call it a wrong password.',
    compatible: 'Compatible (3DES, for the OwnTracks apps)',
    modern: 'Modern (AES-256)',
    outboxHtml:
      'No SMTP server is configured: the mail is written to the <a href="/outbox">outbox</a> for you to forward.',
    smtp: 'The mail is sent through the configured SMTP server.',
    submit: 'Issue certificate',
  },

  certificateIssued: {
    title: 'Certificate issued',
    noBrokerHtml:
      'No broker address is set, so this mail does not say where to connect (no server, port or <code>.otrc</code> file). Enter it in <a href="/settings">Settings</a>: mail sent after that has it.',
    theCertificateFor: 'The certificate for',
    writtenToHtml: 'was written to the <a href="/outbox">outbox</a> for',
    passphrase: 'Passphrase',
    copy: 'Copy',
    onlyTime: 'This is the only time the passphrase is shown.',
    notKept: 'It is not in the mail and the portal does not keep it.',
    handOver: (username: string) => `Hand it to ${username} another way: by phone, by message, or in person.`,
    gone: 'The passphrase was shown once and is gone. If it was lost, revoke this certificate and issue a new one.',
    details: 'Certificate details',
    another: 'Issue another',
  },

  certificateConfirm: {
    person: 'Person',
    device: 'Device',
    email: 'Email',
    serial: 'Serial',
    expires: 'Expires',
    reason: 'Reason',
  },

  person: {
    columns: { device: 'Device', status: 'Status', expires: 'Expires', delivery: 'Delivery', serial: 'Serial' },
    address: 'Address',
    email: 'Email',
    reason: 'Reason',
  },

  personConfirm: {
    person: 'Person',
    email: 'Email',
    activeDevices: 'Active devices',
    none: 'none',
    reason: 'Reason',
  },

  settings: {
    title: 'Settings',
    brokerAddress: 'Broker address for phones',
    brokerAddressHintHtml:
      "Where the OwnTracks apps connect: the enrollment mail names it, and the <code>.otrc</code> file that configures the app carries it. It must be a name the broker's server certificate holds.",
    host: 'Host',
    port: 'Port',
    environmentHtml:
      "Set by <code>MQTT_HOST</code> and <code>MQTT_PORT</code> in the portal's environment, which win over this page. Change them there and restart the portal.",
    noAddressHtml:
      'No broker address is set: enrollment mail cannot say where to connect, and carries no <code>.otrc</code>.',
    nothingSaved: 'Nothing was saved. Correct the fields marked below.',
    hostHint: 'Host name or IP address phones reach the broker at, for example mqtt.example.org',
    portHint: "The broker's TLS listener; 8883 is usual",
    save: 'Save broker address',
    mailKeeps:
      "Mail already sent keeps the address it had. Any signed-in admin may change this for now; it becomes an owner's setting when admins get roles.",
    saved: (host: string | undefined, port: number) => `Broker address saved: ${host}, port ${port}.`,
  },

  mailFailed: {
    title: 'The mail could not be sent',
    theMailTo: 'The mail to',
    failed: 'failed. The mail server said:',
    theCertificateFor: 'The certificate for',
    serial: '(serial',
    revoked: ') was revoked right away, because its key existed only in that mail.',
    republished: (crl: string) => `The revocation list was published again (CRL ${crl}).`,
    publishFailed: (error: string) =>
      `Publishing the revocation list failed too (${error}); the portal retries on its own.`,
    oldKept: 'The certificate it was to replace stays active.',
    checkHtml: 'Check the mail settings (<code>SMTP_URL</code>) and the address, then issue the certificate again.',
    tryAgain: 'Try again',
  },
} as const;
