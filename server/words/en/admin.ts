// English words: the admin pages, one section per page (views/layout.eta, views/certificates/*).
// Part of the catalog in ../index.ts. No entry holds HTML: where a sentence has a link or a name in
// <code>, the entry is an object of plain pieces (before, after, ...) and the view prints each piece
// escaped around markup of its own (server/words/views.test.ts refuses catalog words printed raw).

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
    // Printed around `CA_KEY_PASSPHRASE` and `CA_KEY_PASSPHRASE_FILE` in <code>.
    caKeyUnencrypted: {
      before:
        'The CA key is stored unencrypted in the data folder. Anyone who can read it can issue certificates your broker trusts. Set',
      or: '(or',
      after: ') to encrypt it at rest.',
    },
    collisions:
      'These people have two or more active certificates for one device. Their apps use the same client ID, so the broker disconnects one for the other in a loop: revoke the ones no longer used, or replace one to give it its own device name.',
    device: 'device',
    certificate: (id: number) => `certificate ${id}`,
    invitationsWaiting: (n: number) => `${n} pickup invitation${n === 1 ? '' : 's'} waiting`,
    invitationsNote: '(invited, not picked up yet).',
    gettingStarted: 'Getting started',
    caReady: 'The CA is ready.',
    // Printed around the view's link to ca.crt and `cafile`, `crlfile` and `crl.pem` in <code>.
    caReadyNext: {
      give: 'Give',
      asIts: 'to your broker as its',
      pointIts: ', and point its',
      at: "at this portal's",
      after: '.',
    },
    mail: 'Mail',
    // Printed around the view's link to the outbox and `SMTP_URL` in <code>.
    mailOutbox: {
      before: 'goes to the',
      link: 'outbox',
      middle: ', because no SMTP server is configured (set',
      after: 'to send it).',
    },
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
    // The page's messages (server/web/routes/certificates.ts).
    pageTitle: (username: string) => `Certificate of ${username}`,
    alreadyRevoked: 'This certificate was already revoked.',
    revokedNotice: 'Certificate revoked.',
    replaceOutlivesCa: (daysLeft: number) =>
      `The CA expires in ${daysLeft} days: no new certificate can be issued under it.`,
    replaceInvalid: (issues: string) => `No new certificate was issued: ${issues}`,
    replaceEmailDiffers: (username: string, current: string) =>
      `No new certificate was issued: ${username} is now registered with ${current}.`,
    replaceDeviceTaken: (username: string, device: string, serial: string) =>
      `No new certificate was issued: ${username} has another active certificate for ${device} (serial ${serial}).`,
    replaceNotActive: 'Only an active certificate can be replaced.',
  },

  certificateNew: {
    title: 'Issue a certificate',
    // Printed around the markup the view adds: `.otrc` in <code>, Settings as a link.
    noBroker: {
      before: 'No broker address is set, so the mail will not say where to connect (no server, port or',
      middle: 'file). Enter it in',
      link: 'Settings',
      after: 'first.',
    },
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
    // Printed around the view's link to the outbox.
    outbox: {
      before: 'No SMTP server is configured: the mail is written to the',
      link: 'outbox',
      after: 'for you to forward.',
    },
    smtp: 'The mail is sent through the configured SMTP server.',
    submit: 'Issue certificate',
    // The form's messages (server/web/routes/issue.ts).
    chooseKeySize: 'Choose a key size',
    chooseFormat: 'Choose a bundle format',
    choosePassphraseMode: 'Choose how to set the passphrase',
    passphraseTooLong: 'Use at most 256 characters',
    chooseDelivery: 'Choose a delivery',
    deletedMeanwhile: (username: string) =>
      `${username} was deleted while the certificate was being made; nothing was issued. Issue again to give the name to someone.`,
    deviceInvited: (username: string) =>
      `${username} already has an open pickup invitation for this device: resend or cancel it under Pickups.`,
    deviceTaken: (username: string) =>
      `${username} already has an active certificate for this device: replace or revoke it first.`,
    deviceTakenSerial: (username: string, device: string, serial: string) =>
      `${username} already has an active certificate for ${device} (serial ${serial}). One device has one certificate: replace it, or choose another device name.`,
    linkMailFailed: (error: string) => `The pickup link could not be mailed (${error}); the invitation was cancelled.`,
    outlivesCa: (daysLeft: number, expires: string) =>
      `The CA expires in ${daysLeft} days (${expires}): choose at most ${daysLeft}`,
    emailDiffers: (username: string, current: string) =>
      `${username} is registered with ${current}. To send this certificate to the new address and keep it for ${username}, tick “Change the address”: pickup links mailed to the old address then stop working (resend them from Pickups).`,
  },

  certificateIssued: {
    title: 'Certificate issued',
    // Printed around `.otrc` in <code> and the view's link to Settings.
    noBroker: {
      before: 'No broker address is set, so this mail does not say where to connect (no server, port or',
      middle: 'file). Enter it in',
      link: 'Settings',
      after: ': mail sent after that has it.',
    },
    theCertificateFor: 'The certificate for',
    // Printed around the view's link to the outbox.
    writtenTo: { before: 'was written to the', link: 'outbox', after: 'for' },
    passphrase: 'Passphrase',
    copy: 'Copy',
    onlyTime: 'This is the only time the passphrase is shown.',
    notKept: 'It is not in the mail and the portal does not keep it.',
    handOver: (username: string) => `Hand it to ${username} another way: by phone, by message, or in person.`,
    gone: 'The passphrase was shown once and is gone. If it was lost, revoke this certificate and issue a new one.',
    revoked:
      'This certificate was revoked meanwhile, so its passphrase is not shown: the bundle in the mail is of no use. Issue a new one if needed.',
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
    // Printed around `.otrc` in <code>.
    brokerAddressHint: {
      before: 'Where the OwnTracks apps connect: the enrollment mail names it, and the',
      after: "file that configures the app carries it. It must be a name the broker's server certificate holds.",
    },
    host: 'Host',
    port: 'Port',
    // Printed around `MQTT_HOST` and `MQTT_PORT` in <code>.
    environment: {
      before: 'Set by',
      and: 'and',
      after: "in the portal's environment, which win over this page. Change them there and restart the portal.",
    },
    // Printed around `.otrc` in <code>.
    noAddress: {
      before: 'No broker address is set: enrollment mail cannot say where to connect, and carries no',
      after: '.',
    },
    nothingSaved: 'Nothing was saved. Correct the fields marked below.',
    hostHint: 'Host name or IP address phones reach the broker at, for example mqtt.example.org',
    portHint: "The broker's TLS listener; 8883 is usual",
    save: 'Save broker address',
    mailKeeps:
      "Mail already sent keeps the address it had. Any signed-in admin may change this for now; it becomes an owner's setting when admins get roles.",
    saved: (host: string | undefined, port: number) => `Broker address saved: ${host}, port ${port}.`,
    trust: {
      title: "Phones and the broker's certificate",
      public: (address: string, issuer: string, checked: string) =>
        `The certificate at ${address} comes from ${issuer}, a public CA whose root phones already have (checked ${checked}). ` +
        "The setup steps in mail and on pickup pages leave out installing the portal's CA.",
      private: (address: string, reason: string, checked: string) =>
        `The certificate at ${address} is not one phones trust on their own (${reason}; checked ${checked}). ` +
        "The setup steps have people install the portal's CA first, which a certificate from the portal's server-cert command needs.",
      unknown: (address: string, reason: string, checked: string) =>
        `The portal could not check the certificate at ${address} (${reason}; checked ${checked}). ` +
        "The setup steps keep installing the portal's CA, which phones need unless the certificate comes from a public CA.",
      pending: "Not checked yet. Until it is, the setup steps have people install the portal's CA.",
      when: 'The portal checks at start, every ten minutes and when the address changes, over TLS 1.3 as a phone connects.',
    },
  },

  broker: {
    title: 'Broker',
    reloadFailed: (since: string, error: string) =>
      `The broker reload command has failed since ${since} (${error}): the broker may still read an older CRL, and let revoked certificates in. The portal runs it again every hour; check BROKER_RELOAD_COMMAND and that the portal's user may signal Mosquitto.`,
    crlPending: (since: string, error: string, attempts: number, next: string) =>
      `CRL publication failed since ${since} (${error}). Revocations are recorded, but the broker still reads the previous CRL. The portal retries on its own (attempt ${attempts}, next at ${next}).`,
    confHint:
      "These lines make Mosquitto trust this portal's certificates and refuse revoked ones. The usernames come from the certificates.",
    copy: 'Copy',
    // Printed around `/etc/mosquitto/acl` in <code>.
    acl: { before: 'And in', after: ':' },
    // Printed around `ca.crt`, `crl.pem` and `mosquitto` in <code>.
    dropsRoot: {
      before: 'Mosquitto drops root before it reads these files:',
      serverKey: 'and the server key must be readable by the',
      after: 'user.',
    },
    // Printed around `crlfile` in <code>.
    readsCrl: { before: 'Mosquitto reads', after: 'at start and on SIGHUP.' },
    reloadRuns: 'After each revocation the portal runs',
    // Printed around `BROKER_RELOAD_COMMAND` and an example command in <code>.
    reloadUnset: {
      before: 'Set',
      example: '(for example',
      after: ') so the portal reloads it after each revocation.',
    },
    stayConnected: 'Phones already connected stay connected until they reconnect.',
    // Printed around `crlfile` in <code>.
    brokenCrl: {
      before: 'A missing or broken',
      after:
        'stops Mosquitto at start, and is ignored on reload: the portal only ever replaces it with a complete, verified CRL.',
    },
    webSockets: 'WebSocket listeners do not check CRLs: use the TLS listener above for phones.',
    serverCertificate: 'Broker server certificate',
    serverIssued: 'Server certificate issued (serial',
    validUntil: (date: string) => `, valid until ${date}).`,
    saveBoth: 'Save both now:',
    keyHeld: 'the key is held in memory for ten minutes only',
    thenGone: ', then it is gone.',
    // Printed around `keyfile` in <code>.
    serverKeyLabel: { before: "server.key (the broker's", after: ', keep it private, mode 0600)' },
    downloadKey: 'Download server.key',
    keyGone:
      'The key of this certificate is no longer held: if it was not saved, issue another server certificate and revoke this one.',
    // Printed around `certfile` in <code>.
    serverCrtLabel: { before: "server.crt (the broker's", after: ')' },
    downloadCrt: 'Download server.crt',
    constrained: "This portal's CA is name-constrained: it can sign server certificates only for",
    // Printed after the list of names, around `CA_SERVER_NAMES` in <code>.
    constrainedAfter: {
      before:
        '(and names below them), so even a stolen CA key cannot make a certificate that phones accept for another site. These names were fixed when the CA was made (',
      after: ').',
    },
    // Printed around `CA_SERVER_NAMES` in <code>.
    unconstrained: {
      before:
        "This CA is unconstrained: phones that trust it would accept a certificate it signs for any website, so its key is as sensitive as a public CA's. It was made by an earlier version or imported; a CA made by this version limits itself to the broker's names (",
      after: '), but moving to one means enrolling every phone again, so keep this one unless you plan that.',
    },
    // Printed around the server-cert command in <code>.
    serverHint: {
      before:
        "Phones check the broker's name: list every host name and IP address they use to reach it. Valid for 825 days (Apple's limit). The command line does the same:",
      after: '.',
    },
    hosts: 'Host names',
    hostsHint: 'For example mqtt.example.org, separated by spaces or commas',
    ips: 'IP addresses',
    ipsHint: 'For example 192.0.2.10',
    issueServer: 'Issue server certificate',
    issuedServer: 'Issued server certificates',
    columns: { names: 'Names', serial: 'Serial', expires: 'Expires', status: 'Status' },
    reason: 'Reason',
    revoke: 'Revoke',
    revoked: 'revoked',
    controlConnection: 'Control connection to',
    since: 'since',
    lastError: 'Last error',
    // Printed around the broker's role, group and topic names in <code>, the view's link to the
    // groups and the probe's address in <code>.
    accounts: {
      role: 'Each person with an active certificate has a dynamic-security client (certificate only, no password) and a role',
      publishes: 'that publishes and reads',
      group: ', and belongs to the group',
      subscribe: '(may subscribe to',
      eachGroup: ', receives nothing of others); each',
      groupLink: 'sharing group',
      isGroup: 'is a group',
      probe:
        "whose role lets its members receive each other's topics. The portal changes only what it created. After a revocation it checks that the broker refuses a certificate revoked in the same CRL (at",
      after: "), then disconnects the person's devices; the others reconnect at once.",
    },
    pendingKicks: (usernames: string, since: string) =>
      `Waiting to disconnect revoked devices of: ${usernames} (queued since ${since}). They are disconnected once the link is up and the broker uses the new CRL.`,
    unmanaged: 'Broker accounts the portal does not manage',
    unmanagedHint: "No certificate is issued for these usernames: it would get the account's rights.",
    conflict: '(a person with certificates has this name: resolve it on the broker)',
    lastReconcile: 'Last reconcile',
    failed: (error: string) => `failed: ${error}`,
    noChange: 'no change',
    changes: (n: number) => `${n} change${n === 1 ? '' : 's'}`,
    notYet: 'Not yet: the portal reconciles each time the link connects.',
    recentKicks: 'Recent disconnections',
    kickColumns: { person: 'Person', queued: 'Queued', done: 'Done', outcome: 'Outcome' },
    waiting: 'waiting',
    notActive: 'That server certificate is not active.',
    serverRevoked: 'Server certificate revoked.',
  },

  audit: {
    title: 'Audit log',
    actor: 'Actor',
    actorPlaceholder: 'admin name, system, cli',
    action: 'Action',
    all: 'all',
    apply: 'Apply',
    noMatch: 'No entries match.',
    columns: {
      when: 'When',
      actor: 'Actor',
      action: 'Action',
      subject: 'Subject',
      outcome: 'Outcome',
      detail: 'Detail',
      from: 'From',
    },
    pages: 'Pages',
    newest: 'Newest',
    older: 'Older',
  },

  outbox: {
    title: 'Outbox',
    // Printed around `SMTP_URL` and `.eml` in <code>.
    noSmtp: {
      before: 'No SMTP server is configured (',
      middle: '), so mail is written here as',
      after: 'files. Download one and open it in a mail program to forward it.',
    },
    smtp: 'Mail goes out through the SMTP server. Messages written before it was configured stay listed here.',
    holds:
      "A message holds the person's bundle (their private key, protected by the passphrase shown once at issue). It is removed when its certificate is revoked or replaced, and",
    // Printed around `OUTBOX_RETENTION_DAYS` in <code>.
    retention: {
      before: 'days after it was written (',
      after: '); to send a certificate again after that, use Replace on its page.',
    },
    empty: 'The outbox is empty.',
    columns: { to: 'To', certificate: 'Certificate', written: 'Written', delivery: 'Delivery', actions: 'Actions' },
    earlierVersion: 'written by an earlier version',
    download: 'Download',
    theMessageTo: (to: string) => `the message to ${to}`,
  },

  backups: {
    title: 'Backups',
    // Printed around `ca.crt` and `ca.key` in <code>.
    intro: {
      before: 'A backup holds the database,',
      and: 'and',
      after:
        ": with it, a new machine takes over and no phone has to be enrolled again. Keep copies somewhere other than this machine, and safe: whoever has one can run this portal's CA. It holds no sign-in (no sessions, no cookie secret): admins sign in again after a restore. Downloading an archive asks for your password again.",
    },
    // Printed around `BACKUP_DIR` and the backup command in <code>.
    off: {
      before: 'Scheduled backups are off. Set',
      orRun: 'to turn them on (daily by default), or run',
      after: '.',
    },
    folder: 'Folder',
    schedule: 'Schedule',
    every: (hours: number, keep: number) => `every ${hours} hours, the newest ${keep} kept`,
    lastBackup: 'Last backup',
    noneYet: 'none yet',
    failed: 'failed',
    backUpNow: 'Back up now',
    columns: { archive: 'Archive', written: 'Written', size: 'Size' },
    written: (file: string | undefined, kib: number) => `Backup ${file} written (${kib} KiB).`,
    runFailed: (error: string | undefined) => `The backup failed: ${error}`,
  },

  backupDownload: {
    title: 'Download a backup',
    archive: 'The archive',
    holds:
      "holds the CA key and every admin's password hash: whoever has it can run this portal's CA. Enter your password to download it, and keep the file somewhere safe.",
    password: 'Password',
    wrongPassword: 'The password is wrong. After five wrong passwords in a row you are signed out everywhere.',
    busy: 'A password check is already under way, or the portal is busy: try again in a moment.',
    download: 'Download backup',
    back: 'Back to Backups',
  },

  invitations: {
    columns: {
      username: 'Username',
      device: 'Device',
      how: 'How',
      created: 'Created',
      expires: 'Expires',
      status: 'Status',
    },
    person: 'Person',
    device: 'Device',
    how: 'How',
    qr: 'QR code',
    qrOnScreen: 'QR code on screen',
    mailedLink: 'mailed link',
    created: 'Created',
    by: 'by',
    expires: 'Expires',
    wrongCodes: 'Wrong codes',
    certificate: 'Certificate',
    details: 'details',
    // The routes' titles and messages (server/web/routes/invitations.ts).
    linkCreated: 'Pickup link created',
    titleFor: (username: string) => `Pickup invitation for ${username}`,
    alreadyPickedUp: 'This invitation was already picked up: issue a new one instead.',
    deviceTaken: 'This device now has another open invitation or an active certificate.',
    mailFailed: (error: string) => `The new link could not be mailed (${error}); the invitation was cancelled.`,
    noNewLink: 'No new link was made.',
    cancelled: 'Invitation cancelled: its link no longer works.',
    notOpen: 'Only an open invitation can be cancelled.',
  },

  login: {
    title: 'Sign in',
    proxyCannot: 'Signing in cannot work yet.',
    proxyWhy:
      "This portal's address is https, but this page came through a proxy it does not trust, so the request looks like plain HTTP and the portal does not set its secure sign-in cookie.",
    add: 'Add',
    oneProxy: '(one proxy in front) or',
    // Printed around the headers `X-Forwarded-Proto` and `X-Forwarded-For` in <code>.
    thisProxy: {
      before: "(this proxy's address) to the portal's environment and restart it. The proxy must send",
      append: 'and append to',
      after: '.',
    },
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    enterUsername: 'Enter your username',
    enterPassword: 'Enter your password',
    tooLong: 'Too long',
    invalid: 'Username or password is wrong.',
    backoff: (seconds: number) => `Too many failed attempts for this account. Wait ${seconds} seconds and try again.`,
    checking: 'A sign-in for this account is already being checked. Try again in a moment.',
    overloadedAddress: (seconds: number) =>
      `A sign-in from your address is already waiting. Try again in ${seconds} seconds.`,
    overloadedServer: (seconds: number) =>
      `Too many sign-ins are being checked right now. Try again in ${seconds} seconds.`,
    expired: 'Your session ended. Sign in again.',
    signedOut: 'You are signed out.',
    created: 'The first admin was created. Sign in to continue.',
  },

  setup: {
    title: 'Create the first admin',
    intro:
      'This portal has no admin yet. The account you create here can issue and revoke certificates. This link works once.',
    username: 'Username',
    password: 'Password',
    passwordHint: 'At least 12 characters.',
    confirm: 'Confirm password',
    submit: 'Create admin',
    mismatch: 'The passwords do not match',
    goneTitle: 'Setup link not valid',
    gone: 'This setup link was used already or is not valid. Sign in, or restart the portal to print a new link if no admin exists.',
  },

  error: {
    start: 'Go to the start page',
    // The error pages' titles and messages (server/web/plugins/errors.ts, rate-limit.ts).
    csrf: 'This form expired or did not come from this portal. Go back, reload the page and try again.',
    tooLarge: 'What you sent is too large.',
    server: 'Something went wrong on our side. The details are in the portal’s log.',
    bad: 'The request could not be handled.',
    tooManyRequests: 'Too many requests',
    tooManyAttempts: 'Too many attempts',
    notAllowed: 'Not allowed',
    serverError: 'Server error',
    badRequest: 'Bad request',
    notFoundTitle: 'Page not found',
    notFound: 'There is no page at this address.',
    anonymousLimited: (wait: number) =>
      `Too many requests from your address. Wait ${wait} second${wait === 1 ? '' : 's'} and try again.`,
    rateLimited: (after: string) => `Too many attempts from your address. Wait ${after} and try again.`,
  },

  /** What the admin is told after a change that republishes the CRL (server/web/presenters.ts). */
  publication: {
    reloaded: (message: string) => `The broker was asked to re-read the CRL (${message}).`,
    reloadFailed: (message: string) =>
      `The broker reload command failed (${message}). The broker still uses the old CRL: reload or restart it by hand.`,
    failed: (error: string) =>
      `The CRL could not be published (${error}). The portal retries on its own; until it succeeds the broker still accepts this certificate. The Broker page shows the state.`,
    published: (done: string, crlNumber: string, entries: number) =>
      `${done} CRL ${crlNumber} published with ${entries} ${entries === 1 ? 'entry' : 'entries'}.`,
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
    // Printed around `SMTP_URL` in <code>.
    check: { before: 'Check the mail settings (', after: ') and the address, then issue the certificate again.' },
    tryAgain: 'Try again',
  },
} as const;
