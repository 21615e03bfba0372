// The sharing groups' pages: without a broker link the page says why it is empty and refuses
// changes; with one (here a recording stand-in for the link's dynsec command layer) each change is
// stored, audited and sent to the broker as the plan in broker/groups.ts says.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrokerAccess } from '../../broker/access.js';
import { groupHasRoom, shareAcls, type DynsecCommand } from '../../broker/groups.js';
import { Browser, withPortal, type TestPortal } from '../../testing/harness.js';

/** Signed in; alice and bob with a certificate each, both in the group Family. */
async function familyOfAliceAndBob(portal: TestPortal): Promise<Browser> {
  const browser = new Browser(portal);
  await browser.signIn();
  for (const username of ['alice', 'bob'])
    await browser.issue({ username, email: `${username}@example.org`, days: '30' });
  await browser.submit('/groups', '/groups', { name: 'Family' });
  const id = portal.db.prepare('SELECT id FROM sharing_groups').pluck().get() as number;
  for (const username of ['alice', 'bob']) await browser.submit('/groups', `/groups/${id}/members`, { username });
  return browser;
}

describe('sharing groups pages', () => {
  test('without a broker link the page explains why it is empty and changes nothing', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const page = await browser.get('/groups');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Sharing groups need the broker link/);
      assert.doesNotMatch(page.body, /Create group/);
      const response = await browser.post('/groups', {
        _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!,
        name: 'family',
      });
      assert.equal(response.statusCode, 303);
      assert.equal(portal.db.prepare('SELECT count(*) FROM sharing_groups').pluck().get(), 0);
    });
  });

  test('create, add, remove and rename, each sent to the broker and audited', async () => {
    const sent: DynsecCommand[][] = [];
    const dynsec = { send: async (commands: DynsecCommand[]) => void sent.push(commands) };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      for (const username of ['alice', 'bob'])
        await browser.issue({ username, email: `${username}@example.org`, days: '30' });
      assert.equal((await browser.submit('/groups', '/groups', { name: 'Family' })).statusCode, 303);
      const id = portal.db.prepare('SELECT id FROM sharing_groups').pluck().get() as number;
      assert.match((await browser.get('/groups')).body, /Group Family created/);
      for (const username of ['alice', 'bob']) await browser.submit('/groups', `/groups/${id}/members`, { username });
      let page = await browser.get('/groups');
      assert.match(page.body, /<li>alice/);
      assert.match(page.body, /<li>bob/);
      await browser.submit('/groups', `/groups/${id}/members/remove`, { username: 'bob' });
      await browser.submit('/groups', `/groups/${id}/rename`, { name: 'Parents' });
      page = await browser.get('/groups');
      assert.match(page.body, /<h2 id="g-\d+">Parents<\/h2>/);
      assert.doesNotMatch(page.body, /<li>bob/);

      const commands = sent.flat().map((command) => command.command);
      assert.equal(commands.filter((c) => c === 'createGroup').length, 1, 'share-1 (the people group is the link’s)');
      assert.equal(
        commands.filter((c) => c === 'createClient').length,
        0,
        'clients are the link’s, from a first certificate',
      );
      assert.equal(commands.filter((c) => c === 'addGroupClient').length, 2);
      assert.deepEqual(
        sent.at(-1)!.map((command) => ('topic' in command ? `${command.command} ${command.topic}` : command.command)),
        [
          'removeGroupClient',
          'removeRoleACL owntracks/bob/+',
          'removeRoleACL owntracks/bob/+/event',
          'removeRoleACL owntracks/bob/+/info',
        ],
      );
      const actions = portal.db
        .prepare("SELECT action FROM audit_log WHERE subject LIKE 'group:%' ORDER BY id")
        .pluck()
        .all();
      assert.deepEqual(actions, ['group-create', 'group-add', 'group-add', 'group-remove', 'group-rename']);
    });
  });

  test('a refusing broker: the change is kept and the page says it did not take effect', async () => {
    const dynsec = {
      send: async () => {
        throw new Error('Role not found');
      },
    };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      await browser.submit('/groups', '/groups', { name: 'Team' });
      assert.match((await browser.get('/groups')).body, /the broker refused the change \(Role not found\)/);
    });
  });

  test('a deleted person leaves their groups: the name given to someone new sees nobody', async () => {
    const dynsec = { send: async () => undefined };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const browser = await familyOfAliceAndBob(portal);
      assert.ok((await portal.services.enrollment.people.remove('alice', { name: 'admin' })).ok);
      const members = () => portal.services.sharing.list().groups[0]!.members;
      assert.deepEqual(members(), ['bob']);
      assert.deepEqual(portal.services.sharing.list().people, ['bob'], 'a deleted person cannot be added');
      assert.match(
        String(portal.db.prepare("SELECT detail FROM audit_log WHERE action = 'person-delete'").pluck().get()),
        /left 1 sharing group/,
      );
      // The name given to a new person: in no group until an admin puts them in one.
      await browser.issue({ username: 'alice', email: 'new-alice@example.org', device: 'phone', days: '30' });
      assert.deepEqual(members(), ['bob']);
    });
  });

  test('a page opened before a deletion cannot add the deleted person: nothing stored, audited or sent', async () => {
    const sent: DynsecCommand[][] = [];
    const dynsec = { send: async (commands: DynsecCommand[]) => void sent.push(commands) };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const browser = await familyOfAliceAndBob(portal);
      const id = portal.db.prepare('SELECT id FROM sharing_groups').pluck().get() as number;
      await browser.submit('/groups', `/groups/${id}/members/remove`, { username: 'alice' });
      const stale = await browser.get('/groups'); // alice in the list to add
      assert.match(stale.body, /<option value="alice">/);
      assert.ok((await portal.services.enrollment.people.remove('alice', { name: 'admin' })).ok);
      const audit = () => portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get();
      const [auditBefore, sentBefore] = [audit(), sent.length];
      const response = await browser.post(`/groups/${id}/members`, {
        _csrf: /name="_csrf" value="([^"]+)"/.exec(stale.body)![1]!,
        username: 'alice',
      });
      assert.equal(response.statusCode, 303);
      const members = () => portal.services.sharing.list().groups[0]!.members;
      assert.deepEqual(members(), ['bob']);
      assert.equal(audit(), auditBefore);
      assert.equal(sent.length, sentBefore, 'nothing sent to the broker');
      // The name given to someone new: in no group.
      await browser.issue({ username: 'alice', email: 'new-alice@example.org', device: 'phone', days: '30' });
      assert.deepEqual(members(), ['bob']);
    });
  });

  test("a deletion whose broker update fails: the admin is warned that the groups may still share that name's locations", async () => {
    const dynsec = { send: async () => undefined };
    const reconciles: string[] = [];
    const calls: Record<string, unknown> = {
      reconcileOrRetry: async (trigger: string) => {
        reconciles.push(trigger);
        return {
          at: new Date(),
          trigger,
          changes: [],
          conflicts: [],
          error: 'listRoles: no answer from the broker within 5000 ms',
        };
      },
      enforce: async () => ({ state: 'none' }),
      isUnmanagedClient: async () => false,
    };
    // Every other call of the broker link does nothing.
    const brokerAccess = new Proxy(calls, {
      get: (target, key): unknown =>
        key in target ? Reflect.get(target, key) : key === 'then' ? undefined : () => undefined,
    }) as unknown as BrokerAccess;
    await withPortal({ deps: { dynsec, brokerAccess } }, async (portal) => {
      const browser = await familyOfAliceAndBob(portal);
      const deleted = await browser.submit('/people/alice/delete', '/people/alice/delete', {});
      assert.equal(deleted.statusCode, 303);
      assert.deepEqual(reconciles, ['alice deleted']);
      const page = await browser.get(String(deleted.headers.location));
      assert.match(
        page.body,
        /The broker&#39;s sharing groups could not be updated yet \(listRoles: no answer from the broker within 5000 ms\): until they are, the people in alice&#39;s groups could still receive/,
      );
    });
  });

  test('a group name with control characters or text-direction marks is refused, and nothing is stored or sent', async () => {
    const sent: DynsecCommand[][] = [];
    const dynsec = { send: async (commands: DynsecCommand[]) => void sent.push(commands) };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const { sharing } = portal.services;
      for (const name of [
        'bell\u0007',
        'next\u0085line',
        'evil\u202etxt.exe',
        'iso\u2066late\u2069',
        'mark\u200f',
        'zero\u200bwidth',
        'b\ufeffom',
        '   ',
        'x'.repeat(65),
      ]) {
        const outcome = await sharing.create(name, { name: 'admin' });
        assert.equal(outcome.ok ? 'created' : outcome.reason, 'invalid', JSON.stringify(name));
      }
      assert.equal(portal.db.prepare('SELECT count(*) FROM sharing_groups').pluck().get(), 0);
      assert.deepEqual(sent, []);
      assert.ok((await sharing.create('Família Ünal', { name: 'admin' })).ok, 'letters of any script are fine');
    });
  });

  test('a group is full when its broker rules would not fit the link: the next one is refused, nothing stored or sent', async () => {
    const sent: DynsecCommand[][] = [];
    const dynsec = { send: async (commands: DynsecCommand[]) => void sent.push(commands) };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const { sharing } = portal.services;
      const created = await sharing.create('Everyone', { name: 'admin' });
      assert.ok(created.ok);
      // Usernames of the longest allowed length: the group fills up at about 2,000.
      const name = (i: number) => `${i}-`.padEnd(64, 'x');
      const members: string[] = [];
      while (groupHasRoom(members, name(members.length))) members.push(name(members.length));
      assert.ok(members.length > 1900 && members.length < 2100, String(members.length));
      assert.ok(JSON.stringify(shareAcls(members)).length < 1024 * 1024 - 100_000, 'room left for the envelope');
      portal.db.transaction(() => {
        const user = portal.db.prepare("INSERT INTO users (username, email, created_at) VALUES (?, ?, '2026-01-01')");
        const member = portal.db.prepare(
          "INSERT INTO sharing_group_members (group_id, user_id, added_at) VALUES (?, ?, '2026-01-01')",
        );
        for (const username of members) member.run(created.id, user.run(username, 'p@example.org').lastInsertRowid);
        user.run(name(members.length), 'p@example.org');
      })();
      sent.length = 0;
      const refused = await sharing.addMember(created.id, name(members.length), { name: 'admin' });
      assert.equal(refused.ok ? 'added' : refused.reason, 'invalid');
      assert.match(JSON.stringify(refused), /This group is full at 1,9\d\d members/);
      const again = await sharing.addMember(created.id, members[0]!, { name: 'admin' });
      assert.equal(again.ok ? 'added' : again.reason, 'unchanged', 'a member already in it is not refused as full');
      assert.equal(portal.db.prepare('SELECT count(*) FROM sharing_group_members').pluck().get(), members.length);
      assert.deepEqual(sent, []);
    });
  });

  test('names that look alike are one name: composed or not, in any case, in compatibility forms', async () => {
    const dynsec = { send: async () => undefined };
    await withPortal({ deps: { dynsec } }, async (portal) => {
      const { sharing } = portal.services;
      const created = await sharing.create('Cafe\u0301', { name: 'admin' });
      assert.ok(created.ok);
      assert.equal(portal.db.prepare('SELECT name FROM sharing_groups').pluck().get(), 'Caf\u00e9', 'stored composed');
      for (const name of ['Caf\u00e9', 'CAF\u00c9', 'cafe\u0301', 'CAFE\u0301']) {
        const outcome = await sharing.create(name, { name: 'admin' });
        assert.deepEqual(outcome, { ok: false, reason: 'invalid', issues: { name: 'A group has this name' } }, name);
      }
      const other = await sharing.create('Club', { name: 'admin' });
      assert.ok(other.ok);
      assert.equal(sharing.rename(other.id, 'caf\u00c9', { name: 'admin' }).ok, false, 'nor by a rename');
      assert.ok(sharing.rename(created.id, 'CAF\u00c9', { name: 'admin' }).ok, 'its own name in other letters');
      assert.equal(portal.db.prepare('SELECT count(*) FROM sharing_groups').pluck().get(), 2);
      // Case folding beyond one letter for one (ß is SS in capitals), and compatibility forms
      // (full-width letters, ligatures) that read as the same word.
      assert.ok((await sharing.create('Stra\u00dfe', { name: 'admin' })).ok);
      assert.ok((await sharing.create('Office', { name: 'admin' })).ok);
      for (const name of [
        'STRASSE',
        'strasse',
        'STRA\u1e9eE',
        '\uff33\uff54\uff52\uff41\uff53\uff53\uff45',
        'O\ufb03ce',
      ]) {
        const outcome = await sharing.create(name, { name: 'admin' });
        assert.deepEqual(outcome, { ok: false, reason: 'invalid', issues: { name: 'A group has this name' } }, name);
      }
      assert.equal(portal.db.prepare('SELECT count(*) FROM sharing_groups').pluck().get(), 4);
    });
  });
});
