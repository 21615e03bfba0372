// The Broker page's mosquitto.conf against a real Mosquitto: the text a Copy button copies (the
// element's text content) is written as the broker's configuration, changing only what this test
// must choose (the server certificate's and the ACL's paths), and a certificate the portal issued
// connects and publishes through it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { Browser, withPortal, type TestPortal } from '../../testing/harness.js';
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

test("the Broker page's mosquitto.conf, as copied, runs Mosquitto and lets an issued certificate in", async () => {
  const port = await freePort();
  await withPortal({ env: { MQTT_PORT: String(port) } }, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    const page = await browser.get('/broker');
    const copied = textContentOf(page.body, 'conf');
    assert.match(copied, new RegExp(`^listener ${port}\\ncafile `), 'the listener line stands alone');

    const scratch = new Scratch();
    const server = await serverFiles(scratch, portal.ca);
    const acl = scratch.file('acl', `${textContentOf(page.body, 'acl')}\n`);
    // What an admin adapts: where their server certificate and ACL file are.
    const conf = copied
      .replace('/etc/mosquitto/certs/server.crt', server.serverCert)
      .replace('/etc/mosquitto/certs/server.key', server.serverKey)
      .replace('/etc/mosquitto/acl', acl);
    const confFile = scratch.file('mosquitto.conf', `user root\n${conf}\n`);
    const broker = await Mosquitto.run(confFile, port, {
      caFile: path.join(portal.dataDir, 'ca.crt'),
      crlFile: path.join(portal.dataDir, 'crl.pem'),
      ...server,
    });
    try {
      const { passphrase } = await browser.issue({ username: 'alice', email: 'alice@example.org', days: '30' });
      const alice = await identityFromOutbox(portal, passphrase!, scratch);
      assert.equal(await broker.publish(alice, 'owntracks/alice/phone', 'hello'), true, broker.output);
    } finally {
      await broker.stop();
    }
  });
});
