// A pickup against the real peers: the link crosses a real SMTP server, the person redeems it
// with the code, the downloaded bundle opens with openssl and the passphrase the guide shows,
// Mosquitto accepts the picked-up certificate, the one-tap link decodes to exactly the keys and
// types the apps read, and the CA profile parses as a property list (python3's plistlib) whose
// one payload is the CA.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Browser, csrfTokenOf, withPortal } from '../../testing/harness.js';
import { Mosquitto } from '../../testing/mosquitto.js';
import { Scratch, openssl } from '../../testing/openssl.js';
import { serverFiles } from '../../testing/pki.js';
import { TestSmtpServer } from '../../testing/smtp.js';

const execFileAsync = promisify(execFile);
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';
const testId = (html: string, id: string) => new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];

describe('pickup against SMTP, openssl, Mosquitto and plistlib', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await TestSmtpServer.start();
  });
  after(() => smtp.close());

  test('mail → code → guide → bundle that openssl opens and Mosquitto accepts; the inline link and the profile', async () => {
    await withPortal(
      { env: { SMTP_URL: smtp.url, MQTT_HOST: 'localhost', MQTT_PORT: '8883', PUBLIC_URL: 'http://enroll.test' } },
      async (portal) => {
        const admin = new Browser(portal);
        await admin.signIn();
        const created = await admin.submit('/certificates/new', '/certificates', {
          username: 'rider1',
          email: 'rider1@example.org',
          device: 'phone',
          days: '30',
          delivery: 'link',
        });
        assert.equal(created.statusCode, 303);
        const code = testId((await admin.get(String(created.headers.location))).body, 'pickup-code')!;
        await smtp.until(() => smtp.messages.some((m) => m.to.includes('rider1@example.org')), 'the pickup mail');
        const mail = smtp.messages.find((m) => m.to.includes('rider1@example.org'))!;
        assert.ok(!mail.raw.toString().includes(code), 'the code is not in the mail');
        const link = /http:\/\/enroll\.test(\/pickup\/[A-Za-z0-9_-]{22})/.exec(mail.parsed.text ?? '')!;
        const pickupPath = link[1]!;

        const phone = new Browser(portal, { address: '198.51.100.9' });
        const headers = { 'user-agent': IPHONE };
        const page = await phone.request({ method: 'GET', url: pickupPath, headers });
        const redeemed = await phone.post(pickupPath, { _csrf: csrfTokenOf(page.body), code });
        assert.equal(redeemed.statusCode, 303);
        const guide = (await phone.request({ method: 'GET', url: pickupPath, headers })).body;
        const passphrase = testId(guide, 'passphrase');
        assert.equal(passphrase, undefined, 'the iPhone guide needs no passphrase typed');
        const inline = /href="owntracks:\/\/\/config\?inline=([^"]+)"/.exec(guide)![1]!;
        const configuration = JSON.parse(Buffer.from(decodeURIComponent(inline), 'base64').toString('utf8')) as Record<
          string,
          unknown
        >;
        assert.deepEqual(Object.keys(configuration).sort(), [
          '_type',
          'clientpkcs',
          'deviceId',
          'host',
          'mode',
          'passphrase',
          'port',
          'tls',
          'username',
        ]);
        assert.equal(configuration._type, 'configuration');
        assert.equal(configuration.mode, 0);
        assert.equal(configuration.host, 'localhost');
        assert.equal(configuration.port, 8883);
        assert.equal(configuration.tls, true);
        assert.equal(configuration.username, 'rider1');
        assert.equal(configuration.deviceId, 'phone');
        assert.equal(configuration.clientpkcs, 'rider1-phone.otrp');
        assert.equal(typeof configuration.passphrase, 'string');

        const otrp = await phone.get(`${pickupPath}/files/otrp`);
        assert.match(String(otrp.headers['content-disposition']), /rider1-phone\.otrp/);
        const scratch = new Scratch();
        const bundle = scratch.file('rider1-phone.otrp', otrp.rawPayload);
        const certificate = await openssl([
          'pkcs12',
          '-in',
          bundle,
          '-passin',
          `pass:${configuration.passphrase}`,
          '-nokeys',
          '-clcerts',
          '-out',
          scratch.path('cert.pem'),
        ]);
        assert.ok(certificate.ok, certificate.stderr);
        const key = await openssl([
          'pkcs12',
          '-in',
          bundle,
          '-passin',
          `pass:${configuration.passphrase}`,
          '-nocerts',
          '-nodes',
          '-out',
          scratch.path('key.pem'),
        ]);
        assert.ok(key.ok, key.stderr);
        const wrong = await openssl(['pkcs12', '-in', bundle, '-passin', 'pass:not-it', '-nokeys']);
        assert.ok(!wrong.ok, 'a wrong passphrase does not open it');

        const broker = await Mosquitto.start({
          caFile: path.join(portal.dataDir, 'ca.crt'),
          crlFile: path.join(portal.dataDir, 'crl.pem'),
          ...(await serverFiles(scratch, portal.ca)),
        });
        try {
          const identity = { certFile: scratch.path('cert.pem'), keyFile: scratch.path('key.pem') };
          assert.ok(await broker.publish(identity, 'owntracks/rider1/phone', '{"_type":"location"}'), broker.output);
        } finally {
          await broker.stop();
        }
        assert.equal(
          portal.db.prepare("SELECT delivery FROM certificates WHERE device = 'phone'").pluck().get(),
          'picked_up',
        );

        const profile = await phone.get('/ca.mobileconfig');
        const profileFile = scratch.file('ca.mobileconfig', profile.rawPayload);
        const { stdout } = await execFileAsync('python3', [
          '-c',
          [
            'import plistlib, sys, json, base64',
            'p = plistlib.load(open(sys.argv[1], "rb"))',
            'c = p["PayloadContent"]',
            'print(json.dumps({"type": p["PayloadType"], "id": p["PayloadIdentifier"], "n": len(c), "inner": c[0]["PayloadType"], "der": base64.b64encode(c[0]["PayloadContent"]).decode()}))',
          ].join('\n'),
          profileFile,
        ]);
        const parsed = JSON.parse(stdout) as { type: string; id: string; n: number; inner: string; der: string };
        assert.equal(parsed.type, 'Configuration');
        assert.equal(parsed.n, 1);
        assert.equal(parsed.inner, 'com.apple.security.root');
        assert.equal(parsed.der, portal.ca.certDer.toString('base64'));
      },
    );
  });
});
