// Sharing groups (issue 17): create, rename, add and remove people. Each change is stored with its
// audit row in one transaction, then sent to the broker as dynsec commands (broker/groups.ts) through
// the broker link's command layer, which reconciles the stored groups as well. Without a broker link a group would share nothing, so nothing is
// changed and the page explains why.
import { z } from 'zod';
import { groupHasRoom, groupPlan, type DynsecCommands, type DynsecCommand } from '../broker/groups.js';
import type { AuditedTransaction } from '../db/audit.js';
import type { GroupsRepository } from '../db/groups.js';
import type { UsersRepository } from '../db/users.js';
import { failed, fieldIssues, ok } from '../outcome.js';
import { wordsFor } from '../words/index.js';
import { by, type Actor } from './context.js';

export interface SharingDeps {
  groups: GroupsRepository;
  users: UsersRepository;
  audited: AuditedTransaction;
  now: () => Date;
  /** The broker link's dynsec commands; undefined without a broker link. */
  dynsec: DynsecCommands | undefined;
}

const words = wordsFor().rules;
/**
 * Control characters, C1 ones included, the marks that reorder text (bidi overrides) and the
 * invisible ones (zero-width spaces and joiners): a name shown on pages and in the audit log must
 * read as what it is, and two names must not look alike.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this rejects
const UNREADABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
// Stored composed (NFC): "Café" typed with a combining accent is the same name as with "é".
const groupNameSchema = z
  .string()
  .trim()
  .transform((value) => value.normalize('NFC'))
  .pipe(
    z
      .string()
      .min(1, words.groupNameEmpty)
      .max(64, words.groupNameLong(64))
      .refine((value) => !UNREADABLE.test(value), words.groupNameControl),
  );

export function createSharing(deps: SharingDeps) {
  const subject = (id: number) => `group:${id}`;

  /**
   * Sends the commands; the change is stored either way, and the page says when the broker refused
   * (the broker link's reconcile applies the stored groups when it is back). The people group and a
   * person's own client and role are the broker link's, made from their first certificate.
   */
  async function send(commands: DynsecCommand[]): Promise<{ brokerError?: string }> {
    if (!deps.dynsec || commands.length === 0) return {};
    try {
      await deps.dynsec.send(commands);
      return {};
    } catch (error) {
      return { brokerError: error instanceof Error ? error.message : String(error) };
    }
  }

  const nameOrIssues = (name: string) => {
    const parsed = groupNameSchema.safeParse(name);
    return parsed.success ? { name: parsed.data } : { issues: fieldIssues(parsed.error.issues) };
  };

  return {
    /** Whether groups can be used: they need the broker link. */
    available: deps.dynsec !== undefined,
    list: () => ({ groups: deps.groups.list(), people: deps.groups.people() }),

    async create(name: string, actor: Actor) {
      if (!deps.dynsec) return failed('no-broker-link');
      const checked = nameOrIssues(name);
      if ('issues' in checked) return failed('invalid', { issues: checked.issues });
      if (deps.groups.nameTaken(checked.name)) return failed('invalid', { issues: { name: 'A group has this name' } });
      const id = deps.audited(deps.now(), (audit) => {
        const created = deps.groups.create(checked.name, deps.now());
        audit({
          ...by(actor),
          action: 'group-create',
          subject: subject(created),
          outcome: 'success',
          detail: checked.name,
        });
        return created;
      });
      return ok({ id, ...(await send(groupPlan(undefined, { id, members: [] }))) });
    },

    rename(id: number, name: string, actor: Actor) {
      if (!deps.dynsec) return failed('no-broker-link');
      const group = deps.groups.find(id);
      if (!group) return failed('not-found');
      const checked = nameOrIssues(name);
      if ('issues' in checked) return failed('invalid', { issues: checked.issues });
      if (deps.groups.nameTaken(checked.name, id))
        return failed('invalid', { issues: { name: 'A group has this name' } });
      deps.audited(deps.now(), (audit) => {
        deps.groups.rename(id, checked.name);
        audit({
          ...by(actor),
          action: 'group-rename',
          subject: subject(id),
          outcome: 'success',
          detail: `${group.name} → ${checked.name}`,
        });
      });
      return ok(); // the broker knows the group by its id: nothing to send
    },

    async addMember(id: number, username: string, actor: Actor) {
      if (!deps.dynsec) return failed('no-broker-link');
      const group = deps.groups.find(id);
      const user = deps.users.find(username);
      // A deleted person is no one to add (a page opened before the deletion still offers them).
      if (!group || !user || user.deleted_at !== null) return failed('not-found');
      if (!group.members.includes(username) && !groupHasRoom(group.members, username))
        return failed('invalid', { issues: { username: words.groupFull(group.members.length) } });
      const added = deps.audited(deps.now(), (audit) => {
        const changed = deps.groups.addMember(id, user.id, deps.now());
        if (changed)
          audit({ ...by(actor), action: 'group-add', subject: subject(id), outcome: 'success', detail: username });
        return changed;
      });
      if (!added) return failed('unchanged');
      const plan = groupPlan(group, { id, members: [...group.members, username] });
      return ok(await send(plan));
    },

    async removeMember(id: number, username: string, actor: Actor) {
      if (!deps.dynsec) return failed('no-broker-link');
      const group = deps.groups.find(id);
      const user = deps.users.find(username);
      if (!group || !user) return failed('not-found');
      const removed = deps.audited(deps.now(), (audit) => {
        const changed = deps.groups.removeMember(id, user.id);
        if (changed)
          audit({ ...by(actor), action: 'group-remove', subject: subject(id), outcome: 'success', detail: username });
        return changed;
      });
      if (!removed) return failed('unchanged');
      return ok(await send(groupPlan(group, { id, members: group.members.filter((member) => member !== username) })));
    },
  };
}

export type Sharing = ReturnType<typeof createSharing>;
