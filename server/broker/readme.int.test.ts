// The README's "Bare-metal Mosquitto with dynsec", as an admin would follow it: the
// `mosquitto_ctrl dynsec init` command, the mosquitto.conf block and the BROKER_CONTROL_URL it names,
// changing only the paths and ports this test must choose. The portal's link logs in, a person's
// first certificate gets its access from the plugin alone (the block has no acl_file), and a
// revoked phone is disconnected.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../paths.js';
import { issueDevice, Phone, TEST_BROKER_TIMINGS, until, type LinkedPortal } from '../testing/broker-link.js';
import { startTestPortal } from '../testing/harness.js';
import { MemoryMailer } from '../testing/mailer.js';
import { freePort, Mosquitto } from '../testing/mosquitto.js';
import { Scratch } from '../testing/openssl.js';
import { serverFiles } from '../testing/pki.js';

const run = promisify(execFile);

/** The README's section on the broker link, from its heading to the next one. */
function section(): string {
  const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('**Bare-metal Mosquitto with dynsec.**');
  assert.ok(start > 0, 'the README has the bare-metal section');
  return readme.slice(start, readme.indexOf('**Moving an `acl_file` broker to dynsec**', start));
}

test('the README’s bare-metal dynsec configuration runs: the link logs in, access comes from the plugin, a revoked phone is off', async () => {
  const text = section();
  const blocks = [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((match) => ({ lang: match[1], body: match[2]! }));
  const init = blocks.find((block) => block.lang === 'sh')!.body.trim();
  const conf = blocks.find((block) => block.lang === '')!.body;
  const url = /`BROKER_CONTROL_URL=(mqtt:\/\/[^`]+)`/.exec(text)![1]!;
  assert.doesNotMatch(conf, /^acl_file/m, 'no acl_file');

  const scratch = new Scratch();
  const tlsPort = await freePort();
  const controlPort = await freePort();
  const dynsecFile = scratch.path('dynsec.json');
  const pidFile = scratch.path('mosquitto.pid');
  // `sudo -u mosquitto mosquitto_ctrl dynsec init <file> <user> '<password>'`, run as this user.
  const [, user, password] = /dynsec init \S+ (\S+) '([^']+)'$/.exec(init)!;
  assert.match(init, /^sudo -u mosquitto mosquitto_ctrl dynsec init \/var\/lib\/mosquitto\/dynsec\.json /);
  await run('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, user!, password!]);

  const mailer = new MemoryMailer();
  const controlUrl = url.replace('PASSWORD', encodeURIComponent(password!)).replace(':1884', `:${controlPort}`);
  assert.ok(controlUrl.startsWith(`mqtt://${user}:`));
  const portal = await startTestPortal({
    env: {
      BROKER_CONTROL_URL: controlUrl,
      MQTT_PORT: String(tlsPort),
      BROKER_RELOAD_COMMAND: `kill -HUP "$(cat ${pidFile})"`,
    },
    deps: { mailer, brokerTimings: TEST_BROKER_TIMINGS },
  });
  const server = await serverFiles(scratch, portal.ca);
  const files = {
    caFile: path.join(portal.dataDir, 'ca.crt'),
    crlFile: path.join(portal.dataDir, 'crl.pem'),
    serverCert: server.serverCert,
    serverKey: server.serverKey,
  };
  // Only the paths and ports change; the broker keeps root as every test broker does.
  const written = conf
    .replace('/var/lib/mosquitto/dynsec.json', dynsecFile)
    .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`)
    .replace(/^listener 1884 127\.0\.0\.1$/m, `listener ${controlPort} 127.0.0.1`)
    .replace('/path/to/data/ca.crt', files.caFile)
    .replace('/path/to/data/crl.pem', files.crlFile)
    .replace('/etc/mosquitto/certs/server.crt', files.serverCert)
    .replace('/etc/mosquitto/certs/server.key', files.serverKey);
  assert.doesNotMatch(written, /\/path\/to|\/etc\/mosquitto|\/var\/lib|8883|1884/, written);
  const confFile = scratch.path('mosquitto.conf');
  writeFileSync(confFile, `user root\npid_file ${pidFile}\nlog_dest stderr\n${written}`);
  const broker = await Mosquitto.run(confFile, tlsPort, files);
  const phones: Phone[] = [];
  try {
    const link = portal.services.broker!;
    await until(() => link.overview().lastReconcile !== undefined, 15_000, 'the link and its first reconcile');
    const linked = { portal, mailer, tlsPort } as unknown as LinkedPortal;
    const phone = new Phone(linked, await issueDevice(linked, 'una', 'phone'), 100);
    const other = new Phone(linked, await issueDevice(linked, 'vic', 'phone'), 100);
    phones.push(phone, other);
    await until(() => phone.connected && other.connected, 10_000, 'the phones');
    assert.equal(await phone.roundTrip(), true, 'una’s own topics, from her dynsec role');
    const outcome = await portal.services.enrollment.revoke(phone.device.certificateId, 'keyCompromise', {
      name: 'admin',
    });
    assert.ok(
      outcome.ok && outcome.kick?.state === 'done' && outcome.kick.verified,
      String(outcome.ok && outcome.kick?.state),
    );
    await until(() => !phone.connected, 5_000, 'the revoked phone off');
    assert.equal(other.closes, 0);
  } finally {
    for (const phone of phones) await phone.end();
    await broker.stop();
    await portal.close();
  }
});
