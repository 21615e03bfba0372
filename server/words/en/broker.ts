// English words: broker. Part of the catalog in ../index.ts; keep user-facing text here, not in code or views.
export const broker = {
  /** The issue form's error when the username is a dynsec client the portal did not create. */
  usernameIsBrokerAccount: (username: string) =>
    `${username} is an account on the broker that this portal does not manage (such as the control account, Home Assistant or a Recorder). A certificate named ${username} would get that account's rights: choose another username.`,
  /** After a revocation, what became of the device's connection (`all`: every device of the person, revoked at once). */
  kick: {
    done: (all: boolean) =>
      all
        ? 'The revoked devices were disconnected from the broker.'
        : 'The revoked device was disconnected from the broker; the person’s other devices reconnect on their own.',
    unverified: (error: string, all: boolean) =>
      `The revoked ${all ? 'devices were' : 'device was'} disconnected from the broker, but the portal could not check that the broker uses the new CRL (${error}): make sure the broker reloads it.`,
    queued: (all: boolean) =>
      `The broker link is down: the revoked ${all ? 'devices' : 'device'} will be disconnected as soon as the portal reaches the broker again (shown on the Broker page).`,
    crlNotInForce: (all: boolean) =>
      `The broker still accepts certificates revoked in the new CRL (it has not reloaded it): the ${all ? 'devices stay' : 'device stays'} connected until it does. The portal keeps checking; see the Broker page.`,
    takenOver: (detail: string) =>
      `The portal has no broker client of its own for this person, so it could only take over the app's default client id (${detail}): an app set to another client id stays connected until it reconnects.`,
    failed: (detail: string, all: boolean) =>
      `The ${all ? 'devices' : 'device'} could not be disconnected yet (${detail}); the portal tries again.`,
    withoutLink: 'Phones already connected stay connected until they reconnect or the broker restarts.',
  },
  page: {
    linkHeading: 'Broker link',
    status: { connecting: 'connecting', connected: 'connected', down: 'down' },
    noLink:
      'No broker link: set BROKER_CONTROL_URL to the broker’s dynamic-security control account so that access is managed in the broker and revoked phones are disconnected at once.',
    reconcileButton: 'Reconcile now',
    reconcileDone: (changes: number) =>
      changes === 0
        ? 'The broker already matched the portal: nothing changed.'
        : `Reconciled: ${changes} change${changes === 1 ? '' : 's'}.`,
    reconcileFailed: (error: string) => `The reconcile failed: ${error}`,
  },
} as const;
