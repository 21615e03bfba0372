// The broker link, presence and sharing groups joined, against real Mosquitto 2.0.11 with the
// dynamic-security plugin: presence hears the phones through the link's own connection (across a
// broker restart, huge payloads dropped by the broker); groups made with the portal's use cases
// decide who sees whom with the apps' own subscription to owntracks/+/+; a group change made while
// the link is down, a broker that lost its dynsec file and a revocation's kick all end with the
// groups the database holds.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Browser } from '../testing/harness.js';
import {
  CONTROL,
  issueDevice,
  Phone,
  restartBroker,
  startLinkedPortal,
  until,
  type LinkedPortal,
} from '../testing/broker-link.js';
import { Dynsec } from './dynsec.js';
import { sharedTopics } from './groups.js';
import { BrokerLink } from './link.js';

const random = () => Math.random().toString(16).slice(2, 10);

/** A phone that subscribes to owntracks/+/+ as the apps do, keeping what it receives. */
class App extends Phone {
  received: string[] = [];
  constructor(linked: LinkedPortal, device: Awaited<ReturnType<typeof issueDevice>>) {
    // The subscription is made on the current connection by `sees` (dynsec drops a client whose
    // groups change; MQTT.js's own resubscription lost it when two such drops came within a second).
    super(linked, device, 100, { resubscribe: false });
    this.client.on('message', (_topic, payload) => this.received.push(String(payload)));
  }
  get topic() {
    return `owntracks/${this.device.username}/${this.device.device}`;
  }
}

/**
 * Whether `to` receives a location `from` publishes. Decided without waiting for an absence: after
 * the location, `to` publishes a marker on its own topic (which it always receives); the broker
 * delivers in order on a connection, so the marker arriving first means the location never will.
 * Undefined when `to` reconnected meanwhile (no verdict).
 */
async function sees(from: App, to: App): Promise<boolean | undefined> {
  await until(
    () => from.connected && to.connected,
    10_000,
    `both phones connected (${from.topic} ${from.connected} ${from.errors.join()}, ${to.topic} ${to.connected} ${to.errors.join()})`,
  );
  const connects = to.connects;
  try {
    await to.client.subscribeAsync('owntracks/+/+', { qos: 1 });
  } catch {
    return undefined;
  }
  const text = `location-${random()}`;
  await from.client.publishAsync(from.topic, text, { qos: 1 });
  const marker = `marker-${random()}`;
  await to.client.publishAsync(to.topic, marker, { qos: 1 });
  try {
    await until(() => to.received.includes(marker), 3000, 'the marker');
  } catch {
    return undefined;
  }
  if (to.connects !== connects) return undefined;
  return to.received.includes(text);
}

/**
 * `sees`, asked again while a reconnect spoils the answer (a group change: dynsec drops the client,
 * and Mosquitto refuses a subscription on a connection it is about to close).
 */
async function verdict(from: App, to: App): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const answer = await sees(from, to);
    if (answer !== undefined) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100)); // polling, not waiting for an event
  }
  throw new Error(`no verdict: ${from.topic} → ${to.topic} (connects ${to.connects}, errors ${to.errors.join()})`);
}

/** Until `from` → `to` delivery is `expected` (a group change takes effect once the phones reconnect). */
async function becomes(from: App, to: App, expected: boolean, what: string) {
  const deadline = Date.now() + 15_000;
  while ((await verdict(from, to)) !== expected)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

describe('broker link, presence and sharing groups together', () => {
  let linked: LinkedPortal;
  let inspector: BrokerLink;
  let dynsec: Dynsec;
  const apps: App[] = [];

  before(async () => {
    linked = await startLinkedPortal();
    inspector = new BrokerLink(
      {
        url: `mqtt://127.0.0.1:${linked.controlPort}`,
        username: CONTROL.username,
        password: CONTROL.password,
      },
      { backoffFirstMs: 100, backoffMaxMs: 500 },
    );
    dynsec = new Dynsec(inspector);
    inspector.start();
    await until(() => linked.portal.services.broker!.link.connected && inspector.connected, 10_000, 'the links');
  });
  after(async () => {
    for (const app of apps) await app.end();
    await inspector.stop();
    await linked.close();
  });

  test('presence hears phones through the broker link, across a broker restart; huge payloads never reach it', async () => {
    const { portal } = linked;
    const alice = new App(linked, await issueDevice(linked, 'alice', 'pixel'));
    apps.push(alice);
    const browser = new Browser(portal);
    await browser.signIn();
    const presence = async () => {
      const page = await browser.get(`/certificates/${alice.device.certificateId}`);
      return /data-testid="presence">(.*?)<\/dd>/s
        .exec(page.body)![1]!
        .replace(/<[^>]+>/g, '')
        .trim();
    };
    assert.match(await presence(), /^never connected/);
    // What reaches the portal's connection, as sizes.
    const sizes: number[] = [];
    const end = portal.services.broker!.subscribe('owntracks/+/+', (_topic, payload) => sizes.push(payload.length));
    await until(() => alice.connected, 10_000, 'alice connected');
    await alice.client.publishAsync(alice.topic, '{"_type":"location"}', { qos: 1 });
    await until(async () => /^connected/.test(await presence()), 5000, 'connected on the page');

    // Larger than the link's Maximum Packet Size: Mosquitto drops it for the portal, not the next one.
    await alice.client.publishAsync(alice.topic, Buffer.alloc(2 * 1024 * 1024, 0x61), { qos: 1 });
    await alice.client.publishAsync(alice.topic, 'small', { qos: 1 });
    await until(() => sizes.includes(5), 5000, 'the small message');
    assert.ok(Math.max(...sizes) < 1024 * 1024, `sizes seen: ${sizes.join(', ')}`);
    end();

    // Two hours on, after a broker restart: the link subscribes again and hears the next message.
    portal.clock.advance(2 * 3600_000);
    await browser.signIn(); // the session idled out meanwhile
    assert.match(await presence(), /^last seen/);
    portal.clock.current = new Date(); // back to the broker's time: certificates issued next are valid now
    await restartBroker(linked);
    await until(() => portal.services.broker!.link.connected && alice.connected, 15_000, 'the link and alice back');
    await until(
      async () => {
        await alice.client.publishAsync(alice.topic, '{"_type":"location"}', { qos: 1 });
        return /^connected/.test(await presence());
      },
      10_000,
      'connected again after the restart',
    );
  });

  test('a person in no group sees only themselves; two people in one group see each other', async () => {
    const { sharing } = linked.portal.services;
    const [alice] = apps as [App];
    const bob = new App(linked, await issueDevice(linked, 'bob', 'phone'));
    const carol = new App(linked, await issueDevice(linked, 'carol', 'ipad'));
    apps.push(bob, carol);
    // The person's setup comes with the first certificate: own role, the people group, no sharing.
    const bobClient = await dynsec.getClient('bob');
    assert.deepEqual(
      bobClient?.roles.map((role) => role.rolename),
      ['owntracks-enroll-bob'],
    );
    assert.deepEqual(
      bobClient?.groups.map((group) => group.groupname),
      ['owntracks-people'],
    );
    assert.equal(await verdict(alice, alice), true, 'alice sees herself');
    assert.equal(await verdict(alice, bob), false, 'bob does not see alice');
    assert.equal(await verdict(bob, alice), false, 'alice does not see bob');

    const created = await sharing.create('Family', { name: 'admin' });
    assert.ok(created.ok && !created.brokerError, JSON.stringify(created));
    const id = created.id;
    for (const username of ['alice', 'bob']) {
      const added = await sharing.addMember(id, username, { name: 'admin' });
      assert.ok(added.ok && !added.brokerError, JSON.stringify(added));
    }
    await becomes(alice, bob, true, 'bob to see alice');
    await becomes(bob, alice, true, 'alice to see bob');
    assert.equal(await verdict(alice, carol), false, 'carol, in no group, does not see alice');
    assert.equal(await verdict(carol, bob), false, 'bob does not see carol');
    assert.equal(await verdict(carol, carol), true, 'carol sees herself');
  });

  test('a group change made while the link is down is applied on reconnect', async () => {
    const { sharing, broker } = linked.portal.services;
    const [alice, bob] = apps as [App, App];
    const id = sharing.list().groups[0]!.id;
    await linked.broker.stop();
    await until(() => !broker!.link.connected, 5000, 'the link down');
    const removed = await sharing.removeMember(id, 'bob', { name: 'admin' });
    assert.ok(removed.ok && removed.brokerError, 'stored, and the page says the broker did not take it');
    // The reconcile at the reconnect fails once (the broker busy): it is tried again soon.
    const list = Dynsec.prototype.listClients;
    Dynsec.prototype.listClients = async function () {
      Dynsec.prototype.listClients = list;
      throw new Error('listClients: no answer from the broker within 5000 ms');
    };
    try {
      await restartBroker(linked);
      await until(() => Dynsec.prototype.listClients === list, 15_000, 'the reconcile at the reconnect');
    } finally {
      Dynsec.prototype.listClients = list;
    }
    // The link's own reconcile applies it, the retry after the failed one: nothing here asks for one.
    await until(
      async () =>
        inspector.connected &&
        JSON.stringify((await dynsec.getClient('bob'))?.groups.map((group) => group.groupname)) ===
          '["owntracks-people"]',
      15_000,
      'bob out of the group on the broker',
    );
    await becomes(alice, bob, false, 'bob no longer to see alice');
  });

  test('a group change the broker refuses while the link is up is tried again soon, not only at the hourly reconcile', async () => {
    const { sharing, broker } = linked.portal.services;
    const [alice, bob] = apps as [App, App];
    const id = sharing.list().groups[0]!.id;
    await until(() => broker!.link.connected && inspector.connected, 15_000, 'the links');
    assert.ok((await sharing.addMember(id, 'bob', { name: 'admin' })).ok);
    await becomes(alice, bob, true, 'bob to see alice');
    // The broker answers the removal with an error once (Mosquitto 2.0.11 answers some commands
    // with "Internal error"); the portal's database has bob out of the group either way.
    const refuse = Dynsec.prototype.removeGroupClient;
    Dynsec.prototype.removeGroupClient = async function () {
      Dynsec.prototype.removeGroupClient = refuse;
      throw new Error('Internal error (as the broker answered)');
    };
    try {
      const removed = await sharing.removeMember(id, 'bob', { name: 'admin' });
      assert.ok(removed.ok && removed.brokerError, 'stored, and the page says the broker did not take it');
    } finally {
      Dynsec.prototype.removeGroupClient = refuse;
    }
    await until(
      async () =>
        JSON.stringify((await dynsec.getClient('bob'))?.groups.map((group) => group.groupname)) ===
        '["owntracks-people"]',
      15_000,
      'bob out of the group on the broker',
    );
    await becomes(alice, bob, false, 'bob no longer to see alice');
  });

  test('refusals one after another make one retry, not one each, and none once a reconcile succeeded', async () => {
    const { sharing, broker } = linked.portal.services;
    const id = sharing.list().groups[0]!.id;
    const refuse = Dynsec.prototype.removeGroupClient;
    const list = Dynsec.prototype.listClients;
    let reconciles = 0;
    Dynsec.prototype.removeGroupClient = async () => {
      throw new Error('Internal error (as the broker answered)');
    };
    Dynsec.prototype.listClients = function (this: Dynsec) {
      reconciles++; // each reconcile lists the clients once
      return list.call(this);
    };
    try {
      for (let i = 0; i < 3; i++)
        await assert.rejects(
          broker!.groupCommands.send([{ command: 'removeGroupClient', groupname: `share-${id}`, username: 'alice' }]),
        );
      // The retry (2 s in tests), however late a loaded machine runs it; then a second more, in which a
      // retry per refusal (all three due within milliseconds of it) would have come too.
      await until(() => reconciles >= 1, 15_000, 'the retry');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(reconciles, 1);
      // A reconcile that succeeds (here one asked for) makes up for a refusal whose retry is pending.
      await assert.rejects(
        broker!.groupCommands.send([{ command: 'removeGroupClient', groupname: `share-${id}`, username: 'alice' }]),
      );
      assert.equal((await broker!.reconcile('test')).error, undefined);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(reconciles, 2, 'no retry after the reconcile that succeeded');
    } finally {
      Dynsec.prototype.removeGroupClient = refuse;
      Dynsec.prototype.listClients = list;
    }
  });

  test('a retry that fails is tried again, later', async () => {
    const { sharing } = linked.portal.services;
    const [alice, bob] = apps as [App, App];
    const id = sharing.list().groups[0]!.id;
    assert.ok((await sharing.addMember(id, 'bob', { name: 'admin' })).ok);
    await becomes(alice, bob, true, 'bob to see alice');
    const refuse = Dynsec.prototype.removeGroupClient;
    const list = Dynsec.prototype.listClients;
    Dynsec.prototype.removeGroupClient = async function () {
      Dynsec.prototype.removeGroupClient = refuse;
      throw new Error('Internal error (as the broker answered)');
    };
    // The first retry's reconcile fails too (the broker busy a little longer).
    Dynsec.prototype.listClients = async function () {
      Dynsec.prototype.listClients = list;
      throw new Error('listClients: no answer from the broker within 5000 ms');
    };
    try {
      assert.ok((await sharing.removeMember(id, 'bob', { name: 'admin' })).ok);
      await until(() => Dynsec.prototype.listClients === list, 15_000, 'the first retry');
      await until(
        async () =>
          JSON.stringify((await dynsec.getClient('bob'))?.groups.map((group) => group.groupname)) ===
          '["owntracks-people"]',
        15_000,
        'bob out of the group on the broker, by the second retry',
      );
    } finally {
      Dynsec.prototype.removeGroupClient = refuse;
      Dynsec.prototype.listClients = list;
    }
    await becomes(alice, bob, false, 'bob no longer to see alice');
  });

  test('a broker that lost its dynsec file gets people and groups back; a kick keeps the groups', async () => {
    const { sharing, broker, enrollment } = linked.portal.services;
    const [alice, bob] = apps as [App, App];
    const id = sharing.list().groups[0]!.id;
    await sharing.addMember(id, 'bob', { name: 'admin' });
    await becomes(alice, bob, true, 'bob to see alice again');

    await linked.broker.stop();
    rmSync(linked.dynsecFile); // Mosquitto.start makes a new one with only the control account
    await restartBroker(linked);
    await until(() => inspector.connected && broker!.link.connected, 15_000, 'the links back');
    await until(async () => (await dynsec.getGroup(`share-${id}`)) !== undefined, 10_000, 'the reconcile');
    await becomes(alice, bob, true, 'bob to see alice on the new dynsec file');
    await becomes(bob, alice, true, 'alice to see bob on the new dynsec file');

    // A second device of alice's, revoked: her client is deleted (the kick) and made again with her groups.
    const tablet = await issueDevice(linked, 'alice', 'tablet');
    const kicksBefore = linked.portal.db.prepare('SELECT count(*) FROM broker_kicks WHERE done_at IS NOT NULL').pluck();
    const done = kicksBefore.get() as number;
    const revoked = await enrollment.revoke(tablet.certificateId, 'keyCompromise', { name: 'admin' });
    assert.ok(revoked.ok);
    await until(() => (kicksBefore.get() as number) > done, 15_000, 'the kick carried out');
    const aliceClient = await dynsec.getClient('alice');
    assert.deepEqual(aliceClient?.groups.map((group) => group.groupname).sort(), ['owntracks-people', `share-${id}`]);
    await becomes(alice, bob, true, 'bob still to see alice after the kick');
  });

  test('a deleted person leaves their groups on the broker too: the name given to someone new is seen by nobody', async () => {
    const { sharing, enrollment } = linked.portal.services;
    const dave = new App(linked, await issueDevice(linked, 'dave', 'phone'));
    const erin = new App(linked, await issueDevice(linked, 'erin', 'phone'));
    apps.push(dave, erin);
    const created = await sharing.create('Friends', { name: 'admin' });
    assert.ok(created.ok);
    for (const username of ['dave', 'erin'])
      assert.ok((await sharing.addMember(created.id, username, { name: 'admin' })).ok);
    await becomes(dave, erin, true, 'erin to see dave');

    assert.ok((await enrollment.people.remove('dave', { name: 'admin' })).ok);
    await until(() => !dave.connected, 5_000, "dave's phone off");
    // Someone new gets the name at once: erin must not see their locations.
    const newDave = new App(linked, await issueDevice(linked, 'dave', 'tablet'));
    apps.push(newDave);
    assert.equal(await verdict(newDave, erin), false, 'erin does not see the new dave');
    assert.equal(await verdict(newDave, newDave), true, 'the new dave sees himself');
  });

  test('a group made anew under the id of a sharing group the broker still holds starts empty there too', async () => {
    const { sharing, broker } = linked.portal.services;
    const frank = new App(linked, await issueDevice(linked, 'frank', 'phone'));
    const gina = new App(linked, await issueDevice(linked, 'gina', 'phone'));
    const hank = new App(linked, await issueDevice(linked, 'hank', 'phone'));
    apps.push(frank, gina, hank);
    const old = await sharing.create('Old friends', { name: 'admin' });
    assert.ok(old.ok);
    for (const username of ['frank', 'gina'])
      assert.ok((await sharing.addMember(old.id, username, { name: 'admin' })).ok);
    // The database goes back to before that group (a restore of an older backup, or a data folder
    // made anew beside the same broker): the broker keeps its role and group, no longer the portal's.
    const share = `share-${old.id}`;
    linked.portal.db.exec(
      `DELETE FROM sharing_group_members WHERE group_id = ${old.id}; DELETE FROM sharing_groups WHERE id = ${old.id};
       DELETE FROM broker_managed WHERE name = '${share}'`,
    );
    // Made before any reconcile has looked (it would take frank and gina out of the old group).
    const made = await sharing.create('Club', { name: 'admin' });
    assert.ok(made.ok);
    assert.equal(made.id, old.id, 'the same id again');
    assert.ok((await sharing.addMember(made.id, 'hank', { name: 'admin' })).ok);
    const topics = async () => (await dynsec.getRole(share))?.acls.map((acl) => acl.topic).sort();
    assert.deepEqual(await topics(), sharedTopics('hank').sort(), "the new group's rules only");
    assert.deepEqual(
      (await dynsec.getGroup(share))?.clients.map((client) => client.username),
      ['hank'],
      "the new group's members only",
    );
    assert.equal(await verdict(frank, hank), false, 'hank does not see frank');
    assert.equal(await verdict(hank, gina), false, 'gina does not see hank');

    // A role of the earlier, wider shape (all of owntracks/<member>/#) is narrowed by the next reconcile.
    await dynsec.addRoleAcl(share, {
      acltype: 'publishClientReceive',
      topic: 'owntracks/hank/#',
      allow: true,
      priority: 0,
    });
    await broker!.reconcile('test');
    assert.deepEqual(await topics(), sharedTopics('hank').sort(), 'the wider rule gone');
  });
});
