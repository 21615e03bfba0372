// Access managed in Mosquitto's dynamic security: each person with an active certificate has a
// dynsec client (no password: certificates only), a role of their own that publishes and reads
// `owntracks/<username>/#`, and a place in the people group and in each sharing group they are in
// (the rules: groups.ts). The portal records what it created (broker_managed) and never changes
// anything else. It reconciles dynsec with the database (people and groups) at start, on every
// reconnect and on demand, and carries out the kicks revocations queue once the broker is known to
// read the new CRL.
import type { AuditedTransaction } from '../db/audit.js';
import type { BrokerRepository, KickRow } from '../db/broker.js';
import type { SettingsRepository } from '../db/settings.js';
import type { Ca } from '../pki/ca.js';
import { Dynsec, DynsecError, type Acl, type DynsecClient, type DynsecGroup, type DynsecRole } from './dynsec.js';
import {
  PEOPLE_GROUP,
  peopleAcls,
  personAcls,
  personGroups,
  personRole,
  shareAcls,
  shareId,
  shareName,
  type DynsecCommand,
  type DynsecCommands,
  type SharingGroup,
} from './groups.js';
import { BrokerLink, type LinkState, type MessageHandler } from './link.js';
import { loadMqtt } from './mqtt.js';
import { probeKeyPem, probeUntilRefused, signProbe, type ProbeTarget, type ProbeVerdict } from './probe.js';

const CLIENT_TEXTNAME_PREFIX = 'OwnTracks Enroll: ';
const ROLE_PREFIX = 'owntracks-enroll-';
const UNMANAGED_SETTING = 'broker_unmanaged_clients';
/** A probe older than this is replaced (with a CRL publication) before it is used. */
const PROBE_FRESH_MS = 3600_000;
/** While the broker still accepts the newest probe, the queued kicks are tried again this often. */
const KICK_RETRY_MS = 10_000;
/** A failed sync after an issue is made up by a reconcile this much later; and one runs every hour. */
const RETRY_RECONCILE_MS = 10_000;
/** A retry that fails is tried again at twice the delay, up to this. */
const RETRY_RECONCILE_MAX_MS = 600_000;
const RECONCILE_EVERY_MS = 3600_000;

const roleOf = personRole;
/** The groups (and their roles, of the same name) the portal makes: the people group and share-<id>. */
const isOurGroupName = (name: string) => name === PEOPLE_GROUP || shareId(name) !== undefined;

export interface BrokerControlSettings {
  url: string;
  username: string;
  password: string;
  probe: ProbeTarget;
}

export interface BrokerAccessDeps {
  control: BrokerControlSettings;
  ca: Ca;
  repository: BrokerRepository;
  settings: SettingsRepository;
  audited: AuditedTransaction;
  now: () => Date;
  /** Publishes the CRL (with the newest probe in it) and runs the reload command. */
  publishCrl: (cause: string) => Promise<unknown>;
  /** The sharing groups as the database holds them (id and members' usernames). */
  groups: () => SharingGroup[];
  /** Tests shorten these. */
  timings?: {
    backoffFirstMs?: number;
    backoffMaxMs?: number;
    probeDeadlineMs?: number;
    kickRetryMs?: number;
    reconcileRetryMs?: number;
  };
}

export interface ReconcileReport {
  at: Date;
  trigger: string;
  /** What was done to dynsec, one line each ("created client alice"). */
  changes: string[];
  /** Usernames of people who hold certificates but match a dynsec client the portal did not create. */
  conflicts: string[];
  error?: string;
}

export type KickReport =
  /** Nothing was queued. */
  | { state: 'none' }
  /** The link is down: the kicks wait for it. */
  | { state: 'queued'; usernames: string[] }
  /** The broker still accepts a certificate revoked in the newest CRL: nothing kicked yet; retried. */
  | { state: 'crl-not-in-force'; usernames: string[] }
  | {
      state: 'done';
      usernames: string[];
      verified: boolean;
      probe: ProbeVerdict;
      failures: string[];
      /** People who had no client of the portal's to delete: only their devices' default client ids were taken over. */
      notes: string[];
    };

/** What the portal's logger offers the parts that log (its pino logger fits). */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(details: object, message: string): void;
}

const hasAcl = (acls: Acl[], acl: Acl) =>
  acls.some((a) => a.acltype === acl.acltype && a.topic === acl.topic && a.allow === acl.allow);

const sameAcls = (actual: Acl[], wanted: Acl[]) =>
  actual.length === wanted.length &&
  wanted.every((acl) =>
    actual.some((a) => a.acltype === acl.acltype && a.topic === acl.topic && a.allow === acl.allow),
  );

export function createBrokerAccess(deps: BrokerAccessDeps) {
  const { repository, now } = deps;
  const link = new BrokerLink(
    { url: deps.control.url, username: deps.control.username, password: deps.control.password, ca: deps.ca.certPem },
    { now, backoffFirstMs: deps.timings?.backoffFirstMs, backoffMaxMs: deps.timings?.backoffMaxMs },
  );
  const dynsec = new Dynsec(link);
  let log: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  let lastReconcile: ReconcileReport | undefined;
  let lastKick: (KickReport & { at: Date }) | undefined;
  let kickRetry: NodeJS.Timeout | undefined;
  let periodic: NodeJS.Timeout | undefined;
  let stopped = false;

  // One broker operation at a time: a reconcile never interleaves with a kick or an issue's sync.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  const storedUnmanaged = (): string[] => {
    try {
      return JSON.parse(deps.settings.get(UNMANAGED_SETTING) ?? '[]') as string[];
    } catch {
      return [];
    }
  };

  type Found = { client: DynsecClient | undefined; role: DynsecRole | undefined };
  type Managed = { clients: Set<string>; roles: Set<string> };

  /**
   * Makes a group of the portal's (the people group, a sharing group) and its role of the same name
   * hold `acls`. `found` is what the broker holds now. A role or group by that name that exists is
   * taken as the portal's (the names are its own). Returns what it changed.
   */
  async function syncGroup(
    name: string,
    acls: Acl[],
    found: { group: DynsecGroup | undefined; role: DynsecRole | undefined },
  ): Promise<string[]> {
    const changes: string[] = [];
    if (!found.role) {
      repository.markManaged('role', name, now());
      await dynsec.createRole(name, `${CLIENT_TEXTNAME_PREFIX}${name}`, acls);
      changes.push(`created role ${name}`);
    } else {
      repository.markManaged('role', name, now());
      // Only what differs: Mosquitto disconnects the role's clients on each change.
      let changed = false;
      for (const acl of found.role.acls)
        if (!hasAcl(acls, acl)) {
          await dynsec.removeRoleAcl(name, acl);
          changed = true;
        }
      for (const acl of acls)
        if (!hasAcl(found.role.acls, acl)) {
          await dynsec.addRoleAcl(name, acl);
          changed = true;
        }
      if (changed) changes.push(`updated the access of role ${name}`);
    }
    if (!found.group) {
      await dynsec.createGroup(name);
      changes.push(`created group ${name}`);
    }
    if (!found.group?.roles.some((role) => role.rolename === name)) await dynsec.addGroupRole(name, name, 0);
    return changes;
  }

  /** Deletes a sharing group the database no longer has (only one the portal made). */
  async function dropGroup(
    name: string,
    found: { group: DynsecGroup | undefined; role: DynsecRole | undefined },
  ): Promise<string[]> {
    const changes: string[] = [];
    if (found.group) {
      await dynsec.deleteGroup(name);
      changes.push(`deleted group ${name}`);
    }
    if (found.role) {
      await dynsec.deleteRole(name);
      changes.push(`deleted role ${name}`);
    }
    repository.unmarkManaged('role', name);
    return changes;
  }

  /**
   * Makes one person's dynsec entries what the database says: their client, their own role, and
   * their groups (the people group, their sharing groups). `found` is what the broker holds now
   * (undefined: none); the groups must exist already. Returns what it changed.
   */
  async function syncOne(
    username: string,
    wanted: boolean,
    found: Found,
    managed: Managed,
    groups: SharingGroup[],
  ): Promise<string[]> {
    const changes: string[] = [];
    const rolename = roleOf(username);
    const ownsClient = managed.clients.has(username);
    const ownsRole = managed.roles.has(rolename);
    if (!wanted) {
      if (found.client && ownsClient) {
        await dynsec.deleteClient(username);
        changes.push(`deleted client ${username}`);
      }
      if (ownsClient) repository.unmarkManaged('client', username);
      if (found.role && ownsRole) {
        await dynsec.deleteRole(rolename);
        changes.push(`deleted role ${rolename}`);
      }
      if (ownsRole) repository.unmarkManaged('role', rolename);
      return changes;
    }
    if (found.client && !ownsClient) return changes; // a conflict: listed, never touched
    if (found.role && !ownsRole) return changes; // someone else's role by our name: never touched
    const acls = personAcls(username);
    if (!found.role) {
      repository.markManaged('role', rolename, now());
      try {
        await dynsec.createRole(rolename, `${CLIENT_TEXTNAME_PREFIX}${username}`, acls);
      } catch (error) {
        if (error instanceof DynsecError && /already exists/i.test(error.brokerError))
          repository.unmarkManaged('role', rolename);
        throw error;
      }
      changes.push(`created role ${rolename}`);
    } else if (!sameAcls(found.role.acls, acls)) {
      // Mosquitto disconnects the role's clients on each change: done only when the role drifted.
      for (const acl of found.role.acls) await dynsec.removeRoleAcl(rolename, acl);
      for (const acl of acls) await dynsec.addRoleAcl(rolename, acl);
      changes.push(`restored the access of role ${rolename}`);
    }
    const wantedGroups = personGroups(username, groups);
    if (!found.client) {
      // Marked first: a portal stopped between the two steps still owns what it made. Made with its
      // groups in the same command (a kick's recreation restores them; no second disconnect).
      repository.markManaged('client', username, now());
      try {
        await dynsec.createClient(username, `${CLIENT_TEXTNAME_PREFIX}${username}`, [rolename], wantedGroups);
      } catch (error) {
        if (error instanceof DynsecError && /already exists/i.test(error.brokerError))
          repository.unmarkManaged('client', username);
        throw error;
      }
      changes.push(`created client ${username}`);
      return changes;
    }
    // Checked before each command: Mosquitto 2.0.11 answers a repeated addClientRole with "Internal error".
    if (!found.client.roles.some((role) => role.rolename === rolename)) {
      await dynsec.addClientRole(username, rolename);
      changes.push(`gave client ${username} its role`);
    }
    const has = new Set(found.client.groups.map((group) => group.groupname));
    for (const group of wantedGroups)
      if (!has.has(group.groupname)) {
        await dynsec.addGroupClient(group.groupname, username, group.priority);
        changes.push(`added ${username} to group ${group.groupname}`);
      }
    const wants = new Set(wantedGroups.map((group) => group.groupname));
    for (const group of found.client.groups)
      if (isOurGroupName(group.groupname) && !wants.has(group.groupname)) {
        await dynsec.removeGroupClient(group.groupname, username);
        changes.push(`removed ${username} from group ${group.groupname}`);
      }
    return changes;
  }

  const managedSets = () => ({ clients: repository.managed('client'), roles: repository.managed('role') });

  /** The groups a person's client needs, made to match the database (before the person is synced). */
  async function syncGroupsOf(username: string, groups: SharingGroup[]): Promise<string[]> {
    const changes: string[] = [];
    for (const { groupname } of personGroups(username, groups)) {
      const [group, role] = await Promise.all([dynsec.getGroup(groupname), dynsec.getRole(groupname)]);
      const id = shareId(groupname);
      const acls = id === undefined ? peopleAcls() : shareAcls(groups.find((g) => g.id === id)?.members ?? []);
      changes.push(...(await syncGroup(groupname, acls, { group, role })));
    }
    return changes;
  }

  /** Brings one person's entries in line with the database (after an issue, or a kick). */
  async function syncPersonNow(username: string): Promise<string[]> {
    const groups = deps.groups();
    const wanted = repository.hasAccess(username, now());
    const changes = wanted ? await syncGroupsOf(username, groups) : [];
    const [client, role] = await Promise.all([dynsec.getClient(username), dynsec.getRole(roleOf(username))]);
    changes.push(...(await syncOne(username, wanted, { client, role }, managedSets(), groups)));
    return changes;
  }

  async function reconcileNow(trigger: string): Promise<ReconcileReport> {
    const at = now();
    const [clients, roles, brokerGroups] = await Promise.all([
      dynsec.listClients(),
      dynsec.listRoles(),
      dynsec.listGroups(),
    ]);
    const managed = managedSets();
    const clientsByName = new Map(clients.map((client) => [client.username, client]));
    const rolesByName = new Map(roles.map((role) => [role.rolename, role]));
    const groupsByName = new Map(brokerGroups.map((group) => [group.groupname, group]));
    const unmanaged = clients.map((client) => client.username).filter((name) => !managed.clients.has(name));
    deps.settings.put(UNMANAGED_SETTING, JSON.stringify(unmanaged));
    const people = repository.peopleWithAccess(at);
    const wanted = new Set(people);
    const conflicts = people.filter((username) => unmanaged.includes(username));
    const changes: string[] = [];
    // The groups first (a person's client joins them): the people group, each sharing group with
    // its members' topics, and no sharing group of the portal's that the database no longer has.
    const groups = deps.groups();
    const found = (name: string) => ({ group: groupsByName.get(name), role: rolesByName.get(name) });
    changes.push(...(await syncGroup(PEOPLE_GROUP, peopleAcls(), found(PEOPLE_GROUP))));
    for (const group of groups)
      changes.push(...(await syncGroup(shareName(group.id), shareAcls(group.members), found(shareName(group.id)))));
    const ids = new Set(groups.map((group) => group.id));
    for (const name of new Set([...groupsByName.keys(), ...managed.roles])) {
      const id = shareId(name);
      if (id !== undefined && !ids.has(id) && managed.roles.has(name))
        changes.push(...(await dropGroup(name, found(name))));
    }
    // Everyone the portal manages or should: people with access, and what it made for people without.
    const names = new Set([...people, ...managed.clients]);
    for (const role of managed.roles) if (role.startsWith(ROLE_PREFIX)) names.add(role.slice(ROLE_PREFIX.length));
    for (const username of [...names].sort()) {
      const person = { client: clientsByName.get(username), role: rolesByName.get(roleOf(username)) };
      changes.push(...(await syncOne(username, wanted.has(username), person, managed, groups)));
    }
    return { at, trigger, changes, conflicts };
  }

  /**
   * Sharing groups' commands (groups.ts), carried out in the queue of broker operations, each only
   * when the broker's state asks for it (read first): a plan can be sent again, and Mosquitto 2.0.11
   * answers some repeated commands with "Internal error". A member without a client (no active
   * certificate) is skipped: their client joins the group when it is made. Rejects while the link
   * is down; the next reconcile applies the database's groups then.
   */
  async function applyCommand(command: DynsecCommand): Promise<void> {
    switch (command.command) {
      case 'createRole': {
        const existing = await dynsec.getRole(command.rolename);
        repository.markManaged('role', command.rolename, now());
        if (!existing) return dynsec.createRole(command.rolename, `${CLIENT_TEXTNAME_PREFIX}${command.rolename}`, []);
        // A sharing group's role left on the broker under this id (a restored older backup, a data
        // folder made anew): the new group starts with none of its rules, as a new role would.
        if (shareId(command.rolename) !== undefined)
          for (const acl of existing.acls) await dynsec.removeRoleAcl(command.rolename, acl);
        return;
      }
      case 'deleteRole':
        if (!(await dynsec.getRole(command.rolename))) return;
        await dynsec.deleteRole(command.rolename);
        repository.unmarkManaged('role', command.rolename);
        return;
      case 'addRoleACL': {
        const { command: _, rolename, ...acl } = command;
        const role = await dynsec.getRole(rolename);
        if (role && hasAcl(role.acls, acl)) return;
        return dynsec.addRoleAcl(rolename, acl);
      }
      case 'removeRoleACL': {
        const role = await dynsec.getRole(command.rolename);
        if (!role?.acls.some((acl) => acl.acltype === command.acltype && acl.topic === command.topic)) return;
        return dynsec.removeRoleAcl(command.rolename, command);
      }
      case 'createGroup': {
        const existing = await dynsec.getGroup(command.groupname);
        if (!existing) return dynsec.createGroup(command.groupname);
        // Likewise its members: nobody is in a group made a moment ago.
        if (shareId(command.groupname) !== undefined)
          for (const client of existing.clients) await dynsec.removeGroupClient(command.groupname, client.username);
        return;
      }
      case 'deleteGroup':
        if (!(await dynsec.getGroup(command.groupname))) return;
        return dynsec.deleteGroup(command.groupname);
      case 'addGroupRole': {
        const group = await dynsec.getGroup(command.groupname);
        if (group?.roles.some((role) => role.rolename === command.rolename)) return;
        return dynsec.addGroupRole(command.groupname, command.rolename, command.priority);
      }
      case 'createClient':
        // A person's client is the link's to make (with their role and groups): their sync does it.
        await syncPersonNow(command.username);
        return;
      case 'addClientRole': {
        const client = await dynsec.getClient(command.username);
        if (!client || client.roles.some((role) => role.rolename === command.rolename)) return;
        return dynsec.addClientRole(command.username, command.rolename);
      }
      case 'addGroupClient': {
        const client = await dynsec.getClient(command.username);
        if (!client || client.groups.some((group) => group.groupname === command.groupname)) return;
        if (!repository.managed('client').has(command.username)) return; // not the portal's to change
        return dynsec.addGroupClient(command.groupname, command.username, command.priority);
      }
      case 'removeGroupClient': {
        const client = await dynsec.getClient(command.username);
        if (!client?.groups.some((group) => group.groupname === command.groupname)) return;
        return dynsec.removeGroupClient(command.groupname, command.username);
      }
    }
  }

  const groupCommands: DynsecCommands = {
    // A refusal leaves the broker behind the database (a removed member still receiving the group):
    // the reconcile makes up for it soon, not only at the next reconnect or hourly run.
    send: (commands) =>
      serial(async () => {
        for (const command of commands) await applyCommand(command);
      }).catch((error: unknown) => {
        reconcileSoon('retry after a refused group change');
        throw error;
      }),
  };

  function auditReconcile(report: ReconcileReport, actor: { name: string; ip?: string | undefined }) {
    deps.audited(report.at, (audit) =>
      audit({
        actor: actor.name,
        ip: actor.ip ?? null,
        action: 'broker-reconcile',
        outcome: report.error ? 'failure' : 'success',
        detail: report.error
          ? `${report.trigger}: ${report.error}`
          : `${report.trigger}: ${report.changes.length ? report.changes.join('; ') : 'no change'}${
              report.conflicts.length ? `; conflicts: ${report.conflicts.join(', ')}` : ''
            }`,
      }),
    );
  }

  /** The pending reconcile retry (reconcileSoon), and the delay of the next. */
  let retry: NodeJS.Timeout | undefined;
  const firstRetryMs = deps.timings?.reconcileRetryMs ?? RETRY_RECONCILE_MS;
  let retryMs = firstRetryMs;

  /** Reconciles and records the result; audited when asked for or when something changed. */
  function reconcile(trigger: string, actor?: { name: string; ip?: string | undefined }): Promise<ReconcileReport> {
    return serial(async () => {
      if (stopped) return { at: now(), trigger, changes: [], conflicts: [], error: 'the portal is stopping' };
      let report: ReconcileReport;
      try {
        report = await reconcileNow(trigger);
      } catch (error) {
        report = {
          at: now(),
          trigger,
          changes: [],
          conflicts: lastReconcile?.conflicts ?? [],
          error: error instanceof Error ? error.message : String(error),
        };
      }
      lastReconcile = report;
      if (!report.error) {
        // Whatever a pending retry was for is made up for now; the next failure waits the first delay.
        retryMs = firstRetryMs;
        clearTimeout(retry);
        retry = undefined;
      }
      if (actor || report.changes.length || report.error) auditReconcile(report, actor ?? { name: 'system' });
      if (report.error) log.warn(`Broker reconcile (${trigger}) failed: ${report.error}`);
      else if (report.changes.length) log.info(`Broker reconcile (${trigger}): ${report.changes.join('; ')}`);
      return report;
    });
  }

  /** Reconciles now and, when that fails, again soon (not only at the next reconnect or hourly run). */
  async function reconcileOrRetry(trigger: string, actor?: { name: string; ip?: string | undefined }) {
    const report = await reconcile(trigger, actor);
    if (report.error) reconcileSoon(`retry: ${trigger}`);
    return report;
  }

  /**
   * A reconcile RETRY_RECONCILE_MS from now, after something that reconcile makes up for failed: one
   * at a time, however many failed meanwhile, and none while the link is down (the reconnect
   * reconciles). A retry that fails is tried again at twice the delay, up to 10 minutes, until a
   * reconcile succeeds: a broker that refuses for a while is caught up with soon after, and one that
   * keeps refusing writes a failure to the audit log a few times an hour, not every 10 s.
   */
  function reconcileSoon(trigger: string) {
    if (stopped || retry || !link.connected) return;
    retry = setTimeout(() => {
      retry = undefined;
      void reconcile(trigger).then((report) => {
        if (!report.error) return;
        retryMs = Math.min(retryMs * 2, RETRY_RECONCILE_MAX_MS);
        reconcileSoon(trigger);
      });
    }, retryMs).unref();
  }

  /** Signs a new probe, revoked from the start, so that the next CRL lists it. */
  async function prepareProbe(): Promise<void> {
    const at = now();
    const probe = await signProbe(deps.ca, at);
    repository.recordProbe({
      serial: probe.serial,
      pem: probe.pem,
      created_at: at.toISOString(),
      not_after: probe.notAfter.toISOString(),
      covers_kick: repository.lastKickId(),
    });
    repository.pruneProbes(at);
  }

  /**
   * Connects with each client id on the control listener and leaves at once: Mosquitto closes the
   * phone that held it ("already connected, closing old connection"). Only works while the app uses
   * its default client id; the fallback for people without a client of the portal's.
   */
  async function takeOver(clientIds: string[]): Promise<string[]> {
    const unique = [...new Set(clientIds)];
    const mqtt = await loadMqtt();
    for (const clientId of unique) {
      const client = await mqtt.connectAsync(deps.control.url, {
        username: deps.control.username,
        password: deps.control.password,
        clientId,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ca: deps.ca.certPem,
      });
      await client.endAsync(true);
    }
    return unique;
  }

  async function enforceNow(): Promise<KickReport> {
    const queued = repository.pendingKicks();
    if (queued.length === 0) return { state: 'none' };
    const usernames = [...new Set(queued.map((kick) => kick.username))];
    if (!link.connected) return { state: 'queued', usernames };
    let probe = repository.newestProbe();
    const lastKick = queued.at(-1)!.id;
    // A probe proves that the broker reads a CRL at least as new as the one that first listed it: it
    // covers the revocations committed before it was made, and only while it is fresh.
    if (!probe || probe.covers_kick < lastKick || now().getTime() - Date.parse(probe.created_at) > PROBE_FRESH_MS) {
      await prepareProbe();
      await deps.publishCrl('a probe before disconnecting revoked devices');
      probe = repository.newestProbe()!;
    }
    const covers = probe.covers_kick;
    const key = await probeKeyPem();
    const verdict = await probeUntilRefused(
      deps.control.probe,
      deps.ca.certPem,
      { pem: probe.pem, key },
      { deadlineMs: deps.timings?.probeDeadlineMs ?? 10_000 },
    );
    if (verdict.verdict === 'accepted') return { state: 'crl-not-in-force', usernames };
    // The probe ran outside the queue (an issue does not wait up to its deadline); the kicks are in it.
    return serial(() => kickNow(covers, usernames, verdict));
  }

  async function kickNow(covers: number, usernames: string[], verdict: ProbeVerdict): Promise<KickReport> {
    // Read again: a concurrent enforce may have done some of them meanwhile.
    const pending = repository.pendingKicks().filter((kick) => kick.id <= covers);
    const failures: string[] = [];
    const notes: string[] = [];
    const managed = repository.managed('client');
    const byName = new Map<string, KickRow[]>();
    for (const kick of pending) byName.set(kick.username, [...(byName.get(kick.username) ?? []), kick]);
    for (const [username, kicks] of byName) {
      let outcome: string;
      try {
        const client = await dynsec.getClient(username);
        if (client && managed.has(username)) {
          // Mosquitto disconnects every connection of that username at once. With devices left, the
          // client is deleted and created again (its roles and groups as the broker holds them) in
          // one message, so that a device reconnecting at once finds it back, access and all:
          // created in a later message, a reconnection in between would get in with no access at
          // all (and its subscriptions, made at connect, refused until its next reconnect).
          if (!repository.hasAccess(username, now())) await dynsec.deleteClient(username);
          // A refused creation resolves false: the sync below makes the client again. A refused
          // deletion rejects: nobody was disconnected, and the kick stays queued.
          else await dynsec.recreateClient(client);
          outcome = 'disconnected';
        } else {
          // No client of ours to delete (a broker account the portal does not manage, or a person
          // still on acl_file access): take over the app's default client id, `<user><device>`.
          const devices = kicks.map((kick) => (kick.certificate_id ? repository.deviceOf(kick.certificate_id) : null));
          const taken = await takeOver(devices.map((device) => `${username}${device ?? ''}`));
          outcome = `${client ? 'a dynsec client the portal does not manage' : 'no dynsec client'}: client id ${taken.join(', ')} taken over`;
          notes.push(`${username} (${outcome})`);
        }
        const changes = await syncPersonNow(username);
        if (changes.length) outcome += `; ${changes.join('; ')}`;
      } catch (error) {
        failures.push(`${username}: ${error instanceof Error ? error.message : String(error)}`);
        continue; // stays queued
      }
      if (verdict.verdict === 'unreachable') outcome += ` (CRL reload not verified: ${verdict.error})`;
      const at = now();
      deps.audited(at, (audit) => {
        for (const kick of kicks) repository.finishKick(kick.id, at, outcome);
        audit({
          actor: 'system',
          action: 'broker-kick',
          subject: `user:${username}`,
          outcome: 'success',
          detail: outcome,
        });
      });
    }
    return { state: 'done', usernames, verified: verdict.verdict === 'refused', probe: verdict, failures, notes };
  }

  /** Carries out the queued kicks (see KickReport); retried on its own while the CRL is not in force. */
  // Enforcements under way (their probes run outside the queue): stop() waits for them.
  const enforcing = new Set<Promise<KickReport>>();

  function enforce(): Promise<KickReport> {
    if (stopped) return Promise.resolve({ state: 'none' });
    const run = (async () => {
      clearTimeout(kickRetry);
      let report: KickReport;
      try {
        report = await enforceNow();
      } catch (error) {
        log.warn(`Broker kicks failed: ${error instanceof Error ? error.message : String(error)}`);
        report = { state: 'queued', usernames: [...new Set(repository.pendingKicks().map((kick) => kick.username))] };
      }
      if (report.state !== 'none') lastKick = { ...report, at: now() };
      const retry =
        report.state === 'crl-not-in-force' ||
        (report.state === 'queued' && link.connected) ||
        (report.state === 'done' && report.failures.length > 0);
      if (retry && !stopped) {
        kickRetry = setTimeout(() => void enforce(), deps.timings?.kickRetryMs ?? KICK_RETRY_MS);
        kickRetry.unref();
      }
      return report;
    })();
    enforcing.add(run);
    void run.finally(() => enforcing.delete(run));
    return run;
  }

  const onConnect = () => {
    log.info('Broker link connected');
    void enforce().then(() => reconcileOrRetry('link connected'));
  };

  return {
    link,
    /** Connects, and on every (re)connection carries out the queued kicks and reconciles. */
    start(startLog: Log) {
      log = startLog;
      // The probe's RSA key is made now, in the background, not on the first revocation's path.
      probeKeyPem().catch((error: unknown) => log.error({ err: error }, 'probe key generation failed'));
      link.onConnect(onConnect);
      link.onState((state) => {
        if (state.status === 'down')
          log.warn(`Broker link down${state.lastError ? `: ${state.lastError.message}` : ''}`);
      });
      link.start();
      // A safety net for changes made on the broker behind the portal's back.
      periodic = setInterval(() => {
        if (link.connected) void reconcile('hourly');
      }, RECONCILE_EVERY_MS);
      periodic.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(kickRetry);
      clearTimeout(retry);
      clearInterval(periodic);
      await link.stop();
      await Promise.allSettled([...enforcing]);
      await queue;
    },
    state: (): LinkState => link.state,
    /** `ok` while connected; `degraded` otherwise: issuing and revoking still work without the link. */
    health: (): 'ok' | 'degraded' => (link.connected ? 'ok' : 'degraded'),

    /**
     * Messages on `filter` for as long as the portal runs, across reconnects (for presence:
     * `subscribe('owntracks/+/+', handler)`). Returns the function that ends the subscription.
     */
    subscribe: (filter: string, handler: MessageHandler) => link.subscribe(filter, handler),

    /**
     * Whether `username` is a dynsec client the portal did not create (the control account, Home
     * Assistant, a Recorder): a certificate with that CN would inherit its roles. Asked live when the
     * link is up, else from the last reconcile's list.
     */
    async isUnmanagedClient(username: string): Promise<boolean> {
      if (username === deps.control.username) return true;
      if (repository.managed('client').has(username)) return false;
      if (link.connected) {
        try {
          return (await dynsec.getClient(username)) !== undefined;
        } catch {
          /* fall back to what the last reconcile saw */
        }
      }
      return storedUnmanaged().includes(username);
    },

    /** After an issue: the person's client and role exist now (when the link is up; else at reconnect). */
    async syncPerson(username: string): Promise<string[] | undefined> {
      if (!link.connected) return undefined;
      try {
        return await serial(() => syncPersonNow(username));
      } catch (error) {
        log.warn(`Broker sync of ${username} failed: ${error instanceof Error ? error.message : String(error)}`);
        // The next reconcile makes up for it: soon, not only at the next reconnect.
        reconcileSoon('retry after a failed sync');
        return undefined;
      }
    },

    /** Inside a revocation's transaction: the device is to be disconnected (persisted until done). */
    queueKick: (username: string, certificateId: number, at: Date) => repository.queueKick(username, certificateId, at),
    /**
     * A new probe for the CRL about to be published (call before publishing it). Never rejects: the
     * CRL must go out whatever happens here, and enforce makes a probe itself when it finds none.
     */
    prepareProbe: () => prepareProbe().catch((error: unknown) => log.warn(`Probe not prepared: ${String(error)}`)),
    enforce,
    reconcile,
    reconcileOrRetry,
    /** The sharing groups' command layer (enroll/sharing.ts sends each change's plan through it). */
    groupCommands,

    /** What the Broker page shows. */
    overview() {
      return {
        state: link.state,
        control: deps.control.url,
        probe: deps.control.probe,
        lastReconcile,
        lastKick,
        unmanaged: storedUnmanaged(),
        pendingKicks: repository.pendingKicks(),
        recentKicks: repository.recentKicks(),
      };
    },
  };
}

export type BrokerAccess = ReturnType<typeof createBrokerAccess>;
