// English words: pages. Part of the catalog in ../index.ts; keep user-facing text here, not in code or views.

/** "1 certificate", "2 certificates". */
const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

export const pages = {
  count,

  /** Each delivery state (DESIGN.md) as the detail page and the person page say it. */
  delivery: {
    pending: 'Not handed over yet',
    sent: 'Sent: the mail server accepted it',
    outbox: 'In the outbox, not yet forwarded',
    forwarded: 'Forwarded from the outbox',
    picked_up: 'Picked up through a pickup link',
    failed: 'Failed: it never left',
  } as Record<string, string>,
  /** Short forms for tables. */
  deliveryShort: {
    pending: 'pending',
    sent: 'sent',
    outbox: 'in the outbox',
    forwarded: 'forwarded',
    picked_up: 'picked up',
    failed: 'failed',
  } as Record<string, string>,

  confirm: {
    revokeTitle: (username: string, device: string | null) =>
      `Revoke the certificate of ${username}${device ? ` (${device})` : ''}?`,
    replaceTitle: (username: string, device: string | null) =>
      `Replace the certificate of ${username}${device ? ` (${device})` : ''}?`,
    /** `linked`: the portal has a broker link (BROKER_CONTROL_URL), which disconnects the phone. */
    revokeExplanation: (linked: boolean) =>
      'The broker refuses this certificate once it reads the new revocation list. ' +
      (linked
        ? 'The portal then disconnects this phone from the broker (the person’s other devices reconnect by themselves; with the broker link down, once it is back). '
        : 'Phones already connected stay connected until they reconnect or the broker restarts. ') +
      'A revocation cannot be undone.',
    replaceExplanation: (email: string, compromised: boolean, outbox: boolean) =>
      `A new key and certificate with the same settings go to ${email}, and you get a new passphrase to hand over. ` +
      (compromised
        ? 'This certificate is revoked at once, whether or not the new one has arrived.'
        : outbox
          ? 'The new mail goes to the outbox: this certificate stays active until you mark the new one forwarded.'
          : 'This certificate is revoked as superseded once the new mail went out.'),
    replaceReasons: {
      superseded: 'Routine: a new phone, a renewal, a lost passphrase',
      keyCompromise: 'The key got out (stolen phone, leaked bundle): revoke the old one at once',
    },
    cancel: 'Cancel',
  },

  people: {
    devices: 'Devices',
    noDevice: 'no device name',
    noCertificates: 'No certificates.',
    deletedNote: (at: string) =>
      `Deleted on ${at}: the address is erased and every certificate revoked. The audit log keeps what happened.`,
    addressHint:
      'Future mail goes here. Changing it issues nothing and mails nothing; pickup links mailed to the old address stop working (resend them).',
    saveAddress: 'Save address',
    emailChanged: (email: string, cancelledLinks: number) =>
      `The address is now ${email}. Nothing was issued or mailed.` +
      (cancelledLinks === 0
        ? ''
        : ` ${count(cancelledLinks, 'pickup link')} mailed to the old address ${cancelledLinks === 1 ? 'was' : 'were'} cancelled: resend ${cancelledLinks === 1 ? 'it' : 'them'} below to mail the new one.`),
    revokeAllHeading: 'Revoke all devices',
    revokeAllHint: 'For a stolen bag or a person who leaves: every active certificate of this person, in one step.',
    revokeAllTitle: (username: string, n: number) => `Revoke all ${count(n, 'certificate')} of ${username}?`,
    revokeAllExplanation: (linked: boolean) =>
      'The broker refuses these certificates once it reads the new revocation list. ' +
      (linked
        ? 'The portal then disconnects these phones from the broker (with the broker link down, once it is back). '
        : 'Phones already connected stay connected until they reconnect or the broker restarts. ') +
      'This cannot be undone.',
    revokeAllButton: 'Revoke all certificates',
    revokedAll: (n: number, links: number) =>
      (n ? `${count(n, 'certificate')} revoked.` : 'Nothing was active: nothing revoked.') +
      (links ? ` ${count(links, 'open pickup link')} cancelled.` : ''),
    /** Said on the revoke-all and delete confirmations when the person has pickup links not yet used. */
    linksCancelledToo: (n: number) =>
      n ? ` ${count(n, 'open pickup link')} ${n === 1 ? 'is' : 'are'} cancelled too.` : '',
    deleteHeading: 'Delete person',
    deleteHint:
      'Revokes every certificate and erases the address. The serials stay in the revocation list and the audit log keeps what happened.',
    deleteTitle: (username: string) => `Delete ${username}?`,
    deleteExplanation: (active: number) =>
      `${active ? `${count(active, 'active certificate')} will be revoked. ` : ''}The address is erased; the username stays on the revoked certificates and in the audit log. This cannot be undone.`,
    deleteButton: 'Delete person',
    groupsNotUpdated: (username: string, error: string) =>
      `The broker's sharing groups could not be updated yet (${error}): until they are, the people in ${username}'s groups could still receive locations published under that name. The portal tries again in a few seconds; Reconcile now on the Broker page does it at once.`,
    deleted: (username: string, n: number) =>
      `${username} is deleted${n ? ` and ${count(n, 'certificate')} revoked` : ''}.`,
    alreadyDeleted: 'This person was already deleted.',
    issueAnother: (username: string) => `Issue a certificate for ${username}`,
  },

  audit: {
    /** Each action the audit log records, in words; an action not listed shows as recorded. */
    actions: {
      issue: 'Certificate issued',
      mail: 'Mail',
      revoke: 'Certificate revoked',
      replace: 'Certificate replaced',
      forward: 'Marked forwarded',
      'email-change': 'Address changed',
      'person-delete': 'Person deleted',
      'crl-publish': 'CRL published',
      'broker-reload': 'Broker reloaded',
      'server-cert': 'Broker certificate issued',
      'sign-in': 'Signed in',
      'sign-out': 'Signed out',
      'admin-created': 'Admin created',
      'admin-deleted': 'Admin deleted',
      'admin-disabled': 'Admin disabled',
      'admin-enabled': 'Admin enabled',
      'password-reset': 'Password reset',
      'password-confirm': 'Password confirmed',
      'sessions-ended': 'Sessions ended',
      'audit-pruned': 'Audit log pruned',
      'outbox-prune': 'Outbox pruned',
      backup: 'Backup',
      restore: 'Restore',
      'import-ca': 'CA imported',
    } as Record<string, string>,
    outcomes: { success: 'done', failure: 'failed' } as Record<string, string>,
  },

  issue: {
    expert: 'More choices: passphrase, key size, bundle format',
  },

  list: {
    /** Beside each username: the person page, with all their devices. */
    personLink: 'person',
    searchPlaceholder: 'any part of a username, email, device or serial',
  },

  forward: {
    button: 'Mark as forwarded',
    hint: 'Forward the message from the outbox to the person, then mark it here: the portal cannot tell.',
    replaceWaits: (serial: string) =>
      `When you mark it forwarded, the certificate it replaces (serial ${serial}) is revoked as superseded.`,
    done: 'Marked as forwarded.',
    notInOutbox: 'Only mail in the outbox can be marked as forwarded.',
    superseded: (serial: string) => `Marked as forwarded; the certificate it replaces (serial ${serial}) is revoked.`,
  },

  issued: {
    sent: 'was mailed to',
    outboxNext: 'Forward the message from the outbox to the person, then mark it forwarded on its page.',
  },

  replace: {
    sent: (serial: string) => `New certificate mailed; the old one (serial ${serial}) is revoked as superseded.`,
    compromised: (serial: string) =>
      `New certificate issued; the old one (serial ${serial}) is revoked because its key is compromised.`,
    waiting: (serial: string) =>
      `New certificate written to the outbox. The old one (serial ${serial}) stays active until you mark the new one forwarded.`,
    raced: (serial: string) => `New certificate issued; the old one (serial ${serial}) had been revoked meanwhile.`,
    compromisedAlone: (serial: string) =>
      `No new certificate was issued, but the old one (serial ${serial}) is revoked because its key is compromised.`,
  },
} as const;
