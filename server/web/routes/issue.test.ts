import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { Browser, startTestPortal, withPortal, type TestPortal } from '../../testing/harness.js';
import { freePort } from '../../testing/mosquitto.js';
import { Scratch, openssl } from '../../testing/openssl.js';
import { TestSmtpServer } from '../../testing/smtp.js';

const GOOD = { username: 'jjolie', email: 'jjolie@example.org', device: 'phone', days: '365' };

async function issue(browser: Browser, fields: Record<string, string>) {
  return browser.submit('/certificates/new', '/certificates', fields);
}

function passphraseOn(html: string): string | undefined {
  return /data-testid="passphrase">([^<]+)</.exec(html)?.[1];
}

const count = (portal: TestPortal, table: string) =>
  portal.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('issuing over SMTP', () => {
  let smtp: TestSmtpServer;
  let portal: TestPortal;
  let browser: Browser;
  before(async () => {
    smtp = await TestSmtpServer.start();
    portal = await startTestPortal({ env: { SMTP_URL: smtp.url, MQTT_HOST: 'mqtt.example.org' } });
    browser = new Browser(portal);
    await browser.signIn();
  });
  after(async () => {
    await portal.close();
    await smtp.close();
  });

  test('the form has the labels and button of the contract', async () => {
    const page = await browser.get('/certificates/new');
    for (const label of ['Username', 'Email', 'Device', 'Valid for \\(days\\)'])
      assert.match(page.body, new RegExp(`<label for="f-\\w+">${label}`));
    assert.match(page.body, /<button type="submit" class="primary">Issue certificate<\/button>/);
    assert.match(page.body, /name="days" type="number" value="365"/);
  });

  test('issues, shows the passphrase once, and mails the four files and the configuration', async () => {
    const before = smtp.messages.length;
    const { page, passphrase, location, id } = await browser.issue(GOOD);
    assert.ok(passphrase, 'passphrase shown');
    assert.match(page.body, /another way: by phone, by message, or in person/);
    assert.match(page.body, /src="\/static\/js\/copy.js"/);

    const [mail] = (await smtp.waitFor(before + 1)).slice(before);
    assert.deepEqual(mail!.to, [GOOD.email]);
    const files = Object.fromEntries(mail!.parsed.attachments.map((a) => [a.filename, a]));
    assert.deepEqual(Object.keys(files).sort(), ['ca.crt', 'ca.otre', 'jjolie.otrc', 'jjolie.otrp', 'jjolie.p12']);
    assert.equal(files['jjolie.p12']!.contentType, 'application/x-pkcs12');
    assert.ok(files['jjolie.p12']!.content.equals(files['jjolie.otrp']!.content), '.otrp has the same bytes');
    assert.equal(files['ca.crt']!.content.toString(), portal.ca.certPem);
    assert.ok(files['ca.otre']!.content.equals(portal.ca.certDer), '.otre is the CA in DER');
    assert.deepEqual(JSON.parse(files['jjolie.otrc']!.content.toString()), {
      _type: 'configuration',
      mode: 0,
      host: 'mqtt.example.org',
      port: 8883,
      tls: true,
      username: 'jjolie',
      deviceId: 'phone',
      clientpkcs: 'jjolie.otrp',
    });
    assert.match(
      String(mail!.parsed.text),
      /ANDROID[\s\S]*Install client certificate[\s\S]*IPHONE AND IPAD[\s\S]*Allow external configuration/,
    );
    assert.match(String(mail!.parsed.html), /Certificate Trust Settings/);

    const scratch = new Scratch();
    const opened = await openssl([
      'pkcs12',
      '-in',
      scratch.file('jjolie.p12', files['jjolie.p12']!.content),
      '-passin',
      `pass:${passphrase}`,
      '-nokeys',
      '-clcerts',
    ]);
    assert.ok(opened.ok, opened.stderr);
    assert.match(opened.stdout, /subject=CN ?= ?jjolie/);

    // The passphrase is nowhere but on that one page.
    assert.ok(!mail!.raw.toString().includes(passphrase!), 'not in the mail');
    portal.db.pragma('wal_checkpoint(FULL)');
    for (const file of readdirSync(portal.dataDir).filter((name) => name.startsWith('enroll.db'))) {
      assert.ok(!readFileSync(path.join(portal.dataDir, file)).includes(passphrase!), `not in ${file}`);
    }
    assert.ok(!portal.logs.some((line) => line.includes(passphrase!)), 'not in the log');

    const row = portal.db
      .prepare('SELECT status, delivery, device, key_bits, bundle_format FROM certificates WHERE id = ?')
      .get(id);
    assert.deepEqual(row, {
      status: 'active',
      delivery: 'sent',
      device: 'phone',
      key_bits: 2048,
      bundle_format: 'compatible',
    });
    const again = await browser.get(location);
    assert.equal(passphraseOn(again.body), undefined, 'reloading does not show it again');
    assert.match(again.body, /shown once and is gone/);
    assert.match(String(again.headers['cache-control']), /no-store/);
  });

  const badInputs: Array<[string, Record<string, string>, string, RegExp]> = [
    ['a slash', { username: 'j/jolie' }, 'username', /lower-case letters/],
    ['a plus', { username: 'j+jolie' }, 'username', /lower-case letters/],
    ['a hash', { username: 'j#jolie' }, 'username', /lower-case letters/],
    ['upper case', { username: 'JJolie' }, 'username', /lower-case letters/],
    ['a space', { username: 'j jolie' }, 'username', /lower-case letters/],
    ['300 characters', { username: 'j'.repeat(300) }, 'username', /lower-case letters/],
    ['markup', { username: '<b>x</b>' }, 'username', /lower-case letters/],
    ['an empty username', { username: '' }, 'username', /lower-case letters/],
    ['a malformed email', { email: 'not-an-address' }, 'email', /valid email/],
    ['CR/LF in the email', { email: 'jjolie@example.org\r\nBcc: all@example.org' }, 'email', /line breaks/],
    ['a trailing LF in the email', { email: 'jjolie@example.org\n' }, 'email', /line breaks/],
    ['days -5', { days: '-5' }, 'days', /1 to 3650/],
    ['days 0', { days: '0' }, 'days', /1 to 3650/],
    ['days 3651', { days: '3651' }, 'days', /1 to 3650/],
    ['days as text', { days: 'a year' }, 'days', /1 to 3650/],
    ['days 1.5', { days: '1.5' }, 'days', /1 to 3650/],
    ['a device with a slash', { device: 'my/phone' }, 'device', /lower-case letters/],
    ['an unknown key size', { keyBits: '1024' }, 'keyBits', /key size/],
    ['an unknown bundle format', { format: 'rc2' }, 'format', /bundle format/],
    [
      'a short own passphrase',
      { passphraseMode: 'custom', passphrase: 'short' },
      'passphrase',
      /at least 12 printable ASCII/,
    ],
    [
      'a non-ASCII own passphrase',
      { passphraseMode: 'custom', passphrase: 'pässwörd-pässwörd' },
      'passphrase',
      /at least 12 printable ASCII/,
    ],
  ];
  for (const [name, change, field, message] of badInputs) {
    test(`${name}: 400 with its message, no row, no mail`, async () => {
      const rows = count(portal, 'certificates');
      const users = count(portal, 'users');
      const audit = count(portal, 'audit_log');
      const mails = smtp.accepted;
      const response = await issue(browser, { ...GOOD, username: 'newperson', ...change });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, new RegExp(`id="e-${field}">[^<]*${message.source}`));
      assert.match(response.body, /Nothing was issued/);
      assert.equal(count(portal, 'certificates'), rows);
      assert.equal(count(portal, 'users'), users);
      assert.equal(count(portal, 'audit_log'), audit);
      assert.equal(smtp.accepted, mails);
    });
  }

  test('a certificate cannot outlive its CA', async () => {
    const rows = count(portal, 'certificates');
    portal.clock.advance(9.5 * 365 * 86400_000); // the test CA is valid for ten years
    try {
      const late = new Browser(portal);
      await late.signIn();
      const response = await issue(late, { ...GOOD, username: 'late', days: '365' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /id="e-days">The CA expires in \d+ days/);
      assert.equal(count(portal, 'certificates'), rows);
    } finally {
      portal.clock.advance(-9.5 * 365 * 86400_000);
      await browser.signIn(); // sessions seen as expired while the clock was ahead are gone
    }
  });

  test('markup typed into the form comes back escaped', async () => {
    const response = await issue(browser, {
      ...GOOD,
      username: '<script>alert(1)</script>',
      email: '"><img src=x onerror=alert(1)>',
    });
    assert.equal(response.statusCode, 400);
    assert.ok(!response.body.includes('<script>alert(1)</script>'));
    assert.ok(!response.body.includes('<img src=x'));
    assert.match(response.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test('a typed passphrase opens the bundle and is never echoed back', async () => {
    const own = 'our family secret 42';
    const mailsBefore = smtp.messages.length;
    const { passphrase, id } = await browser.issue({
      ...GOOD,
      device: 'tablet',
      passphraseMode: 'custom',
      passphrase: own,
      format: 'modern',
      keyBits: '3072',
    });
    assert.equal(passphrase, own);
    const mail = (await smtp.waitFor(mailsBefore + 1))[mailsBefore]!;
    const p12 = mail.parsed.attachments.find((a) => a.filename === 'jjolie.p12')!.content;
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

  test('an existing user with another address: said on the form; changing it is explicit and audited', async () => {
    const response = await issue(browser, { ...GOOD, device: 'watch', email: 'new@example.org' });
    assert.equal(response.statusCode, 409);
    assert.match(response.body, /jjolie is registered with jjolie@example.org/);
    assert.match(response.body, /name="changeEmail"/);
    const { passphrase } = await browser.issue({
      ...GOOD,
      device: 'watch',
      email: 'new@example.org',
      changeEmail: 'yes',
    });
    assert.ok(passphrase);
    assert.equal(
      portal.db.prepare("SELECT email FROM users WHERE username = 'jjolie'").pluck().get(),
      'new@example.org',
    );
    assert.equal(portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'email-change'").pluck().get(), 1);
    const form = await browser.get('/certificates/new?username=jjolie');
    assert.match(form.body, /already exists with 3 certificate\(s\)/);
  });

  test('eight concurrent issues all succeed with distinct serials', async () => {
    const others = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const b = new Browser(portal);
        await b.signIn();
        return b.submit('/certificates/new', '/certificates', {
          ...GOOD,
          username: `crowd${i}`,
          email: `crowd${i}@example.org`,
        });
      }),
    );
    assert.deepEqual(
      others.map((r) => r.statusCode),
      Array(8).fill(303),
    );
    const serials = portal.db
      .prepare(
        "SELECT serial FROM certificates c JOIN users u ON u.id = c.user_id WHERE u.username LIKE 'crowd%' AND c.delivery = 'sent'",
      )
      .pluck()
      .all();
    assert.equal(new Set(serials).size, 8);
  });
});

describe('when the mail cannot be sent', () => {
  test('a clear error page, no active certificate, and a CRL that lists it', async () => {
    const port = await freePort(); // nothing listens there
    await withPortal({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const response = await issue(browser, GOOD);
      assert.equal(response.statusCode, 502);
      assert.match(response.body, /The mail server said: <span class="mono">[^<]*(ECONNREFUSED|ESOCKET)/);
      assert.match(response.body, /revoked right away/);
      const row = portal.db
        .prepare('SELECT serial, status, delivery, revocation_reason FROM certificates')
        .get() as Record<string, string>;
      assert.equal(row.status, 'revoked');
      assert.equal(row.delivery, 'failed');
      assert.equal(row.revocation_reason, 'cessationOfOperation');
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

describe('without an SMTP server', () => {
  test('mail goes to the outbox as an .eml that mailparser reads, listed on the Outbox page', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { passphrase } = await browser.issue(GOOD);
      assert.ok(passphrase);
      const dir = path.join(portal.dataDir, 'outbox');
      const [name] = readdirSync(dir);
      assert.ok(name?.endsWith('.eml'));
      const parsed = await simpleParser(readFileSync(path.join(dir, name!)));
      assert.deepEqual(parsed.attachments.map((a) => a.filename).sort(), [
        'ca.crt',
        'ca.otre',
        'jjolie.otrp',
        'jjolie.p12',
      ]);
      const listing = await browser.get('/outbox');
      assert.match(listing.body, new RegExp(`href="/outbox/${name!.replace(/\./g, '\\.')}"`));
      const download = await browser.get(`/outbox/${name}`);
      assert.equal(download.statusCode, 200);
      assert.equal(download.headers['content-type'], 'message/rfc822');
      const traversal = await browser.get('/outbox/..%2Fenroll.db');
      assert.ok([400, 404].includes(traversal.statusCode), `refused, not ${traversal.statusCode}`);
      assert.ok(!traversal.body.includes('SQLite format'));
      assert.equal((await new Browser(portal).get(`/outbox/${name}`)).statusCode, 303, 'admins only');
    });
  });
});
