// One active certificate per person and device (DESIGN.md): an empty Device gets the first free
// default (phone, phone-2, …) shown on the form before issuing, so two unnamed devices no longer
// share the OwnTracks deviceId and knock each other off the broker; a second certificate for a
// device that has one is refused with an offer to replace it; collisions an older version made
// are listed for the admin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { certificatesRepository, type CertificateRow } from '../db/certificates.js';
import { usersRepository } from '../db/users.js';
import { migrationsDir } from '../paths.js';
import { Browser, withPortal, type TestPortal } from '../testing/harness.js';
import { MemoryMailer } from '../testing/mailer.js';
import { defaultDeviceName } from './rules.js';

const ALICE = { username: 'alice', email: 'alice@example.org', days: '30' };

async function signedIn(use: (portal: TestPortal, browser: Browser, mailer: MemoryMailer) => Promise<void>) {
  const mailer = new MemoryMailer();
  await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' }, deps: { mailer } }, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    await use(portal, browser, mailer);
  });
}

const deviceIdOf = (mail: MemoryMailer['messages'][number]) => {
  const otrc = mail.parsed.attachments.find((a) => a.filename?.endsWith('.otrc'))!;
  return JSON.parse(otrc.content.toString('utf8')).deviceId as string;
};

const activeDevices = (portal: TestPortal) =>
  portal.db.prepare("SELECT device FROM certificates WHERE status = 'active' ORDER BY id").pluck().all();

describe('device names', () => {
  test('the default is phone, then phone-2, … the first no active certificate uses', () => {
    assert.equal(defaultDeviceName([]), 'phone');
    assert.equal(defaultDeviceName(['tablet']), 'phone');
    assert.equal(defaultDeviceName(['phone']), 'phone-2');
    assert.equal(defaultDeviceName(['phone', 'phone-2', 'phone-4']), 'phone-3');
  });

  test('two devices issued without a name get phone and phone-2, shown on the form before issuing', async () => {
    await signedIn(async (portal, browser, mailer) => {
      assert.match((await browser.get('/certificates/new')).body, /Left empty, it is “phone”/);
      await browser.issue(ALICE);
      const form = await browser.get('/certificates/new?username=alice');
      assert.match(form.body, /Left empty, it is “phone-2”/);
      assert.match(form.body, /src="\/static\/js\/device-default.js"/);
      const asked = await browser.get('/certificates/new/device?username=alice');
      assert.deepEqual(JSON.parse(asked.body), { device: 'phone-2' });
      assert.deepEqual(JSON.parse((await browser.get('/certificates/new/device?username=bob')).body), {
        device: 'phone',
      });
      await browser.issue(ALICE);
      assert.deepEqual(activeDevices(portal), ['phone', 'phone-2']);
      assert.deepEqual(mailer.messages.map(deviceIdOf), ['phone', 'phone-2']);
    });
  });

  test('a second certificate for a device that has one is refused with an offer to replace it', async () => {
    await signedIn(async (portal, browser, mailer) => {
      const first = await browser.issue({ ...ALICE, device: 'tablet' });
      const again = await browser.submit('/certificates/new', '/certificates', { ...ALICE, device: 'tablet' });
      assert.equal(again.statusCode, 409);
      assert.match(again.body, /alice already has an active certificate for tablet/);
      assert.match(again.body, new RegExp(`href="/certificates/${first.id}#replace"`));
      assert.deepEqual(activeDevices(portal), ['tablet']);
      assert.equal(mailer.messages.length, 1, 'nothing mailed');
      // The same rule at the use case, whatever the entry point.
      const direct = await portal.services.enrollment.issue(
        {
          username: 'alice',
          email: ALICE.email,
          device: 'tablet',
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          changeEmail: false,
        },
        { name: 'admin' },
      );
      assert.equal(direct.ok ? 'ok' : direct.reason, 'device-taken');
      // Replace is the way: it revokes the old one in the same step.
      const replaced = await browser.submit(`/certificates/${first.id}`, `/certificates/${first.id}/replace`, {});
      assert.equal(replaced.statusCode, 303);
      assert.match(String(replaced.headers.location), /\/issued\?ticket=/);
      assert.deepEqual(activeDevices(portal), ['tablet']);
      // Once revoked, the name is free again.
      const activeId = portal.db.prepare("SELECT id FROM certificates WHERE status = 'active'").pluck().get() as number;
      await browser.submit(`/certificates/${activeId}`, `/certificates/${activeId}/revoke`, {
        reason: 'cessationOfOperation',
      });
      await browser.issue({ ...ALICE, device: 'tablet' });
      assert.deepEqual(activeDevices(portal), ['tablet']);
    });
  });

  test('collisions an older version made are listed on the certificate list', async () => {
    await signedIn(async (portal, browser) => {
      await browser.issue({ ...ALICE, device: 'phone' });
      await browser.issue({ username: 'bob', email: 'bob@example.org', days: '30', device: 'tablet' });
      assert.doesNotMatch((await browser.get('/certificates')).body, /id="device-collisions"/);
      // As the previous release stored them: a second unnamed device (its .otrc said "phone" too).
      const users = usersRepository(portal.db);
      const certificates = certificatesRepository(portal.db);
      const row = portal.db.prepare("SELECT * FROM certificates WHERE device = 'phone'").get() as CertificateRow;
      const old = certificates.insert({ ...row, device: null, serial: 'abcdef01' });
      // What migration 006 does on such a folder: list the certificates that collide.
      const migration = readFileSync(path.join(migrationsDir, '006_device_collisions.sql'), 'utf8');
      portal.db.exec(migration.slice(migration.indexOf('INSERT INTO device_collisions')));
      const page = await browser.get('/certificates');
      assert.match(page.body, /id="device-collisions"/);
      assert.match(
        page.body,
        new RegExp(
          `<strong>alice</strong>, device <strong>phone</strong>: <a href="/certificates/\\d+">certificate \\d+</a>, <a href="/certificates/${old}">`,
        ),
      );
      assert.doesNotMatch(page.body, /<strong>bob<\/strong>, device/);
      assert.ok(users.find('alice'));
      // Revoking one ends the collision.
      await browser.submit(`/certificates/${old}`, `/certificates/${old}/revoke`, { reason: 'cessationOfOperation' });
      assert.doesNotMatch((await browser.get('/certificates')).body, /id="device-collisions"/);
    });
  });
});
