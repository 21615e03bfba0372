// The sharing groups' ACL shape against a real Mosquitto 2.0 with the dynamic-security plugin,
// configured with mosquitto_ctrl from the plan in groups.ts. Phones are MQTT.js clients with client
// certificates (the CN is the username), subscribed to owntracks/+/+ as the apps are: a member
// receives another member's location, a non-member does not; removing a member stops delivery to
// a phone that stays connected.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, untilListening } from '../testing/mosquitto.js';
import { Scratch } from '../testing/openssl.js';
import { clientFiles, serverFiles, testCa } from '../testing/pki.js';
import { tempDir } from '../testing/temp-dir.js';
import { ctrlArguments, groupPlan, peopleGroupPlan, personPlan, type DynsecCommand } from './groups.js';

const execFileAsync = promisify(execFile);
const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
const ADMIN = { username: 'enroll-admin', password: 'dynsec admin password' };

describe('sharing groups on a real Mosquitto with dynamic security', () => {
  let broker: ChildProcess;
  let plainPort: number;
  let tlsPort: number;
  let scratch: Scratch;
  let ca: Awaited<ReturnType<typeof testCa>>['ca'];
  const clients: MqttClient[] = [];

  /** Applies commands one by one with mosquitto_ctrl, as an operator would. */
  async function ctrl(commands: DynsecCommand[]) {
    for (const command of commands) {
      const args = ['-h', '127.0.0.1', '-p', String(plainPort), '-u', ADMIN.username, '-P', ADMIN.password];
      const extra = command.command === 'createClient' ? ['-p', `unused-${Math.random()}`] : []; // certificate clients
      const { stdout, stderr } = await execFileAsync(
        'mosquitto_ctrl',
        [...args, 'dynsec', ...ctrlArguments(command), ...extra],
        {
          timeout: 10_000,
        },
      ).catch((error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }));
      const output = `${stdout}${stderr}`;
      if (/error/i.test(output) && !/already exists/i.test(output))
        throw new Error(`mosquitto_ctrl dynsec ${ctrlArguments(command).join(' ')}: ${output}`);
    }
  }

  /** A phone: a client certificate for `username`, subscribed to owntracks/+/+ like the apps. */
  async function phone(username: string) {
    const files = await clientFiles(scratch, ca, username, `${username}-${clients.length}`);
    const client = mqtt.connect(`mqtts://127.0.0.1:${tlsPort}`, {
      clientId: `${username}phone`,
      ca: ca.certPem,
      cert: files.cert.pem,
      key: files.keys.privateKeyPem,
      rejectUnauthorized: true,
      reconnectPeriod: 100, // as the apps do: dynsec disconnects a client whose groups change
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    clients.push(client);
    const got: string[] = [];
    let disconnects = 0;
    const connects = new EventEmitter();
    client.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
    client.on('close', () => disconnects++);
    client.on('connect', () => connects.emit('connect'));
    await client.subscribeAsync('owntracks/+/+', { qos: 1 });
    /**
     * Publishes on its own topic and waits until it hears itself: everything sent before has been
     * dispatched. A disconnect in between (dynsec kicking it) may lose the marker, so it tries again
     * once connected.
     */
    const mark = async (): Promise<void> => {
      for (;;) {
        if (!client.connected) await once(connects, 'connect');
        const marker = `marker-${Math.random()}`;
        let listener: ((topic: string, payload: Buffer) => void) | undefined;
        let closed: (() => void) | undefined;
        const outcome = await new Promise<'heard' | 'closed'>((resolve) => {
          listener = (_topic, payload) => {
            if (String(payload) === marker) resolve('heard');
          };
          closed = () => resolve('closed');
          client.on('message', listener);
          client.once('close', closed);
          client.publish(`owntracks/${username}/phone`, marker, { qos: 1 });
        });
        client.off('message', listener!);
        client.off('close', closed!);
        if (outcome === 'heard') return;
      }
    };
    return {
      client,
      got,
      mark,
      publish: (text: string) => client.publishAsync(`owntracks/${username}/phone`, text, { qos: 1 }),
      /** How often the broker disconnected it so far. */
      disconnects: () => disconnects,
      /** Resolves once the broker has disconnected it after `seen` disconnects and it is connected again. */
      kickedSince: async (seen: number) => {
        while (disconnects <= seen || !client.connected) await once(connects, 'connect');
      },
      /** Messages other than markers. */
      locations: () => got.filter((line) => !line.includes(' marker-')),
    };
  }

  type Phone = Awaited<ReturnType<typeof phone>>;

  /**
   * Applies a membership change and waits until each phone named in `kicked` has been disconnected
   * by dynsec and is connected and subscribed again (Mosquitto 2.0 kicks a client whose groups
   * change, and every client of a group whose roles change). A location sent before that would be
   * lost on a clean session, as a real phone would lose it; the step is the broker's, not the test's.
   */
  async function change(commands: DynsecCommand[], kicked: Phone[]) {
    const seen = kicked.map((who) => who.disconnects());
    await ctrl(commands);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('dynsec did not disconnect the changed clients within 10 s')), 10_000);
    });
    try {
      await Promise.race([Promise.all(kicked.map((who, index) => who.kickedSince(seen[index]!))), timeout]);
    } finally {
      clearTimeout(timer);
    }
    await Promise.all(kicked.map((who) => who.mark()));
  }

  before(async () => {
    ({ ca } = await testCa());
    scratch = new Scratch();
    const dir = tempDir('enroll-dynsec-');
    plainPort = await freePort();
    tlsPort = await freePort();
    const dynsecFile = path.join(dir, 'dynamic-security.json');
    await execFileAsync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, ADMIN.username, ADMIN.password]);
    const server = await serverFiles(scratch, ca);
    const conf = path.join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        'user root',
        'persistence false',
        'log_dest stderr',
        'per_listener_settings false',
        `plugin ${DYNSEC_PLUGIN}`,
        `plugin_opt_config_file ${dynsecFile}`,
        `listener ${plainPort} 127.0.0.1`,
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${scratch.file('ca.crt', ca.certPem)}`,
        `certfile ${server.serverCert}`,
        `keyfile ${server.serverKey}`,
        'require_certificate true',
        'use_identity_as_username true',
        '',
      ].join('\n'),
    );
    broker = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    broker.stderr!.on('data', (chunk: Buffer) => (log += String(chunk)));
    for (const port of [plainPort, tlsPort]) await untilListening(port, broker, () => log);
  });

  after(async () => {
    for (const client of clients) client.end(true);
    if (broker && broker.exitCode === null) {
      const exited = new Promise((resolve) => broker.once('exit', resolve));
      broker.kill('SIGTERM');
      await exited;
    }
  });

  test('members see each other with the apps’ wildcard subscription; others see only themselves; removal stops delivery', async (test) => {
    await ctrl([...peopleGroupPlan(), ...personPlan('alice'), ...personPlan('bob'), ...personPlan('carol')]);
    await ctrl(groupPlan(undefined, { id: 1, members: ['alice', 'bob'] }));
    const alice = await phone('alice');
    const bob = await phone('bob');
    const carol = await phone('carol');

    await alice.publish('alice-1');
    await Promise.all([alice.mark(), bob.mark(), carol.mark()]);
    assert.ok(bob.locations().includes('owntracks/alice/phone alice-1'), 'a member receives a member');
    assert.ok(alice.locations().includes('owntracks/alice/phone alice-1'), 'a person receives themselves');
    assert.deepEqual(carol.locations(), [], 'a non-member receives nothing of the group');

    await carol.publish('carol-1');
    await Promise.all([alice.mark(), bob.mark(), carol.mark()]);
    assert.ok(carol.locations().includes('owntracks/carol/phone carol-1'), 'carol sees herself');
    assert.ok(!alice.locations().some((line) => line.includes('carol-1')), 'the group does not see carol');

    // carol forges alice's topic: refused, nobody receives it.
    await carol.client.publishAsync('owntracks/alice/phone', 'forged', { qos: 1 });
    await Promise.all([alice.mark(), bob.mark(), carol.mark()]);
    for (const who of [alice, bob, carol]) assert.ok(!who.got.some((line) => line.includes('forged')));

    // Remove bob from the group. Mosquitto 2.0's dynsec disconnects a client whose group membership
    // changes (and every client of a group whose role changes); the phone reconnects, as the apps
    // do, and from then on receives nothing from the group.
    const before = { alice: alice.disconnects(), bob: bob.disconnects(), carol: carol.disconnects() };
    await change(groupPlan({ id: 1, members: ['alice', 'bob'] }, { id: 1, members: ['alice'] }), [alice, bob]);
    await carol.mark();
    const kicked = {
      alice: alice.disconnects() - before.alice,
      bob: bob.disconnects() - before.bob,
      carol: carol.disconnects() - before.carol,
    };
    test.diagnostic?.(`disconnects caused by removing bob: ${JSON.stringify(kicked)}`);
    await alice.publish('alice-2');
    await Promise.all([alice.mark(), bob.mark()]);
    assert.ok(alice.locations().includes('owntracks/alice/phone alice-2'));
    assert.ok(!bob.locations().includes('owntracks/alice/phone alice-2'), 'removal stops delivery');
    assert.ok(bob.locations().includes('owntracks/alice/phone alice-1'));
    assert.equal(kicked.carol, 0, 'a client outside the group is left alone');

    // Added again: delivery resumes; a person may be in several groups.
    await change(groupPlan({ id: 1, members: ['alice'] }, { id: 1, members: ['alice', 'bob'] }), [alice, bob]);
    await change(groupPlan(undefined, { id: 2, members: ['bob', 'carol'] }), [bob, carol]);
    await alice.publish('alice-3');
    await carol.publish('carol-2');
    await Promise.all([alice.mark(), bob.mark(), carol.mark()]);
    assert.ok(bob.locations().includes('owntracks/alice/phone alice-3'));
    assert.ok(bob.locations().includes('owntracks/carol/phone carol-2'), 'bob sees carol through the second group');
    assert.ok(!alice.locations().some((line) => line.includes('carol-2')), 'alice and carol share no group');
    assert.ok(!carol.locations().some((line) => line.includes('alice-3')));

    // Deleting a group ends what it shared.
    await change(groupPlan({ id: 2, members: ['bob', 'carol'] }, undefined), [bob, carol]);
    await carol.publish('carol-3');
    await Promise.all([bob.mark(), carol.mark()]);
    assert.ok(!bob.locations().some((line) => line.includes('carol-3')));
  });

  test('a member receives what the apps show of another (locations, events, cards), not their commands, regions or dumps', async () => {
    await ctrl([...personPlan('dave'), ...personPlan('erin')]);
    await ctrl(groupPlan(undefined, { id: 3, members: ['dave', 'erin'] }));
    const dave = await phone('dave');
    const erin = await phone('erin');
    await dave.client.subscribeAsync('owntracks/#', { qos: 1 }); // wider than the apps: the people role allows it
    const shown = ['owntracks/erin/phone', 'owntracks/erin/phone/event', 'owntracks/erin/phone/info'];
    const withheld = [
      'owntracks/erin/phone/cmd',
      'owntracks/erin/phone/waypoint',
      'owntracks/erin/phone/waypoints',
      'owntracks/erin/phone/dump',
      'owntracks/erin/phone/status',
      'owntracks/erin/phone/step',
    ];
    for (const topic of [...shown, ...withheld]) await erin.client.publishAsync(topic, 'erin-sub', { qos: 1 });
    await Promise.all([dave.mark(), erin.mark()]);
    const received = [
      ...new Set(dave.got.filter((line) => line.endsWith(' erin-sub')).map((line) => line.split(' ')[0])),
    ];
    assert.deepEqual(received.sort(), shown.sort());
  });
});
