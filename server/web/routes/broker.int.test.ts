// The Broker page's mosquitto.conf against a real Mosquitto: the text a Copy button copies (the
// element's text content) is written as the broker's configuration, changing only what this test
// must choose (the server certificate's and the ACL's paths), and a certificate the portal issued
// connects and publishes through it. The broker runs as Mosquitto does in production: started as
// root, it drops to the unprivileged `mosquitto` user before it reads its files, so the portal's
// data folder must let it read ca.crt and crl.pem (DESIGN.md; the README's chgrp) and nothing else.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { Browser, startTestPortal, type TestPortal } from '../../testing/harness.js';
import { Mosquitto, freePort } from '../../testing/mosquitto.js';
import { Scratch, openssl } from '../../testing/openssl.js';
import { serverFiles } from '../../testing/pki.js';

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The text content of the element with this id, as `element.textContent` gives it to the Copy button. */
function textContentOf(html: string, id: string): string {
  const match = new RegExp(`<(pre|code|textarea)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  if (!match) throw new Error(`no element #${id} on the page`);
  return match[2]!.replace(/<[^>]*>/g, '').replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}

/** The certificate and key of the first outbox mail's bundle, as files for mosquitto_pub. */
async function identityFromOutbox(portal: TestPortal, passphrase: string, scratch: Scratch) {
  const outbox = path.join(portal.dataDir, 'outbox');
  const [name] = readdirSync(outbox).filter((file) => file.endsWith('.eml'));
  const mail = await simpleParser(readFileSync(path.join(outbox, name!)));
  const p12 = scratch.file('client.p12', mail.attachments.find((a) => a.filename?.endsWith('.p12'))!.content);
  const pass = ['-passin', `pass:${passphrase}`];
  const cert = await openssl(['pkcs12', '-in', p12, ...pass, '-clcerts', '-nokeys', '-out', scratch.path('c.crt')]);
  const key = await openssl(['pkcs12', '-in', p12, ...pass, '-nocerts', '-noenc', '-out', scratch.path('c.key')]);
  assert.ok(cert.ok && key.ok, cert.stderr + key.stderr);
  return { certFile: scratch.path('c.crt'), keyFile: scratch.path('c.key') };
}

/** The ids of a user, as `id -u` and `id -g` give them. */
const idOf = (user: string, flag: '-u' | '-g') => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());

/** The effective user id of a running process, from /proc. */
const uidOfProcess = (pid: number) =>
  Number(/^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

test("the Broker page's mosquitto.conf, as copied, runs an unprivileged Mosquitto that lets an issued certificate in", async () => {
  const port = await freePort();
  // A strict umask while the portal starts: the files the broker reads must be 0644 all the same.
  const umask = process.umask(0o077);
  let portal: TestPortal;
  try {
    portal = await startTestPortal({ env: { MQTT_PORT: String(port) } });
  } finally {
    process.umask(umask);
  }
  try {
    // What the README tells the admin to do: the data folder belongs to the broker's group.
    chownSync(portal.dataDir, -1, idOf('mosquitto', '-g'));
    const browser = new Browser(portal);
    await browser.signIn();
    const page = await browser.get('/broker');
    const copied = textContentOf(page.body, 'conf');
    assert.match(copied, new RegExp(`^listener ${port}\\ncafile `), 'the listener line stands alone');

    // The test's own files (server certificate, ACL, configuration), readable by the broker's user.
    const scratch = new Scratch();
    chmodSync(scratch.dir, 0o755);
    const server = await serverFiles(scratch, portal.ca);
    const acl = scratch.file('acl', `${textContentOf(page.body, 'acl')}\n`);
    // What an admin adapts: where their server certificate and ACL file are.
    const conf = copied
      .replace('/etc/mosquitto/certs/server.crt', server.serverCert)
      .replace('/etc/mosquitto/certs/server.key', server.serverKey)
      .replace('/etc/mosquitto/acl', acl);
    const confFile = scratch.file('mosquitto.conf', `${conf}\n`);
    for (const file of [server.serverCert, server.serverKey, acl, confFile]) chmodSync(file, 0o644);
    const broker = await Mosquitto.run(confFile, port, {
      caFile: path.join(portal.dataDir, 'ca.crt'),
      crlFile: path.join(portal.dataDir, 'crl.pem'),
      ...server,
    });
    try {
      assert.equal(uidOfProcess(broker.pid), idOf('mosquitto', '-u'), 'the broker dropped root');
      const { passphrase } = await browser.issue({ username: 'alice', email: 'alice@example.org', days: '30' });
      const alice = await identityFromOutbox(portal, passphrase!, scratch);
      assert.equal(await broker.publish(alice, 'owntracks/alice/phone', 'hello'), true, broker.output);
    } finally {
      await broker.stop();
    }
    // The broker's group reads the public files and nothing else.
    const modes = Object.fromEntries(
      ['.', 'ca.crt', 'crl.pem', 'ca.key', 'enroll.db'].map((name) => [
        name,
        (statSync(path.join(portal.dataDir, name)).mode & 0o777).toString(8),
      ]),
    );
    assert.deepEqual(modes, { '.': '750', 'ca.crt': '644', 'crl.pem': '644', 'ca.key': '600', 'enroll.db': '600' });
  } finally {
    await portal.close();
  }
});
