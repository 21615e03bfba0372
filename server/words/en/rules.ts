// English words: the field rules' messages (enrollment, pickup codes, sharing groups and admin accounts)
// and the revocation reasons.
// Part of the catalog in ../index.ts; the rules in enroll/ and accounts/admins.ts read them.
export const rules = {
  username: 'Use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit',
  device: 'Use up to 32 lower-case letters, digits, dots, dashes or underscores',
  emailLineBreaks: 'An address cannot contain line breaks',
  email: 'Enter a valid email address',
  keySize: 'Choose a key size',
  bundleFormat: 'Choose a bundle format',
  passphrase: 'Use at least 12 printable ASCII characters (no accents: phones type them differently)',
  reason: 'Choose a reason',
  serverHosts: 'Use host names such as mqtt.example.org, separated by spaces or commas',
  serverNamesMissing: 'Give at least one host name or IP address the phones use to reach the broker',
  port: 'Enter a port from 1 to 65535 (8883 is MQTT over TLS)',
  brokerHost: 'Enter the host name (such as mqtt.example.org) or IP address phones use to reach the broker',
  adminUsername: 'Use 1 to 64 letters, digits, dots, dashes, underscores or @',
  passwordShort: 'Use at least 12 characters',
  passwordLong: 'Use at most 1024 characters',
  days: (max: number) => `Enter a whole number of days from 1 to ${max}`,
  serverDays: (max: number) => `A server certificate is valid for 1 to ${max} days`,
  notAnIp: (input: string) => `Not an IP address: ${input}. Use addresses such as 192.0.2.10 or 2001:db8::1`,
  pickupCode: (digits: number) => `Enter the ${digits}-digit pickup code`,
  groupNameEmpty: 'Enter a name',
  groupNameLong: (max: number) => `Use at most ${max} characters`,
  groupNameControl: 'Use no control characters or text-direction marks',
  groupFull: (members: number) =>
    `This group is full at ${members.toLocaleString('en')} members: the broker's rules for more would not fit the broker link's 1 MiB packets. Make a second group`,
  reasons: {
    unspecified: 'Unspecified',
    keyCompromise: 'Key compromise (lost or stolen device, leaked bundle)',
    affiliationChanged: 'Affiliation changed (left the family or company)',
    superseded: 'Superseded (replaced by a new certificate)',
    cessationOfOperation: 'Cessation of operation (device retired, or never delivered)',
  },
} as const;
