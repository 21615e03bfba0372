// English words: who is connected (issue 17). Part of the catalog in ../index.ts.
export const presence = {
  column: 'Connection',
  never: 'never connected',
  connected: 'connected',
  /** `relative` is e.g. "3 hours ago". */
  lastSeen: (relative: string) => `last seen ${relative}`,
  unknown: 'not recorded',
  /** An ended certificate whose device has been heard only since (its replacement). */
  notSinceEnded: 'not known: its device was heard only after it ended',
  filterNever: 'Issued but never connected',
  detailHint:
    'Connected: its device published within the last hour and the broker has not reported it gone since. The portal sees the device by its topic, not by the certificate it used.',
  notRecorded: 'Not recorded: the portal has no broker link (set BROKER_CONTROL_URL).',
} as const;
