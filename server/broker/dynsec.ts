// Mosquitto's dynamic-security commands over the broker link: JSON on $CONTROL/dynamic-security/v1,
// answers on .../response matched by correlation data, each with a timeout, and every answer
// checked with zod before anyone reads it. Only the commands the portal uses are typed here.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { BrokerLink } from './link.js';

const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;
const COMMAND_TIMEOUT_MS = 5_000;

const responseSchema = z.object({
  responses: z.array(
    z.object({
      command: z.string(),
      correlationData: z.string().optional(),
      error: z.string().optional(),
      data: z.unknown().optional(),
    }),
  ),
});

const aclSchema = z.object({
  acltype: z.string(),
  topic: z.string(),
  allow: z.boolean(),
  priority: z.number().optional(),
});
export type Acl = z.infer<typeof aclSchema>;

const roleRefSchema = z.object({ rolename: z.string(), priority: z.number().optional() });

const clientSchema = z.object({
  username: z.string(),
  textname: z.string().optional(),
  roles: z.array(roleRefSchema).default([]),
  groups: z.array(z.object({ groupname: z.string(), priority: z.number().optional() })).default([]),
  disabled: z.boolean().optional(),
});
export type DynsecClient = z.infer<typeof clientSchema>;

const groupSchema = z.object({
  groupname: z.string(),
  roles: z.array(roleRefSchema).default([]),
  clients: z.array(z.object({ username: z.string() })).default([]),
});
export type DynsecGroup = z.infer<typeof groupSchema>;

const roleSchema = z.object({
  rolename: z.string(),
  textname: z.string().optional(),
  acls: z.array(aclSchema).default([]),
});
export type DynsecRole = z.infer<typeof roleSchema>;

const listClientsData = z.object({ totalCount: z.number(), clients: z.array(clientSchema) });
const listRolesData = z.object({ totalCount: z.number(), roles: z.array(roleSchema) });
const listGroupsData = z.object({ totalCount: z.number(), groups: z.array(groupSchema) });
// Without `verbose`, the plugin lists names only.
const listClientNames = z.object({ totalCount: z.number(), clients: z.array(z.string()) });
const listRoleNames = z.object({ totalCount: z.number(), roles: z.array(z.string()) });
const listGroupNames = z.object({ totalCount: z.number(), groups: z.array(z.string()) });

/** A command the broker answered with an error ("Client not found", "Role already exists", ...). */
export class DynsecError extends Error {
  override name = 'DynsecError';
  constructor(
    readonly command: string,
    readonly brokerError: string,
  ) {
    super(`${command}: ${brokerError}`);
  }
}

/** No answer in time, or the link went away while waiting. */
export class DynsecUnavailable extends Error {
  override name = 'DynsecUnavailable';
}

interface Waiting {
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  command: string;
  /** Called when the broker's answer arrives (not on a timeout or the link going down). */
  arrived: () => void;
}

/**
 * Entries per list answer: 500 of the largest (a role with a person's three ACLs, about 370 bytes)
 * keep an answer near 200 KB, far under the link's 1 MiB Maximum Packet Size.
 */
const LIST_PAGE = 500;

export class Dynsec {
  #waiting = new Map<string, Waiting>();
  // One process, one prefix: another portal on the same broker (or a stale answer) never matches.
  #prefix = randomBytes(6).toString('hex');
  #next = 0;

  constructor(
    private readonly link: BrokerLink,
    private readonly timeoutMs = COMMAND_TIMEOUT_MS,
    /** Entries per list answer (#listAll); tests make it small. */
    private readonly listPage = LIST_PAGE,
  ) {
    link.subscribe(DYNSEC_RESPONSE_TOPIC, (_topic, payload) => this.#receive(payload));
    link.onState((state) => {
      if (state.status === 'connected') return;
      for (const [id, waiting] of this.#waiting) {
        clearTimeout(waiting.timer);
        this.#waiting.delete(id);
        waiting.reject(new DynsecUnavailable(`${waiting.command}: the broker link went down`));
      }
    });
  }

  #receive(payload: Buffer): void {
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      return; // not an answer we can read; the command it belongs to times out
    }
    for (const response of parsed.responses) {
      const waiting = response.correlationData ? this.#waiting.get(response.correlationData) : undefined;
      if (!waiting) continue;
      this.#waiting.delete(response.correlationData!);
      clearTimeout(waiting.timer);
      waiting.arrived();
      if (response.error) waiting.reject(new DynsecError(response.command, response.error));
      else waiting.resolve(response.data);
    }
  }

  /** Sends one command and resolves with its `data` (unchecked); rejects with DynsecError or DynsecUnavailable. */
  async command(command: string, parameters: Record<string, unknown> = {}): Promise<unknown> {
    const [answer] = await this.#send([{ command, ...parameters }]);
    return answer!;
  }

  /**
   * Sends the commands in one message. Mosquitto carries them out one after the other in one pass
   * of its loop, reading no other packet in between: a client deleted (which disconnects it) and
   * created again by the same message has no moment without its entry for a reconnection to meet.
   * Resolves once the message is sent, with each command's answer (a promise that rejects with
   * DynsecError or DynsecUnavailable); rejects with DynsecUnavailable when it cannot be sent.
   */
  async commands(list: Array<{ command: string } & Record<string, unknown>>): Promise<Promise<unknown>[]> {
    return this.#send(list);
  }

  async #send(list: Array<{ command: string } & Record<string, unknown>>): Promise<Promise<unknown>[]> {
    return (await this.#sendTracked(list)).map((sent) => sent.answer);
  }

  /**
   * #send, with each command's `answered()` (the broker's answer arrived, data or error; not a
   * timeout or the link going down), `waiting()` (none of those yet) and
   * `forget()` (stop waiting for it: its answer will never come, and it rejects no one).
   */
  async #sendTracked(
    list: Array<{ command: string } & Record<string, unknown>>,
  ): Promise<Array<{ answer: Promise<unknown>; answered: () => boolean; waiting: () => boolean; forget: () => void }>> {
    const names = list.map((entry) => entry.command).join(', ');
    if (!this.link.connected) throw new DynsecUnavailable(`${names}: the broker link is not connected`);
    const entries = list.map((entry) => {
      const correlationData = `${this.#prefix}-${++this.#next}`;
      const tracked = { arrived: false };
      const answer = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#waiting.delete(correlationData);
          reject(new DynsecUnavailable(`${entry.command}: no answer from the broker within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
        const arrived = () => void (tracked.arrived = true);
        this.#waiting.set(correlationData, { resolve, reject, timer, command: entry.command, arrived });
      });
      // The link may go down (rejecting the answer) while the publish below is still under way; that
      // rejection is then never awaited, and an unhandled one would end the process.
      answer.catch(() => undefined);
      return { payload: { ...entry, correlationData }, answer, tracked };
    });
    // The publish waits for the broker's acknowledgement. A broker that dies under it (Mosquitto
    // 2.0.11 crashed on a createClient naming a role deleted a moment before) may leave that wait
    // unsettled, so it is bounded like the answers: a kick or sync then fails and is tried again.
    let bound: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.link.publish(DYNSEC_TOPIC, JSON.stringify({ commands: entries.map((entry) => entry.payload) })),
        new Promise<never>((_resolve, reject) => {
          bound = setTimeout(
            () => reject(new Error(`no acknowledgement from the broker within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      for (const { payload } of entries) {
        const waiting = this.#waiting.get(payload.correlationData);
        if (waiting) {
          clearTimeout(waiting.timer);
          this.#waiting.delete(payload.correlationData);
        }
      }
      throw new DynsecUnavailable(`${names}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(bound);
    }
    return entries.map(({ payload: { correlationData }, answer, tracked }) => ({
      answer,
      answered: () => tracked.arrived,
      waiting: () => this.#waiting.has(correlationData),
      forget: () => {
        clearTimeout(this.#waiting.get(correlationData)?.timer);
        this.#waiting.delete(correlationData);
      },
    }));
  }

  listClients(): Promise<DynsecClient[]> {
    return this.#listAll(
      'listClients',
      (data) => {
        const { totalCount, clients } = listClientsData.parse(data);
        return { totalCount, entries: clients };
      },
      (client) => client.username,
      (data) => {
        const { totalCount, clients } = listClientNames.parse(data);
        return { totalCount, names: clients };
      },
    );
  }

  listRoles(): Promise<DynsecRole[]> {
    return this.#listAll(
      'listRoles',
      (data) => {
        const { totalCount, roles } = listRolesData.parse(data);
        return { totalCount, entries: roles };
      },
      (role) => role.rolename,
      (data) => {
        const { totalCount, roles } = listRoleNames.parse(data);
        return { totalCount, names: roles };
      },
    );
  }

  listGroups(): Promise<DynsecGroup[]> {
    return this.#listAll(
      'listGroups',
      (data) => {
        const { totalCount, groups } = listGroupsData.parse(data);
        return { totalCount, entries: groups };
      },
      (group) => group.groupname,
      (data) => {
        const { totalCount, groups } = listGroupNames.parse(data);
        return { totalCount, names: groups };
      },
    );
  }

  /**
   * A whole list, in pages, read so that nothing is missed.
   * - Size: one answer larger than the link's Maximum Packet Size (1 MiB) never arrives (Mosquitto
   *   drops it), which a fleet of about 2,800 people's roles reached, and so can sharing groups'
   *   roles (three rules per member), which sort together. A page found dropped (#page) is asked
   *   again at half the size, and the list goes on at that size; an entry dropped on its own rejects
   *   (DynsecUnavailable), said as such.
   * - Changes: the plugin lists in name order, counting `offset` entries from the start, and another
   *   control connection's change between two pages shifts what follows. So each page after the
   *   first comes with the names of the entry before it and of its own first entry (#page's small
   *   question), which must be the last entry read and the page's first, with the same total;
   *   otherwise the list is read again from the start. Three reads that all moved reject
   *   (DynsecUnavailable): a list missing entries would make reconcile recreate (and then disown)
   *   what exists.
   */
  async #listAll<T>(
    command: string,
    parse: (data: unknown) => { totalCount: number; entries: T[] },
    name: (entry: T) => string,
    parseNames: (data: unknown) => { totalCount: number; names: string[] },
  ): Promise<T[]> {
    const size = { count: this.listPage };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const first = parse((await this.#page(command, 0, size)).page);
      const all = [...first.entries];
      let moved = false;
      while (all.length < first.totalCount && all.length > 0) {
        const answer = await this.#page(command, all.length, size);
        const page = parse(answer.page);
        const around = parseNames(answer.names);
        if (
          page.entries.length === 0 ||
          page.totalCount !== first.totalCount ||
          around.totalCount !== first.totalCount ||
          around.names[0] !== name(all.at(-1)!) ||
          around.names[1] !== name(page.entries[0]!)
        ) {
          moved = true;
          break;
        }
        all.push(...page.entries);
      }
      if (!moved) return all;
    }
    throw new DynsecUnavailable(`${command}: the list kept changing while it was read (another control connection)`);
  }

  /**
   * One page of `command` from `offset`, `size.count` entries, halving `size.count` while the page
   * is dropped; with the names around its start (the entry before it and its first, by a non-verbose
   * list from `offset - 1`; from 0 for the first page). That small question goes right after the
   * page, in a message of its own, and also tells a dropped page at once, without waiting for the
   * timeout: Mosquitto carries out one client's messages in order and answers them in order, so the
   * small answer arriving while the page's has not means the page's was dropped.
   */
  async #page(command: string, offset: number, size: { count: number }): Promise<{ page: unknown; names: unknown }> {
    for (;;) {
      const [page] = await this.#sendTracked([{ command, verbose: true, count: size.count, offset }]);
      const [names] = await this.#sendTracked([
        { command, verbose: false, count: offset === 0 ? 1 : 2, offset: Math.max(0, offset - 1) },
      ]);
      let around: unknown;
      try {
        around = await names!.answer;
      } catch (error) {
        // No answer to that either, or a refusal: the page's own outcome, if it has one, else this.
        if (page!.waiting()) page!.forget();
        else await page!.answer;
        throw error;
      }
      if (page!.answered()) return { page: await page!.answer, names: around };
      // Past its own timeout (a slow broker), or the link went down: that, not a dropped page.
      if (!page!.waiting()) return { page: await page!.answer, names: around };
      page!.forget();
      if (size.count === 1)
        throw new DynsecUnavailable(
          `${command}: the entry at ${offset} is larger than the broker link's packet limit: the broker drops it`,
        );
      size.count = Math.max(1, Math.floor(size.count / 2));
    }
  }

  /** The group, or undefined when the broker has none by that name. */
  async getGroup(groupname: string): Promise<DynsecGroup | undefined> {
    try {
      return z.object({ group: groupSchema }).parse(await this.command('getGroup', { groupname })).group;
    } catch (error) {
      if (error instanceof DynsecError && /not found/i.test(error.brokerError)) return undefined;
      throw error;
    }
  }

  /** The client, or undefined when the broker has none by that name. */
  async getClient(username: string): Promise<DynsecClient | undefined> {
    try {
      return z.object({ client: clientSchema }).parse(await this.command('getClient', { username })).client;
    } catch (error) {
      if (error instanceof DynsecError && /not found/i.test(error.brokerError)) return undefined;
      throw error;
    }
  }

  /** The role, or undefined when the broker has none by that name. */
  async getRole(rolename: string): Promise<DynsecRole | undefined> {
    try {
      return z.object({ role: roleSchema }).parse(await this.command('getRole', { rolename })).role;
    } catch (error) {
      if (error instanceof DynsecError && /not found/i.test(error.brokerError)) return undefined;
      throw error;
    }
  }

  /** A client without a password: it can only come in with a certificate (use_identity_as_username). */
  async createClient(
    username: string,
    textname: string,
    roles: string[],
    groups: { groupname: string; priority: number }[] = [],
  ): Promise<void> {
    await this.command('createClient', {
      username,
      textname,
      roles: roles.map((rolename) => ({ rolename })),
      ...(groups.length && { groups }),
    });
  }

  /** Deletes the client; Mosquitto disconnects every connection with that username at once. */
  async deleteClient(username: string): Promise<void> {
    await this.command('deleteClient', { username });
  }

  /**
   * Deletes the client and creates it again with its text name, roles and groups, in one message:
   * Mosquitto disconnects every connection of that username, and each reconnection finds the client
   * back with its access. Rejects when the deletion is refused (nobody was disconnected); resolves
   * false when only the creation was refused (the client is gone: the caller makes it again).
   */
  async recreateClient(client: DynsecClient): Promise<boolean> {
    const [deleted, created] = await this.commands([
      { command: 'deleteClient', username: client.username },
      {
        command: 'createClient',
        username: client.username,
        ...(client.textname !== undefined && { textname: client.textname }),
        roles: client.roles,
        groups: client.groups,
      },
    ]);
    await deleted;
    return created!.then(
      () => true,
      (error: unknown) => {
        if (error instanceof DynsecError) return false;
        throw error;
      },
    );
  }

  async createRole(rolename: string, textname: string, acls: Acl[]): Promise<void> {
    await this.command('createRole', { rolename, textname, acls });
  }

  async deleteRole(rolename: string): Promise<void> {
    await this.command('deleteRole', { rolename });
  }

  /** Adds a role to a client. Mosquitto 2.0 disconnects the client's connections when it does. */
  async addClientRole(username: string, rolename: string): Promise<void> {
    await this.command('addClientRole', { username, rolename });
  }

  async createGroup(groupname: string): Promise<void> {
    await this.command('createGroup', { groupname });
  }

  async deleteGroup(groupname: string): Promise<void> {
    await this.command('deleteGroup', { groupname });
  }

  async addGroupRole(groupname: string, rolename: string, priority: number): Promise<void> {
    await this.command('addGroupRole', { groupname, rolename, priority });
  }

  /** Mosquitto 2.0 disconnects the client's connections when its groups change. */
  async addGroupClient(groupname: string, username: string, priority: number): Promise<void> {
    await this.command('addGroupClient', { groupname, username, priority });
  }

  async removeGroupClient(groupname: string, username: string): Promise<void> {
    await this.command('removeGroupClient', { groupname, username });
  }

  async addRoleAcl(rolename: string, acl: Acl): Promise<void> {
    await this.command('addRoleACL', { rolename, ...acl });
  }

  async removeRoleAcl(rolename: string, acl: Pick<Acl, 'acltype' | 'topic'>): Promise<void> {
    await this.command('removeRoleACL', { rolename, acltype: acl.acltype, topic: acl.topic });
  }
}
