// Who is connected, end to end: a real Mosquitto, phones that are MQTT.js clients publishing as the
// OwnTracks apps do (retained locations, a last will on their own topic), and the portal hearing
// owntracks/+/+ through an MQTT.js connection of its own. The pages say "never connected",
// "connected" or "last seen …" right after the publishes, after a last will and after a restart;
// hostile payloads and topics change nothing but known devices' times.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { Browser, startTestPortal, type TestPortal } from '../testing/harness.js';
import { freePort, untilListening } from '../testing/mosquitto.js';
import { tempDir } from '../testing/temp-dir.js';
import { mqttMessageSource } from './presence.js';

/** A Mosquitto with one plain listener, where the test's phones and the portal's account connect. */
async function startBroker(): Promise<{ port: number; process: ChildProcess; stop(): Promise<void> }> {
  const dir = tempDir('enroll-presence-');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'user root',
      'persistence false',
      'log_dest stderr',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += String(chunk)));
  await untilListening(port, child, () => log);
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function connect(port: number, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Resolves when `client` receives a message on `topic` whose payload satisfies `test`. */
function received(client: MqttClient, topic: string, test: (payload: Buffer) => boolean = () => true) {
  return new Promise<void>((resolve) => {
    const listener = (got: string, payload: Buffer) => {
      if (got === topic && test(payload)) {
        client.off('message', listener);
        resolve();
      }
    };
    client.on('message', listener);
  });
}

const location = () =>
  JSON.stringify({ _type: 'location', lat: 52.37, lon: 4.89, tst: Math.floor(Date.now() / 1000), tid: 'al' });

describe('presence against a real Mosquitto', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  const dataDir = tempDir();
  const ids: Record<string, number> = {};
  const clients: MqttClient[] = [];

  /** A portal whose recorder listens through its own MQTT.js connection; resolves once it hears. */
  async function portalWithRecorder(): Promise<{ portal: TestPortal; account: MqttClient; browser: Browser }> {
    const account = await connect(broker.port, { clientId: `enroll-portal-${clients.length}` });
    clients.push(account);
    const portal = await startTestPortal({ dataDir, deps: { messageSource: mqttMessageSource(account) } });
    // The subscription is live once a message on a topic nobody holds a certificate for comes back.
    const probe = await connect(broker.port);
    clients.push(probe);
    for (;;) {
      const heard = received(account, 'owntracks/probe/probe');
      await probe.publishAsync('owntracks/probe/probe', 'probe', { qos: 1 });
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 200));
      if (await Promise.race([heard.then(() => true), timeout])) break;
    }
    probe.end();
    const browser = new Browser(portal);
    await browser.signIn();
    return { portal, account, browser };
  }

  const presenceOn = async (browser: Browser, who: string) => {
    const page = await browser.get(`/certificates/${ids[who]}`);
    assert.equal(page.statusCode, 200);
    return /data-testid="presence">(.*?)<\/dd>/s
      .exec(page.body)![1]!
      .replace(/<[^>]+>/g, '')
      .trim();
  };
  const neverConnectedList = async (browser: Browser) => {
    const page = await browser.get('/certificates?never=1');
    return [...page.body.matchAll(/<td><a href="\/certificates\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]).sort();
  };
  const snapshot = (portal: TestPortal) =>
    Object.fromEntries(
      (
        portal.db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sessions')")
          .pluck()
          .all() as string[]
      ).map((table) => [table, portal.db.prepare(`SELECT * FROM ${table}`).all()]),
    );

  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    for (const client of clients) client.end(true);
    await broker.stop();
  });

  test('never connected, connected, last will, hostile payloads, restart', async () => {
    const first = await portalWithRecorder();
    const account = first.account;
    let { portal, browser } = first;
    for (const [username, device] of [
      ['alice', 'pixel'],
      ['bob', 'phone'],
      ['carol', ''],
    ] as const) {
      const { id } = await browser.issue({ username, email: `${username}@example.org`, device, days: '30' });
      ids[username] = id;
    }
    assert.match(await presenceOn(browser, 'alice'), /^never connected/);
    assert.deepEqual(await neverConnectedList(browser), ['alice', 'bob', 'carol']);

    // Alice's phone connects with its last will on its own topic and publishes a retained location.
    const alicePhone = await connect(broker.port, {
      clientId: 'alicepixel',
      will: {
        topic: 'owntracks/alice/pixel',
        payload: Buffer.from('{"_type":"lwt","tst":1764244000}'),
        qos: 1,
        retain: false,
      },
    });
    clients.push(alicePhone);
    let heard = received(account, 'owntracks/alice/pixel');
    await alicePhone.publishAsync('owntracks/alice/pixel', location(), { qos: 1, retain: true });
    await heard;
    assert.match(await presenceOn(browser, 'alice'), /^connected/, 'connected right after the publish');
    assert.match(await presenceOn(browser, 'bob'), /^never connected/);
    // The person page says it per device too.
    const person = await browser.get('/people/alice');
    assert.match(
      /data-testid="presence">(.*?)<\/td>/s
        .exec(person.body)![1]!
        .replace(/<[^>]+>/g, '')
        .trim(),
      /^connected/i,
    );
    assert.match((await browser.get('/people/bob')).body, /data-testid="presence">\s*<span[^>]*>never connected/i);

    // Carol's form left Device empty: her certificate got the default `phone`, which her .otrc sets as deviceId.
    const carolPhone = await connect(broker.port, { clientId: 'carolphone' });
    clients.push(carolPhone);
    heard = received(account, 'owntracks/carol/phone');
    await carolPhone.publishAsync('owntracks/carol/phone', location(), { qos: 1 });
    await heard;
    assert.match(await presenceOn(browser, 'carol'), /^connected/);

    // The phone drops off the network: the broker publishes its last will.
    heard = received(account, 'owntracks/alice/pixel', (payload) => payload.includes('"lwt"'));
    alicePhone.stream.destroy();
    await heard;
    assert.match(await presenceOn(browser, 'alice'), /^last seen just now/, 'a last will ends "connected"');

    // Hostile traffic: unknown users and devices, and payloads that are huge, binary or broken.
    const before = snapshot(portal);
    const mallory = await connect(broker.port, { clientId: 'mallory' });
    clients.push(mallory);
    const hostile: Array<[string, Buffer | string]> = [
      ['owntracks/mallory/phone', location()],
      ['owntracks/alice/invented', location()],
      ['owntracks/bob/phone2', '{"_type":"lwt"}'],
      ['owntracks/carol', location()],
      ['owntracks/x/y', Buffer.alloc(1024 * 1024, 0x41)],
      ['owntracks/alice/evil', Buffer.from([0x00, 0xff, 0x7b, 0x22])],
    ];
    for (let i = 0; i < 200; i++) hostile.push([`owntracks/invented${i}/device${i}`, '{"_type":"location"']);
    for (const [topic, payload] of hostile) await mallory.publishAsync(topic, payload, { qos: 1 });
    // The same payloads on bob's real topic: "a message", not a last will.
    for (const payload of [Buffer.alloc(1024 * 1024, 0x7b), Buffer.from([0xff, 0xfe]), '{"_type":"lwt"', 'null'])
      await mallory.publishAsync('owntracks/bob/phone', payload, { qos: 1 });
    heard = received(account, 'owntracks/mallory/done');
    await mallory.publishAsync('owntracks/mallory/done', 'done', { qos: 1 }); // in order after the rest
    await heard;
    const afterHostile = snapshot(portal);
    for (const table of Object.keys(before))
      if (table !== 'device_presence' && table !== 'audit_log')
        assert.deepEqual(afterHostile[table], before[table], `${table} unchanged`);
    assert.deepEqual(afterHostile.audit_log!.length, before.audit_log!.length, 'no audit rows');
    assert.match(await presenceOn(browser, 'bob'), /^connected/, 'bob’s topic counts, whatever it carried');

    // Restart: what was held in memory is written on stop. Alice's retained location, replayed to the
    // new subscription before the probe came back, is old news: she stays "last seen", not connected.
    await portal.close();
    account.end(true);
    ({ portal, browser } = await portalWithRecorder());
    const rows = portal.db.prepare('SELECT * FROM device_presence').all() as Array<Record<string, string | null>>;
    assert.equal(rows.length, 3, 'one row per known device (alice, bob, carol), nothing for the rest');
    assert.ok(
      rows.every((row) => row.last_message_at),
      'every message was written on stop',
    );
    assert.match(await presenceOn(browser, 'alice'), /^last seen/);
    assert.match(await presenceOn(browser, 'bob'), /^connected/);
    assert.deepEqual(await neverConnectedList(browser), [], 'everyone has connected by now');

    portal.clock.advance(3 * 3600_000);
    await browser.signIn(); // the admin's session idled out meanwhile
    assert.match(await presenceOn(browser, 'alice'), /^last seen 3 hours ago/);
    assert.match(await presenceOn(browser, 'bob'), /^last seen 3 hours ago/, 'quiet for 3 hours: no longer connected');

    // A certificate issued now: never connected, whatever its person's other devices did.
    const { id } = await browser.issue({ username: 'dave', email: 'dave@example.org', device: 'tab', days: '30' });
    ids.dave = id;
    assert.match(await presenceOn(browser, 'dave'), /^never connected/);
    assert.deepEqual(await neverConnectedList(browser), ['dave']);
    await portal.close();
  });
});
