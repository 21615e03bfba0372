// Access managed in dynsec, against real Mosquitto 2.0.11 with the plugin: a person's first
// certificate creates their client and role, the last revoked deletes them, usernames of broker
// accounts the portal did not create are refused, reconcile repairs drift (on demand, audited), and
// a broker on acl_file moves to dynsec without a phone losing access.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Browser, startTestPortal, type TestPortal } from '../testing/harness.js';
import {
  CONTROL,
  issueDevice,
  Phone,
  restartBroker,
  startLinkedPortal,
  TEST_BROKER_TIMINGS,
  until,
  type LinkedPortal,
} from '../testing/broker-link.js';
import { tempDir } from '../testing/temp-dir.js';
import { Dynsec } from './dynsec.js';
import { BrokerLink } from './link.js';

/** A second control connection of the test's own, to look at dynsec and to change it behind the portal's back. */
async function inspector(linked: LinkedPortal) {
  const link = new BrokerLink({ url: `mqtt://127.0.0.1:${linked.controlPort}`, ...CONTROL });
  const dynsec = new Dynsec(link);
  link.start();
  await until(() => link.connected, 10_000, 'the inspector link');
  return { dynsec, link, stop: () => link.stop() };
}

async function linkUp(linked: LinkedPortal) {
  await until(
    () =>
      linked.portal.services.broker!.state().status === 'connected' &&
      linked.portal.services.broker!.overview().lastReconcile !== undefined,
    15_000,
    'the link and its first reconcile',
  );
}

describe('access in dynsec', () => {
  test('first certificate creates the client and role; the last revoked deletes them; others untouched', async () => {
    const linked = await startLinkedPortal();
    const look = await inspector(linked);
    const phones: Phone[] = [];
    try {
      await linkUp(linked);
      const alicePhone = await issueDevice(linked, 'alice', 'phone');
      const client = await look.dynsec.getClient('alice');
      assert.deepEqual(
        client?.roles.map((role) => role.rolename),
        ['owntracks-enroll-alice'],
      );
      assert.equal(client?.textname, 'OwnTracks Enroll: alice');
      const role = await look.dynsec.getRole('owntracks-enroll-alice');
      assert.deepEqual(role?.acls.map((acl) => `${acl.acltype} ${acl.topic}`).sort(), [
        'publishClientReceive owntracks/alice/#',
        'publishClientSend owntracks/alice/#',
        'subscribePattern owntracks/alice/#',
      ]);
      const phone = new Phone(linked, alicePhone);
      phones.push(phone);
      await until(() => phone.connected, 10_000, 'alice’s phone to connect');
      assert.equal(await phone.roundTrip(), true, 'alice reads her own topics');
      const others = await phone.client.subscribeAsync('owntracks/bob/#', { qos: 1 }).then(
        (granted) => granted[0]!.qos,
        () => 128, // MQTT.js rejects a refused subscription
      );
      // The people group lets everyone subscribe to owntracks/# (the apps' wildcard) and denies
      // receiving it: what others see is the sharing groups' business (sharing-link.int.test.ts).
      assert.equal(others, 1, 'subscribing to bob’s topics is accepted; receiving them is not');

      // A second device changes nothing in dynsec, so the first stays connected.
      const aliceTablet = await issueDevice(linked, 'alice', 'tablet');
      assert.equal(phone.closes, 0);
      await issueDevice(linked, 'bob', 'phone');

      // Revoking one of two keeps the client; revoking the last deletes client and role.
      await linked.portal.services.enrollment.revoke(alicePhone.certificateId, 'keyCompromise', { name: 'admin' });
      assert.ok(await look.dynsec.getClient('alice'), 'alice still has her tablet');
      await linked.portal.services.enrollment.revoke(aliceTablet.certificateId, 'cessationOfOperation', {
        name: 'admin',
      });
      assert.equal(await look.dynsec.getClient('alice'), undefined);
      assert.equal(await look.dynsec.getRole('owntracks-enroll-alice'), undefined);
      assert.ok(await look.dynsec.getClient('bob'), 'bob untouched');
      const managed = linked.portal.db.prepare('SELECT kind, name FROM broker_managed ORDER BY kind, name').all();
      assert.deepEqual(managed, [
        { kind: 'client', name: 'bob' },
        { kind: 'role', name: 'owntracks-enroll-bob' },
        { kind: 'role', name: 'owntracks-people' }, // the people group's role, made with the first person
      ]);
      assert.ok(await look.dynsec.getClient(CONTROL.username), 'the control account is never touched');
    } finally {
      for (const phone of phones) await phone.end();
      await look.stop();
      await linked.close();
    }
  });

  test('a username equal to a broker account the portal did not create is refused at issue time and listed', async () => {
    const linked = await startLinkedPortal();
    const look = await inspector(linked);
    try {
      await look.dynsec.createClient('homeassistant', 'Home Assistant', []);
      await linkUp(linked);
      const browser = new Browser(linked.portal);
      await browser.signIn();
      for (const username of ['homeassistant', CONTROL.username]) {
        const refused = await browser.submit('/certificates/new', '/certificates', {
          username,
          email: 'ha@example.org',
          device: 'x',
          days: '30',
        });
        assert.equal(refused.statusCode, 400, username);
        assert.match(refused.body, /is an account on the broker that this portal does not manage/);
      }
      assert.equal(linked.portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0);
      // Listed on the Broker page once a reconcile has seen it.
      await browser.submit('/broker', '/broker/reconcile', {});
      const page = await browser.get('/broker');
      const listed = /data-testid="unmanaged-clients">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
      assert.match(listed, /<code>homeassistant<\/code>/);
      assert.match(listed, /<code>enroll-control<\/code>/);
      // With the link down, the list the last reconcile kept still refuses it.
      await linked.broker.stop();
      await until(() => !linked.portal.services.broker!.state().status.startsWith('connected'), 10_000, 'link down');
      const offline = await linked.portal.services.enrollment.issue(
        {
          username: 'homeassistant',
          email: 'ha@example.org',
          device: null,
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          changeEmail: false,
        },
        { name: 'admin' },
      );
      assert.equal(offline.ok, false);
      assert.equal(!offline.ok && offline.reason, 'invalid');
    } finally {
      await look.stop();
      await linked.close();
    }
  });

  test('a pickup link whose username became a broker account after it was sent mints no certificate', async () => {
    const linked = await startLinkedPortal();
    const look = await inspector(linked);
    try {
      await linkUp(linked);
      const { invitations } = linked.portal.services.enrollment;
      const invited = await invitations.create(
        {
          username: 'recorder',
          email: 'rec@example.org',
          device: null,
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          kind: 'qr',
          changeEmail: false,
        },
        { name: 'admin' },
      );
      assert.ok(invited.ok);
      // Meanwhile the broker gets an account by that name, with full control.
      await look.dynsec.createClient('recorder', 'OwnTracks Recorder', ['admin']);
      const redeemed = await invitations.redeem(invited.token, invited.code, { name: 'anonymous' });
      assert.equal(redeemed.ok, false);
      assert.equal(
        linked.portal.db
          .prepare(
            "SELECT count(*) FROM certificates WHERE user_id = (SELECT id FROM users WHERE username = 'recorder')",
          )
          .pluck()
          .get(),
        0,
        'no certificate that would inherit the account’s rights',
      );
      const row = linked.portal.db
        .prepare("SELECT outcome, detail FROM audit_log WHERE action = 'pickup-redeem' ORDER BY id DESC")
        .get() as { outcome: string; detail: string };
      assert.equal(row.outcome, 'failure');
      assert.match(row.detail, /broker account/);
    } finally {
      await look.stop();
      await linked.close();
    }
  });

  test('a person with certificates whose username is a broker account made by hand: listed as a conflict, that account never touched', async () => {
    const linked = await startLinkedPortal();
    const look = await inspector(linked);
    const phones: Phone[] = [];
    try {
      await linkUp(linked);
      // pat's certificate was issued before the account existed (as before the broker link); then
      // someone made a broker account named pat by hand, and Home Assistant has one of its own.
      const pat = await issueDevice(linked, 'pat', 'phone');
      await look.dynsec.deleteClient('pat');
      linked.portal.db.prepare("DELETE FROM broker_managed WHERE kind = 'client' AND name = 'pat'").run();
      await look.dynsec.createClient('pat', 'made by hand', []);
      await look.dynsec.createRole('ha-role', 'Home Assistant', [
        { acltype: 'subscribePattern', topic: 'owntracks/#', allow: true, priority: 0 },
      ]);
      await look.dynsec.createClient('homeassistant', 'Home Assistant', ['ha-role']);
      const byHand = async () => {
        const [patClient, ha, haRole] = await Promise.all([
          look.dynsec.getClient('pat'),
          look.dynsec.getClient('homeassistant'),
          look.dynsec.getRole('ha-role'),
        ]);
        return { patClient, ha, haRole };
      };
      const before = await byHand();

      const report = await linked.portal.services.broker!.reconcile('test');
      assert.deepEqual(report.conflicts, ['pat']);
      assert.deepEqual(await byHand(), before, 'reconcile changed neither account');
      const browser = new Browser(linked.portal);
      await browser.signIn();
      const listed = /data-testid="unmanaged-clients">([\s\S]*?)<\/ul>/.exec((await browser.get('/broker')).body)?.[1];
      assert.match(listed ?? '', /<code>pat<\/code> <strong>\(a person with certificates has this name/);
      assert.match(listed ?? '', /<code>homeassistant<\/code><\/li>/);
      // A second certificate for pat is refused now.
      const second = await browser.submit('/certificates/new', '/certificates', {
        username: 'pat',
        email: 'pat@example.org',
        device: 'tablet',
        days: '30',
      });
      assert.equal(second.statusCode, 400);

      // Revoking pat's phone never deletes the account: the device's client id is taken over instead.
      const phone = new Phone(linked, pat, 100);
      phones.push(phone);
      await until(() => phone.connected, 10_000, 'pat’s phone');
      const outcome = await linked.portal.services.enrollment.revoke(pat.certificateId, 'keyCompromise', {
        name: 'admin',
      });
      assert.ok(outcome.ok && outcome.kick?.state === 'done');
      assert.match(outcome.kick.notes.join(), /a dynsec client the portal does not manage: client id patphone/);
      await until(() => !phone.connected, 5_000, 'pat’s phone off');
      assert.deepEqual(await byHand(), before, 'the kick changed neither account');
    } finally {
      for (const phone of phones) await phone.end();
      await look.stop();
      await linked.close();
    }
  });

  test('at start: a kick queued before a restart is carried out, and what changed on the broker meanwhile is reconciled', async () => {
    const dataDir = tempDir();
    const linked = await startLinkedPortal({ portal: { dataDir } });
    const look = await inspector(linked);
    let second: TestPortal | undefined;
    try {
      await linkUp(linked);
      const quinn = await issueDevice(linked, 'quinn', 'phone');
      const quinnTablet = await issueDevice(linked, 'quinn', 'tablet');
      await issueDevice(linked, 'rosa', 'phone');
      // The link goes down (the control listener unreachable: the broker restarts), quinn's tablet
      // is revoked meanwhile, and the portal stops before the link comes back.
      await linked.broker.stop();
      await until(() => linked.portal.services.broker!.state().status !== 'connected', 10_000, 'link down');
      await linked.portal.services.enrollment.revoke(quinnTablet.certificateId, 'keyCompromise', { name: 'admin' });
      await linked.portal.close();
      await restartBroker(linked);
      await until(() => look.link.connected, 10_000, 'the inspector back');
      // Behind the portal's back while it is stopped: rosa's client deleted.
      await look.dynsec.deleteClient('rosa');

      second = await startTestPortal({
        dataDir,
        env: {
          BROKER_CONTROL_URL: `mqtt://${CONTROL.username}:${CONTROL.password}@127.0.0.1:${linked.controlPort}`,
          MQTT_PORT: String(linked.tlsPort),
          BROKER_RELOAD_COMMAND: `kill -HUP "$(cat ${linked.brokerOptions.pidFile})"`,
        },
        deps: { brokerTimings: TEST_BROKER_TIMINGS },
      });
      const broker = second.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the first reconcile');
      const report = broker.overview().lastReconcile!;
      assert.equal(report.trigger, 'link connected');
      assert.deepEqual(report.changes, ['created client rosa']);
      assert.deepEqual(broker.overview().pendingKicks, [], 'the kick queued before the restart is done');
      const kick = second.db.prepare("SELECT done_at, outcome FROM broker_kicks WHERE username = 'quinn'").get() as {
        done_at: string | null;
        outcome: string;
      };
      assert.ok(kick.done_at);
      assert.match(kick.outcome, /^disconnected/);
      // Access as the database says: quinn's phone and rosa's back in with their topics.
      assert.ok(await look.dynsec.getClient('rosa'));
      const phone = new Phone(linked, quinn, 100);
      try {
        await until(() => phone.connected, 10_000, 'quinn’s phone');
        assert.equal(await phone.roundTrip(), true);
      } finally {
        await phone.end();
      }
    } finally {
      await look.stop();
      await second?.close();
      await linked.broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('reconcile on demand repairs what changed behind the portal, shows it, and is audited', async () => {
    const linked = await startLinkedPortal();
    const look = await inspector(linked);
    try {
      await linkUp(linked);
      await issueDevice(linked, 'carol', 'phone');
      await issueDevice(linked, 'dave', 'phone');
      // Someone deletes carol's client and empties dave's role on the broker.
      await look.dynsec.deleteClient('carol');
      await look.dynsec.removeRoleAcl('owntracks-enroll-dave', {
        acltype: 'subscribePattern',
        topic: 'owntracks/dave/#',
      });
      const browser = new Browser(linked.portal);
      await browser.signIn();
      const answer = await browser.submit('/broker', '/broker/reconcile', {});
      assert.equal(answer.statusCode, 303);
      const page = await browser.get('/broker');
      assert.match(page.body, /Reconciled: 2 changes\./);
      assert.match(
        page.body,
        /data-testid="reconcile-changes"[\s\S]*created client carol[\s\S]*restored the access of role owntracks-enroll-dave/,
      );
      assert.ok(await look.dynsec.getClient('carol'));
      assert.equal((await look.dynsec.getRole('owntracks-enroll-dave'))?.acls.length, 3);
      const row = linked.portal.db
        .prepare("SELECT actor, detail FROM audit_log WHERE action = 'broker-reconcile' ORDER BY id DESC")
        .get() as { actor: string; detail: string };
      assert.equal(row.actor, 'admin');
      assert.match(row.detail, /^on demand: created client carol; restored the access/);
      // Nothing to do the second time.
      await browser.submit('/broker', '/broker/reconcile', {});
      assert.match((await browser.get('/broker')).body, /nothing changed/);
    } finally {
      await look.stop();
      await linked.close();
    }
  });

  test('acl_file and the plugin together (README): the plugin decides first, the acl_file only what it leaves undecided', async () => {
    const linked = await startLinkedPortal({ acl: true }); // acl_file: pattern readwrite owntracks/%u/#
    const look = await inspector(linked);
    const phones: Phone[] = [];
    try {
      await linkUp(linked);
      const phone = new Phone(linked, await issueDevice(linked, 'zed', 'phone'), 100);
      phones.push(phone);
      const own = { acltype: 'publishClientSend', topic: 'owntracks/zed/#' };
      await until(() => phone.connected, 10_000, 'zed’s phone');
      // A round trip on one connection from start to end (a role change may make Mosquitto drop the role's clients).
      const roundTrip = async (timeoutMs?: number): Promise<boolean> => {
        for (;;) {
          await until(() => phone.connected, 10_000, 'zed’s phone');
          const closes = phone.closes;
          const result = await phone.roundTrip(timeoutMs);
          if (phone.closes === closes && phone.connected) return result;
        }
      };
      // zed's role denies what the acl_file allows: the plugin's answer wins.
      await look.dynsec.removeRoleAcl('owntracks-enroll-zed', own);
      await look.dynsec.addRoleAcl('owntracks-enroll-zed', { ...own, allow: false, priority: 0 });
      assert.equal(await roundTrip(3_000), false, 'denied by the plugin although the acl_file allows it');
      // No ACL of zed's names the publish any more (dynsec's default: deny, which defers): the acl_file decides.
      await look.dynsec.removeRoleAcl('owntracks-enroll-zed', own);
      assert.equal(await roundTrip(), true, 'allowed by the acl_file');
    } finally {
      for (const phone of phones) await phone.end();
      await look.stop();
      await linked.close();
    }
  });

  test('moving an acl_file broker to dynsec: no phone loses access', async () => {
    // Step 1 (README): the broker restarted with the plugin and the control listener, acl_file kept.
    const linked = await startLinkedPortal({ acl: true });
    const phones: Phone[] = [];
    try {
      await linkUp(linked);
      // Phones enrolled before the link, connected on acl_file access: simulated by issuing, then
      // deleting what the portal made, as a portal without the link would have left it.
      const erin = await issueDevice(linked, 'erin', 'phone');
      const look = await inspector(linked);
      await look.dynsec.deleteClient('erin');
      linked.portal.db.prepare("DELETE FROM broker_managed WHERE name = 'erin'").run();
      const phone = new Phone(linked, erin);
      phones.push(phone);
      await until(() => phone.connected, 10_000, 'erin’s phone');
      assert.equal(await phone.roundTrip(), true, 'acl_file gives access, with the plugin loaded');
      // Step 2: the portal reconciles (here on demand; at start or reconnect in practice).
      const report = await linked.portal.services.broker!.reconcile('test');
      assert.deepEqual(report.changes, ['created client erin']);
      // Step 3: acl_file removed from the configuration, broker reloaded (SIGHUP, no restart).
      linked.broker.rewriteConfig({ ...linked.brokerOptions, acl: false });
      linked.broker.reload();
      // Connected phones stay connected and keep their access, now from dynsec.
      for (let i = 0; i < 5; i++) assert.equal(await phone.roundTrip(), true, `round trip ${i} after the move`);
      assert.equal(phone.closes, 0, 'never disconnected');
      // And the acl_file really is gone: a phone whose person has no dynsec client gets nothing.
      await look.dynsec.deleteClient('erin'); // kicks erin
      await until(() => phone.connected, 10_000, 'erin back without a client');
      assert.equal(await phone.roundTrip(3_000), false, 'no acl_file access any more');
      await look.stop();
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('a fleet whose roles exceed one answer (1 MiB, about 2,800 people): reconcile lists them in pages', async () => {
    const linked = await startLinkedPortal();
    try {
      await linkUp(linked);
      // 3,200 roles shaped like a person's (three ACLs each), written into the dynsec file while the
      // broker is down (made one command at a time, each rewriting that file, they take minutes).
      const ROLES = 3_200;
      await linked.broker.stop();
      const config = JSON.parse(readFileSync(linked.dynsecFile, 'utf8')) as { roles?: unknown[] };
      config.roles = [
        ...(config.roles ?? []),
        ...Array.from({ length: ROLES }, (_, i) => {
          const name = `fleet-${String(i).padStart(5, '0')}`;
          return {
            rolename: `owntracks-enroll-${name}`,
            acls: ['publishClientSend', 'publishClientReceive', 'subscribePattern'].map((acltype) => ({
              acltype,
              topic: `owntracks/${name}/#`,
              priority: 0,
              allow: true,
            })),
          };
        }),
      ];
      writeFileSync(linked.dynsecFile, JSON.stringify(config));
      await restartBroker(linked);
      await linkUp(linked);
      const report = await linked.portal.services.broker!.reconcile('test');
      assert.equal(report.error, undefined);
      const look = await inspector(linked);
      try {
        const fleet = (await look.dynsec.listRoles()).filter((role) =>
          role.rolename.startsWith('owntracks-enroll-fleet-'),
        );
        assert.equal(fleet.length, ROLES);
      } finally {
        await look.stop();
      }
      // Not the portal's: none of them touched.
      assert.ok(
        report.changes.every((change) => !change.includes('fleet-')),
        report.changes.join('; '),
      );
    } finally {
      await linked.close();
    }
  });
});
