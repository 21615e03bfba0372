// Issuing against the real peers: the bundle crosses a real SMTP server and opens with openssl,
// as on a device; a typed passphrase opens a modern (AES-256) bundle; a mail server that is not
// there gets the certificate revoked and listed in a CRL that openssl reads.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser, withPortal, type TestPortal } from '../../testing/harness.js';
import { freePort } from '../../testing/mosquitto.js';
import { Scratch, openssl } from '../../testing/openssl.js';
import { TestSmtpServer } from '../../testing/smtp.js';

const GOOD = { username: 'jjolie', email: 'jjolie@example.org', device: 'phone', days: '365' };

describe('issuing over SMTP', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await TestSmtpServer.start();
  });
  after(() => smtp.close());

  /** A portal of its own per test; the SMTP server is shared, each test reads only its own mail. */
  async function issuing(use: (portal: TestPortal, browser: Browser) => Promise<void>) {
    await withPortal({ env: { SMTP_URL: smtp.url, MQTT_HOST: 'mqtt.example.org' } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      await use(portal, browser);
    });
  }
  const mailTo = async (address: string) => {
    await smtp.until(() => smtp.messages.some((m) => m.to.includes(address)), `mail to ${address}`);
    return smtp.messages.find((m) => m.to.includes(address))!;
  };

  test('the SMTP server is checked at start, and said to answer', async () => {
    await issuing(async (portal) => {
      for (let i = 0; !portal.logs.some((line) => line.includes('The SMTP server answers')); i++) {
        if (i === 200) assert.fail(portal.logs.join('\n')); // 20 s: the check is quick, the CI machine not
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(!portal.logs.some((line) => line.includes('does not answer')));
    });
  });

  test('the mailed bundle opens with openssl and the passphrase shown once; the passphrase is not in the mail', async () => {
    await issuing(async (_portal, browser) => {
      const { passphrase } = await browser.issue({ ...GOOD, email: 'smtp-1@example.org' });
      assert.ok(passphrase);
      const mail = await mailTo('smtp-1@example.org');
      const files = Object.fromEntries(mail.parsed.attachments.map((a) => [a.filename, a]));
      assert.deepEqual(Object.keys(files).sort(), [
        'ca.crt',
        'jjolie-phone.otrc',
        'jjolie-phone.otrp',
        'jjolie-phone.p12',
      ]);
      const scratch = new Scratch();
      const opened = await openssl([
        'pkcs12',
        '-in',
        scratch.file('jjolie.p12', files['jjolie-phone.p12']!.content),
        '-passin',
        `pass:${passphrase}`,
        '-nokeys',
        '-clcerts',
      ]);
      assert.ok(opened.ok, opened.stderr);
      assert.match(opened.stdout, /subject=CN ?= ?jjolie/);
      assert.ok(!mail.raw.toString().includes(passphrase), 'not in the mail');
    });
  });

  test('a typed passphrase opens the modern bundle (AES-256) with openssl', async () => {
    await issuing(async (portal, browser) => {
      const own = 'our family secret 42';
      const { passphrase, id } = await browser.issue({
        ...GOOD,
        email: 'smtp-2@example.org',
        device: 'tablet',
        passphraseMode: 'custom',
        passphrase: own,
        format: 'modern',
        keyBits: '3072',
      });
      assert.equal(passphrase, own);
      const mail = await mailTo('smtp-2@example.org');
      const p12 = mail.parsed.attachments.find((a) => a.filename === 'jjolie-tablet.p12')!.content;
      const info = await openssl([
        'pkcs12',
        '-info',
        '-in',
        new Scratch().file('t.p12', p12),
        '-passin',
        `pass:${own}`,
        '-noenc',
      ]);
      assert.ok(info.ok, info.stderr);
      assert.match(info.stdout + info.stderr, /AES-256-CBC/);
      assert.equal(portal.db.prepare('SELECT key_bits FROM certificates WHERE id = ?').pluck().get(id), 3072);
    });
  });
});

describe('when the mail server is not there', () => {
  test('a clear error page, no active certificate, and a CRL that openssl reads lists it', async () => {
    const port = await freePort(); // nothing listens there
    await withPortal({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const posted = await browser.submit('/certificates/new', '/certificates', GOOD);
      assert.equal(posted.statusCode, 303);
      // The result page waits for the mail server, then leads to the error page.
      const response = await browser.follow(String(posted.headers.location));
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /The mail server said: <span class="mono">[^<]*(ECONNREFUSED|ESOCKET)/);
      // Said at start too, in the log, before anyone issues.
      assert.ok(
        portal.logs.some((line) => /SMTP_URL: the mail server does not answer \(.*ECONNREFUSED/.test(line)),
        portal.logs.join('\n'),
      );
      const row = portal.db.prepare('SELECT serial, status FROM certificates').get() as Record<string, string>;
      assert.equal(row.status, 'revoked');
      const scratch = new Scratch();
      const crl = await openssl([
        'crl',
        '-in',
        path.join(portal.dataDir, 'crl.pem'),
        '-CAfile',
        scratch.file('ca.crt', portal.ca.certPem),
        '-noout',
        '-text',
      ]);
      assert.match(crl.stderr + crl.stdout, /verify OK/);
      assert.match(
        crl.stdout,
        new RegExp(`Serial Number: ${row.serial!.toUpperCase()}[\\s\\S]*Cessation Of Operation`),
      );
    });
  });
});
