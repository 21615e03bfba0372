// Revocation that takes effect now, against real Mosquitto 2.0.11 with the dynsec plugin and the
// portal's CRL: the revoked phone (MQTT.js reconnecting every 100 ms) is off at once and refused
// on every reconnect for 30 s, the person's other device is back within 10 s, a third person never
// drops; and the broker going away (issues and revokes meanwhile) and coming back is survived and
// reconciled without restarting the portal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, csrfTokenOf } from '../testing/harness.js';
import {
  CONTROL,
  issueDevice,
  Phone,
  restartBroker,
  SHORT_PROBE_DEADLINE,
  startLinkedPortal,
  until,
} from '../testing/broker-link.js';
import { freePort } from '../testing/mosquitto.js';
import { Dynsec } from './dynsec.js';
import { BrokerLink } from './link.js';

// Each test has a portal, a broker and ports of its own, so they run side by side: the first one's 30 s
// of refused reconnects is spent waiting, and the others fit into it.
describe('revocation with the broker link', { concurrency: true }, () => {
  test('the revoked phone is disconnected and stays off; the other device comes back; others never drop', async (t) => {
    const linked = await startLinkedPortal();
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const revoked = new Phone(linked, await issueDevice(linked, 'alice', 'phone'), 100);
      const tablet = new Phone(linked, await issueDevice(linked, 'alice', 'tablet'), 100);
      const other = new Phone(linked, await issueDevice(linked, 'bob', 'phone'), 100);
      phones.push(revoked, tablet, other);
      await until(() => revoked.connected && tablet.connected && other.connected, 10_000, 'three phones');
      assert.equal(await other.roundTrip(), true);

      const browser = new Browser(linked.portal);
      await browser.signIn();
      const detail = await browser.get(`/certificates/${revoked.device.certificateId}`);
      // With the link, the confirmation page says the phone is disconnected, not that it stays on.
      const confirm = await browser.get(`/certificates/${revoked.device.certificateId}/revoke?reason=keyCompromise`);
      assert.match(confirm.body, /The portal then disconnects this phone from the broker/);
      assert.doesNotMatch(confirm.body, /stay connected/);
      const started = Date.now();
      const answer = await browser.post(`/certificates/${revoked.device.certificateId}/revoke`, {
        _csrf: csrfTokenOf(detail.body),
        reason: 'keyCompromise',
      });
      assert.equal(answer.statusCode, 303);
      // How fast is the bench's to measure (`bench`, "revoke to disconnected", ≤ 5 s). Here the
      // tests of this file run side by side: the bound only tells a kick from none (which would last).
      await until(() => !revoked.connected, 15_000, 'the revoked phone to be disconnected');
      // From the admin's click (the revoke page's form posted) to Mosquitto closing the connection.
      const offAfter = revoked.lastCloseAt - started;
      t.diagnostic(`revoke to disconnected: ${offAfter} ms`);
      const page = await browser.get(`/certificates/${revoked.device.certificateId}`);
      assert.match(page.body, /The revoked device was disconnected from the broker/);

      // The other device comes back (its client id differs; the person's client exists again).
      await until(() => tablet.connected && tablet.lastConnectAt > started, 10_000, 'the tablet to reconnect');
      assert.equal(await tablet.roundTrip(), true, 'the tablet has its access back');

      // Refused on every reconnect for the next 30 s, while it keeps trying every 100 ms.
      const connectsBefore = revoked.connects;
      const errorsBefore = revoked.errors.length;
      const watchUntil = Date.now() + 30_000;
      while (Date.now() < watchUntil) {
        assert.equal(revoked.connected, false, 'the revoked phone got back in');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(revoked.connects, connectsBefore, 'no connection accepted');
      const refusals = revoked.errors.slice(errorsBefore);
      assert.ok(refusals.length >= 20, `it kept trying (${refusals.length} refusals)`);
      assert.ok(
        refusals.every((code) => /CERTIFICATE_REVOKED/.test(code)),
        [...new Set(refusals)].join(', '),
      );

      assert.equal(other.closes, 0, 'bob never dropped');
      assert.equal(await other.roundTrip(), true);
      const kick = linked.portal.db.prepare("SELECT outcome FROM broker_kicks WHERE username = 'alice'").get() as {
        outcome: string;
      };
      assert.match(kick.outcome, /^disconnected/);
      assert.ok(offAfter > 0 && offAfter < 15_000, `off after ${offAfter} ms`);
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('revoke all and deleting a person disconnect their phones now, as one revocation does (a stolen bag)', async () => {
    const linked = await startLinkedPortal();
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const alicePhone = new Phone(linked, await issueDevice(linked, 'alice', 'phone'), 100);
      const aliceTablet = new Phone(linked, await issueDevice(linked, 'alice', 'tablet'), 100);
      const bob = new Phone(linked, await issueDevice(linked, 'bob', 'phone'), 100);
      const carol = new Phone(linked, await issueDevice(linked, 'carol', 'phone'), 100);
      phones.push(alicePhone, aliceTablet, bob, carol);
      await until(() => phones.every((phone) => phone.connected), 10_000, 'four phones');
      const { people } = linked.portal.services.enrollment;

      const all = await people.revokeAll('alice', 'keyCompromise', { name: 'admin' });
      assert.ok(all.ok && all.kick?.state === 'done', JSON.stringify(all.ok && all.kick));
      await until(() => !alicePhone.connected && !aliceTablet.connected, 10_000, "alice's phones to be off");
      const deleted = await people.remove('bob', { name: 'admin' });
      assert.ok(deleted.ok && deleted.kick?.state === 'done', JSON.stringify(deleted.ok && deleted.kick));
      await until(() => !bob.connected, 10_000, "bob's phone to be off");

      // They stay off: refused as revoked on every reconnect.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const phone of [alicePhone, aliceTablet, bob]) assert.equal(phone.connected, false);
      assert.equal(carol.closes, 0, 'carol never dropped');
      assert.equal(await carol.roundTrip(), true);
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('the other device, back within milliseconds of the kick, has its access: its subscription made at connect is granted', async () => {
    // A device that reconnects at once (1 ms) must not come back between the deletion of the
    // person's client and its recreation: it would be connected without any access, and its
    // subscription, made once at connect as the apps do, refused until its next reconnect.
    const linked = await startLinkedPortal();
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const tablet = new Phone(linked, await issueDevice(linked, 'kim', 'tablet'), 1);
      phones.push(tablet);
      await until(() => tablet.connected, 10_000, 'the tablet');
      const received: string[] = [];
      tablet.client.on('message', (_topic, payload) => received.push(String(payload)));
      // Made once; MQTT.js sends it again on each reconnect, as the apps subscribe on connect.
      await tablet.client.subscribeAsync('owntracks/kim/tablet', { qos: 1 });
      for (let i = 0; i < 3; i++) {
        const device = await issueDevice(linked, 'kim', `phone${i}`);
        const closes = tablet.closes;
        const outcome = await linked.portal.services.enrollment.revoke(device.certificateId, 'keyCompromise', {
          name: 'admin',
        });
        assert.ok(outcome.ok && outcome.kick?.state === 'done', JSON.stringify(outcome.ok && outcome.kick));
        await until(() => tablet.closes > closes && tablet.connected, 10_000, 'the tablet kicked and back');
        // A message on its own topic reaches it through the subscription made at (re)connect;
        // a second one confirms the first was not merely late.
        const text = `after-kick-${i}`;
        assert.ok(await tablet.publish('owntracks/kim/tablet', text));
        assert.ok(await tablet.publish('owntracks/kim/tablet', `${text}-again`));
        await until(
          () => received.includes(`${text}-again`) || tablet.closes > closes + 1,
          10_000,
          'the message',
        ).catch(() => undefined);
        assert.ok(received.includes(text), `kick ${i}: the subscription made at reconnect was refused`);
      }
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('the broker away and back: issues and revokes meanwhile are carried out and reconciled without a restart', async () => {
    const linked = await startLinkedPortal();
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const carolPhone = await issueDevice(linked, 'carol', 'phone');
      const carolTablet = await issueDevice(linked, 'carol', 'tablet');
      const dave = await issueDevice(linked, 'dave', 'phone');

      await linked.broker.stop();
      await until(() => broker.state().status !== 'connected', 10_000, 'the link to go down');
      const browser = new Browser(linked.portal);
      await browser.signIn();
      // Meanwhile: one of carol's devices revoked, dave's only one, and erin enrolled.
      await browser.submit(
        `/certificates/${carolPhone.certificateId}`,
        `/certificates/${carolPhone.certificateId}/revoke`,
        {
          reason: 'keyCompromise',
        },
      );
      const told = await browser.get(`/certificates/${carolPhone.certificateId}`);
      assert.match(told.body, /The broker link is down: the revoked device will be disconnected/);
      await linked.portal.services.enrollment.revoke(dave.certificateId, 'affiliationChanged', { name: 'admin' });
      const erin = await issueDevice(linked, 'erin', 'phone');
      const page = await browser.get('/broker');
      assert.match(page.body, /data-testid="pending-kicks">Waiting to disconnect revoked devices of: carol, dave/);
      assert.equal(
        linked.portal.db.prepare('SELECT count(*) FROM broker_kicks WHERE done_at IS NULL').pluck().get(),
        2,
        'kicks persisted',
      );

      // The reconcile before the restart (at start, it made the people group) is not the one awaited.
      const before = broker.overview().lastReconcile;
      await restartBroker(linked);
      await until(
        () =>
          broker.state().status === 'connected' &&
          broker.overview().pendingKicks.length === 0 &&
          broker.overview().lastReconcile !== before &&
          broker.overview().lastReconcile?.trigger === 'link connected' &&
          broker.overview().lastReconcile!.at.getTime() > Date.now() - 60_000 &&
          broker.overview().lastReconcile!.changes.length > 0,
        20_000,
        'the kicks and the reconcile after the reconnect',
      );
      const changes = broker.overview().lastReconcile!.changes;
      assert.ok(changes.includes('created client erin'), changes.join('; '));
      // dave's client went with his kick (no certificate left: not made again, his role deleted).
      assert.deepEqual(
        linked.portal.db.prepare("SELECT name FROM broker_managed WHERE name LIKE '%dave'").pluck().all(),
        [],
      );

      // Everyone is where the database says.
      const revokedPhone = new Phone(linked, carolPhone, 100);
      const tablet = new Phone(linked, carolTablet, 100);
      const erinPhone = new Phone(linked, erin, 100);
      phones.push(revokedPhone, tablet, erinPhone);
      await until(() => tablet.connected && erinPhone.connected, 10_000, 'carol’s tablet and erin');
      assert.equal(await tablet.roundTrip(), true);
      assert.equal(await erinPhone.roundTrip(), true);
      await until(() => revokedPhone.errors.length >= 3, 10_000, 'refusals of the revoked phone');
      assert.equal(revokedPhone.connects, 0);
      const done = linked.portal.db.prepare('SELECT username, outcome FROM broker_kicks ORDER BY id').all() as Array<{
        username: string;
        outcome: string;
      }>;
      assert.equal(done.length, 2);
      assert.ok(done.every((row) => row.outcome !== null));
      const health = await linked.portal.app.inject({ url: '/healthz' });
      assert.equal(health.json().checks.broker, 'ok');
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('the link down while the broker stays up: the connected revoked phone stays on, the admin is told, and it is kicked once the link is back', async () => {
    const linked = await startLinkedPortal();
    const phones: Phone[] = [];
    const admin = new BrokerLink({ url: `mqtt://127.0.0.1:${linked.controlPort}`, ...CONTROL });
    let other: BrokerLink | undefined;
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      // A second admin account of the test's own: it takes the portal's control account away and
      // gives it back, while the broker (and every phone's connection) stays up.
      admin.start();
      await until(() => admin.connected, 10_000, 'the test’s control link');
      await new Dynsec(admin).command('createClient', {
        username: 'test-admin',
        password: 'test-admin-password',
        roles: [{ rolename: 'admin' }],
      });
      await admin.stop();
      other = new BrokerLink({
        url: `mqtt://127.0.0.1:${linked.controlPort}`,
        username: 'test-admin',
        password: 'test-admin-password',
      });
      const dynsec = new Dynsec(other);
      other.start();
      await until(() => other!.connected, 10_000, 'the test admin');

      const revoked = new Phone(linked, await issueDevice(linked, 'luke', 'phone'), 100);
      const tablet = new Phone(linked, await issueDevice(linked, 'luke', 'tablet'), 100);
      phones.push(revoked, tablet);
      await until(() => revoked.connected && tablet.connected, 10_000, 'the phones');

      await dynsec.command('disableClient', { username: CONTROL.username }); // the link is dropped and refused
      await until(() => broker.state().status !== 'connected', 10_000, 'the link to go down');
      const outcome = await linked.portal.services.enrollment.revoke(revoked.device.certificateId, 'keyCompromise', {
        name: 'admin',
      });
      assert.ok(outcome.ok);
      assert.deepEqual(outcome.kick, { state: 'queued', usernames: ['luke'] });
      const browser = new Browser(linked.portal);
      await browser.signIn();
      const page = await browser.get('/broker');
      assert.match(page.body, /data-testid="pending-kicks">Waiting to disconnect revoked devices of: luke/);
      assert.equal(revoked.closes, 0, 'still connected: nothing could kick it');

      await dynsec.command('enableClient', { username: CONTROL.username });
      await until(() => !revoked.connected, 15_000, 'the queued kick after the link came back');
      await until(() => broker.overview().pendingKicks.length === 0, 10_000, 'the kick recorded as done');
      const connects = revoked.connects;
      await until(
        () => revoked.errors.filter((code) => /CERTIFICATE_REVOKED/.test(code)).length >= 3,
        10_000,
        'refusals as revoked',
      );
      assert.equal(revoked.connects, connects, 'refused since');
      await until(() => tablet.connected && tablet.closes > 0, 10_000, 'the tablet back');
      assert.equal(await tablet.roundTrip(), true, 'the tablet has its access');
    } finally {
      for (const phone of phones) await phone.end();
      await admin.stop();
      await other?.stop();
      await linked.close();
    }
  });

  test('a probe that cannot reach the phones’ listener: the kick goes ahead after its deadline and the admin is told the CRL is unverified', async () => {
    const closedPort = await freePort();
    const linked = await startLinkedPortal({
      portal: { env: { BROKER_PROBE_URL: `mqtts://127.0.0.1:${closedPort}` }, deps: SHORT_PROBE_DEADLINE },
    });
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const phone = new Phone(linked, await issueDevice(linked, 'mia', 'phone'), 100);
      phones.push(phone);
      await until(() => phone.connected, 10_000, 'the phone');
      const browser = new Browser(linked.portal);
      await browser.signIn();
      await browser.submit(
        `/certificates/${phone.device.certificateId}`,
        `/certificates/${phone.device.certificateId}/revoke`,
        { reason: 'keyCompromise' },
      );
      const page = await browser.get(`/certificates/${phone.device.certificateId}`);
      assert.match(page.body, /could not check that the broker uses the new CRL \(ECONNREFUSED\)/);
      const kick = linked.portal.db.prepare("SELECT outcome FROM broker_kicks WHERE username = 'mia'").get() as {
        outcome: string;
      };
      assert.match(kick.outcome, /^disconnected.*\(CRL reload not verified: ECONNREFUSED\)$/);
      await until(() => !phone.connected, 10_000, 'the phone off');
      await until(
        () => phone.errors.filter((code) => /CERTIFICATE_REVOKED/.test(code)).length >= 3,
        10_000,
        'refusals as revoked (the reload did happen)',
      );
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('no kick before the broker is seen to read the new CRL: a reload that does nothing leaves the device on, then the retry kicks', async () => {
    // The reload command "succeeds" without signalling the broker: its exit status proves nothing.
    const linked = await startLinkedPortal({
      portal: { env: { BROKER_RELOAD_COMMAND: 'true' }, deps: SHORT_PROBE_DEADLINE },
    });
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const phone = new Phone(linked, await issueDevice(linked, 'frank', 'phone'), 100);
      phones.push(phone);
      await until(() => phone.connected, 10_000, 'the phone');
      const outcome = await linked.portal.services.enrollment.revoke(phone.device.certificateId, 'keyCompromise', {
        name: 'admin',
      });
      assert.equal(outcome.ok && outcome.kick?.state, 'crl-not-in-force');
      assert.equal(phone.closes, 0, 'not kicked: it would have come straight back');
      assert.equal(broker.overview().pendingKicks.length, 1);
      // The broker reloads at last (an admin, or the next reload): the retry sees the probe refused and kicks.
      linked.broker.reload();
      await until(() => broker.overview().pendingKicks.length === 0, 15_000, 'the retried kick');
      await until(() => !phone.connected, 10_000, 'the phone to be off');
      const connects = phone.connects;
      await until(
        () => phone.errors.filter((code) => /CERTIFICATE_REVOKED/.test(code)).length >= 3,
        10_000,
        'three refusals as revoked',
      );
      assert.equal(phone.connects, connects, 'refused since');
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });

  test('a person without a client of the portal’s (still on acl_file): the revoked device is taken over by its client id', async () => {
    const linked = await startLinkedPortal({ acl: true });
    const phones: Phone[] = [];
    try {
      const broker = linked.portal.services.broker!;
      await until(() => broker.overview().lastReconcile !== undefined, 15_000, 'the link');
      const device = await issueDevice(linked, 'ivan', 'phone');
      // As before the move to dynsec: no dynsec client, access from the acl_file.
      const inspector = new BrokerLink({ url: `mqtt://127.0.0.1:${linked.controlPort}`, ...CONTROL });
      const dynsec = new Dynsec(inspector);
      inspector.start();
      await until(() => inspector.connected, 10_000, 'the inspector');
      await dynsec.deleteClient('ivan');
      await inspector.stop();
      linked.portal.db.prepare("DELETE FROM broker_managed WHERE name LIKE '%ivan'").run();
      const phone = new Phone(linked, device, 100);
      phones.push(phone);
      await until(() => phone.connected, 10_000, 'the phone');
      assert.equal(await phone.roundTrip(), true, 'acl_file access');

      const outcome = await linked.portal.services.enrollment.revoke(device.certificateId, 'keyCompromise', {
        name: 'admin',
      });
      assert.ok(outcome.ok && outcome.kick?.state === 'done');
      assert.match(outcome.kick.notes.join(), /ivan \(no dynsec client: client id ivanphone taken over\)/);
      await until(() => !phone.connected, 10_000, 'the phone to be off');
      const connects = phone.connects;
      await until(
        () => phone.errors.filter((code) => /CERTIFICATE_REVOKED/.test(code)).length >= 3,
        10_000,
        'refusals as revoked',
      );
      assert.equal(phone.connects, connects, 'not back in');
    } finally {
      for (const phone of phones) await phone.end();
      await linked.close();
    }
  });
});
