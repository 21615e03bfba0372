// Sharing groups on the broker, as pure functions: the dynamic-security commands that give a person
// their own topics, and a sharing group its members' locations. The shape (tried on Mosquitto 2.0
// with the apps' own subscription to owntracks/+/+):
// - each person has a role of their own (owntracks-enroll-<user>, the broker link's): send, receive and subscribe on
//   owntracks/<user>/#, and nothing else, since a client's own roles are checked before its groups';
// - every person is in the group owntracks-people (lowest priority), whose role lets them subscribe
//   to owntracks/# (so the apps' wildcard subscription is accepted) and denies receiving owntracks/#;
// - a sharing group (share-<id>, higher priority) has a role that allows receiving
//   owntracks/<member>/# for each member; its members are its clients.
// The broker-wide default ACL access is left as it is. The commands are dynsec's JSON commands
// (plugins/dynamic-security/README.md) and map one to one onto mosquitto_ctrl's.

export type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribePattern';

export type DynsecCommand =
  | { command: 'createRole'; rolename: string }
  | { command: 'deleteRole'; rolename: string }
  | { command: 'addRoleACL'; rolename: string; acltype: AclType; topic: string; allow: boolean; priority: number }
  | { command: 'removeRoleACL'; rolename: string; acltype: AclType; topic: string }
  | { command: 'createGroup'; groupname: string }
  | { command: 'deleteGroup'; groupname: string }
  | { command: 'addGroupRole'; groupname: string; rolename: string; priority: number }
  | { command: 'createClient'; username: string }
  | { command: 'addClientRole'; username: string; rolename: string; priority: number }
  | { command: 'addGroupClient'; groupname: string; username: string; priority: number }
  | { command: 'removeGroupClient'; groupname: string; username: string };

/** What sends commands to the broker: the broker link's dynsec command layer (issue 16). */
export interface DynsecCommands {
  /**
   * Sends the commands in order. "Already exists" and "not found" answers count as done (the plan
   * is written to be replayed); any other refusal rejects.
   */
  send(commands: DynsecCommand[]): Promise<void>;
}

export const PEOPLE_GROUP = 'owntracks-people';
/** Group priorities per client: higher is checked first, so a sharing group's allow beats the deny. */
export const PEOPLE_PRIORITY = -10;
export const SHARE_PRIORITY = 10;

/** A person's own role: the broker link (access.ts) makes it with their client. */
export const personRole = (username: string) => `owntracks-enroll-${username}`;
/** A sharing group's dynsec group and role; `shareId` reads the id back (undefined: not one of ours). */
export const shareName = (groupId: number) => `share-${groupId}`;
export const shareId = (name: string): number | undefined => {
  const match = /^share-([1-9][0-9]{0,15})$/.exec(name);
  return match ? Number(match[1]) : undefined;
};
const own = (username: string) => `owntracks/${username}/#`;

/** An ACL as dynsec holds it. */
export interface PlannedAcl {
  acltype: AclType;
  topic: string;
  allow: boolean;
  priority: number;
}

/** A person's own role: their own topics and nothing else. */
export function personAcls(username: string): PlannedAcl[] {
  return (['publishClientSend', 'publishClientReceive', 'subscribePattern'] as const).map((acltype) => ({
    acltype,
    topic: own(username),
    allow: true,
    priority: 0,
  }));
}

/** The people group's role: subscribe to everything under owntracks/, receive none of it. */
export function peopleAcls(): PlannedAcl[] {
  return [
    { acltype: 'subscribePattern', topic: 'owntracks/#', allow: true, priority: 0 },
    { acltype: 'publishClientReceive', topic: 'owntracks/#', allow: false, priority: 0 },
  ];
}

/**
 * What a sharing group lets its members receive of each other: what the apps show of a friend, as
 * quicksetup grants it (REFERENCE-apps.md): locations and last wills on owntracks/<user>/<device>,
 * region events on …/event, cards on …/info. Not the rest of owntracks/<user>/#: the commands sent
 * to a phone (…/cmd, which may carry a configuration), its regions (…/waypoint, …/waypoints), its
 * configuration dumps (…/dump) and status reports.
 */
export function sharedTopics(username: string): string[] {
  return [`owntracks/${username}/+`, `owntracks/${username}/+/event`, `owntracks/${username}/+/info`];
}

/**
 * The most a sharing group's rules may weigh, as JSON (how the broker sends a role). The broker link
 * reads roles whole, and a role over its 1 MiB packet limit could not be read: every reconcile would
 * fail. This leaves room for the answer's envelope: about 2,000 members with usernames of the
 * longest allowed length (64), 2,500 with 30 characters, 3,000 with 10.
 */
const MAX_SHARE_ROLE_BYTES = 900_000;

/** Whether a sharing group with `members` can take `username` too (MAX_SHARE_ROLE_BYTES). */
export function groupHasRoom(members: readonly string[], username: string): boolean {
  return JSON.stringify(shareAcls([...members, username])).length <= MAX_SHARE_ROLE_BYTES;
}

/** A sharing group's role: receive what the apps show of each member (sharedTopics). */
export function shareAcls(members: readonly string[]): PlannedAcl[] {
  return members.flatMap((username) =>
    sharedTopics(username).map((topic) => ({
      acltype: 'publishClientReceive' as const,
      topic,
      allow: true,
      priority: 0,
    })),
  );
}

/** The groups a person's client belongs to: the people group, and each sharing group they are in. */
export function personGroups(
  username: string,
  groups: readonly SharingGroup[],
): { groupname: string; priority: number }[] {
  return [
    { groupname: PEOPLE_GROUP, priority: PEOPLE_PRIORITY },
    ...groups
      .filter((group) => group.members.includes(username))
      .map((group) => ({ groupname: shareName(group.id), priority: SHARE_PRIORITY })),
  ];
}

/** The people group and its role: subscribe to everything under owntracks/, receive nothing of it. */
export function peopleGroupPlan(): DynsecCommand[] {
  return [
    { command: 'createRole', rolename: PEOPLE_GROUP },
    ...peopleAcls().map((acl): DynsecCommand => ({ command: 'addRoleACL', rolename: PEOPLE_GROUP, ...acl })),
    { command: 'createGroup', groupname: PEOPLE_GROUP },
    { command: 'addGroupRole', groupname: PEOPLE_GROUP, rolename: PEOPLE_GROUP, priority: 0 },
  ];
}

/**
 * A person: their client (certificate CN), their own role, and their place in the people group, as
 * the broker link makes them at the person's first certificate (for mosquitto_ctrl and tests; the
 * link checks the broker's state first: Mosquitto 2.0.11 answers a repeated addClientRole with
 * "Internal error", not "already exists").
 */
export function personPlan(username: string): DynsecCommand[] {
  const rolename = personRole(username);
  return [
    { command: 'createRole', rolename },
    ...personAcls(username).map((acl): DynsecCommand => ({ command: 'addRoleACL', rolename, ...acl })),
    { command: 'createClient', username },
    { command: 'addClientRole', username, rolename, priority: 0 },
    { command: 'addGroupClient', groupname: PEOPLE_GROUP, username, priority: PEOPLE_PRIORITY },
  ];
}

/** A sharing group as the portal holds it: its id and its members' usernames. */
export interface SharingGroup {
  id: number;
  members: readonly string[];
}

function addMember(groupId: number, username: string): DynsecCommand[] {
  const name = shareName(groupId);
  return [
    ...shareAcls([username]).map((acl): DynsecCommand => ({ command: 'addRoleACL', rolename: name, ...acl })),
    { command: 'addGroupClient', groupname: name, username, priority: SHARE_PRIORITY },
  ];
}

function removeMember(groupId: number, username: string): DynsecCommand[] {
  const name = shareName(groupId);
  return [
    { command: 'removeGroupClient', groupname: name, username },
    ...sharedTopics(username).map(
      (topic): DynsecCommand => ({ command: 'removeRoleACL', rolename: name, acltype: 'publishClientReceive', topic }),
    ),
  ];
}

/**
 * The commands that take the broker from `before` to `after` (either undefined: the group is being
 * created, or deleted). A rename is no change on the broker.
 */
export function groupPlan(before: SharingGroup | undefined, after: SharingGroup | undefined): DynsecCommand[] {
  const group = (after ?? before)!;
  const name = shareName(group.id);
  const commands: DynsecCommand[] = [];
  if (!before && after)
    commands.push(
      { command: 'createRole', rolename: name },
      { command: 'createGroup', groupname: name },
      { command: 'addGroupRole', groupname: name, rolename: name, priority: 0 },
    );
  const was = new Set(before?.members ?? []);
  const is = new Set(after?.members ?? []);
  for (const username of was) if (!is.has(username)) commands.push(...removeMember(group.id, username));
  for (const username of is) if (!was.has(username)) commands.push(...addMember(group.id, username));
  if (before && !after)
    commands.push({ command: 'deleteGroup', groupname: name }, { command: 'deleteRole', rolename: name });
  return commands;
}

/** A command as mosquitto_ctrl's arguments (after `dynsec`), for operators and for tests. */
export function ctrlArguments(command: DynsecCommand): string[] {
  switch (command.command) {
    case 'createRole':
    case 'deleteRole':
      return [command.command, command.rolename];
    case 'addRoleACL':
      return [
        command.command,
        command.rolename,
        command.acltype,
        command.topic,
        command.allow ? 'allow' : 'deny',
        String(command.priority),
      ];
    case 'removeRoleACL':
      return [command.command, command.rolename, command.acltype, command.topic];
    case 'createGroup':
    case 'deleteGroup':
      return [command.command, command.groupname];
    case 'addGroupRole':
      return [command.command, command.groupname, command.rolename, String(command.priority)];
    case 'createClient':
      return [command.command, command.username];
    case 'addClientRole':
      return [command.command, command.username, command.rolename, String(command.priority)];
    case 'addGroupClient':
      return [command.command, command.groupname, command.username, String(command.priority)];
    case 'removeGroupClient':
      return [command.command, command.groupname, command.username];
  }
}
