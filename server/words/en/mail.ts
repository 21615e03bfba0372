// English words: the enrollment mail (subject, paragraphs, the list of attached files). The setup
// steps it gives come from ./steps.ts, shared with the pickup pages. Part of the catalog in ../index.ts.

export const mail = {
  subject: (device: string) => `Your OwnTracks certificate for ${device}`,
  greeting: 'Hello,',
  intro: (username: string, device: string) =>
    `your OwnTracks certificate for "${device}" is attached. It lets the OwnTracks app on that device connect ` +
    `to the location server as "${username}". Follow the steps for your phone below, in order.`,
  server: (host: string, port: number) => `Server: ${host}, port ${port}, TLS on.`,
  noServer: 'This mail does not name the server: your administrator tells you its address and port.',
  attachmentsTitle: 'The attachments:',
  attachments: {
    p12: 'your certificate and key, for Android',
    otrp: 'the same, for iPhone and iPad',
    ca: "the certificate of the server's authority, for both",
    caNotNeeded:
      "the certificate of the portal's authority: this server does not need it now; install it only if OwnTracks says the server's certificate is not trusted (see the end of this mail)",
    otrc: "the app's settings for this server, for both (it holds no secret)",
  },
  passphrase:
    'The certificate is protected by a passphrase. It is NOT in this mail: your administrator gives it to you ' +
    'another way (in person, by phone or message).',
  stepsTitle: (title: string) => title.toUpperCase(),
  keepPrivate: 'Keep these files to yourself: with the passphrase they let anyone report locations as you.',
} as const;
