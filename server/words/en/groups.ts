// English words: sharing groups (issue 17). Part of the catalog in ../index.ts.
export const groups = {
  title: 'Sharing groups',
  intro:
    'People in a group see each other’s locations in the OwnTracks app; a person in no group sees only themselves. A person may be in several groups.',
  noLink:
    'Sharing groups need the broker link: the portal tells Mosquitto’s dynamic-security plugin who may see whom. Set BROKER_CONTROL_URL to the broker’s dynsec control account; until then this page stays empty and every person sees only themselves.',
  empty: 'No group yet.',
  name: 'Name',
  create: 'Create group',
  rename: 'Rename',
  person: 'Person',
  add: 'Add to group',
  remove: 'Remove',
  members: 'Members',
  noMembers: 'Nobody yet.',
  created: (name: string) => `Group ${name} created.`,
  renamed: 'Group renamed.',
  added: (username: string) => `${username} added.`,
  removed: (username: string) => `${username} removed; their phones stop receiving the group’s locations.`,
  unchanged: 'Nothing changed.',
  notFound: 'No such group or person.',
  brokerFailed: (error: string) =>
    `Saved, but the broker refused the change (${error}): it does not take effect until the broker is brought in line.`,
} as const;
