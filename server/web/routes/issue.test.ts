// Issuing through the form, in-process: the contract's labels, one passphrase shown once, the
// mail's files, refusals of bad input, conflicts, concurrency and a mail server that refuses. Mail
// goes to a MemoryMailer and bundles are opened with node-forge; issue.int.test.ts sends through
// a real SMTP server and opens them with openssl.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { isValidCrl } from '../../pki/crl.js';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../../testing/harness.js';
import { inProcessMinter } from '../../testing/minter.js';
import { connectionRefused, HeldMemoryMailer, MemoryMailer } from '../../testing/mailer.js';
import { openBundle, readCrl, testCa } from '../../testing/pki.js';

const GOOD = { username: 'jjolie', email: 'jjolie@example.org', device: 'phone', days: '365' };

async function issue(browser: Browser, fields: Record<string, string>) {
  return browser.submit('/certificates/new', '/certificates', fields);
}

/** What a browser would send from the form whose tag contains `marker`: inputs, checked choices, selected options. */
function formFields(html: string, marker: string): Record<string, string> {
  const start = html.indexOf(marker);
  const form = html.slice(start, html.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  for (const [tag] of form.matchAll(/<input[^>]*>/g)) {
    const name = attr(tag, 'name');
    const type = attr(tag, 'type') ?? 'text';
    if (!name || ((type === 'radio' || type === 'checkbox') && !/\schecked/.test(tag))) continue;
    fields[name] = attr(tag, 'value') ?? '';
  }
  for (const [, name, options] of form.matchAll(/<select[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected =
      /<option value="([^"]*)"[^>]*\sselected/.exec(options!) ?? /<option value="([^"]*)"/.exec(options!);
    fields[name!] = selected?.[1] ?? '';
  }
  return fields;
}

function passphraseOn(html: string): string | undefined {
  return /data-testid="passphrase">([^<]+)</.exec(html)?.[1];
}

const count = (portal: TestPortal, table: string) =>
  portal.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

/** A fresh portal that mails through a MemoryMailer, with MQTT_HOST set and an admin signed in. */
async function issuing(
  use: (fixture: { portal: TestPortal; browser: Browser; mailer: MemoryMailer }) => Promise<void>,
) {
  const mailer = new MemoryMailer();
  await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' }, deps: { mailer } }, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    await use({ portal, browser, mailer });
  });
}

describe('issuing', () => {
  test('the form has the labels and button of the contract', async () => {
    await issuing(async ({ browser }) => {
      const page = await browser.get('/certificates/new');
      for (const label of ['Username', 'Email', 'Device', 'Valid for \\(days\\)'])
        assert.match(page.body, new RegExp(`<label for="f-\\w+">${label}`));
      assert.match(page.body, /<button type="submit" class="primary">Issue certificate<\/button>/);
      assert.match(page.body, /name="days" type="number" value="365"/);
      assert.match(page.body, /<details class="expert">/, 'the expert choices folded away');
    });
  });

  test('issues, shows the passphrase once, and mails the four files and the configuration', async () => {
    await issuing(async ({ portal, browser, mailer }) => {
      const { page, passphrase, location, id } = await browser.issue(GOOD);
      assert.ok(passphrase, 'passphrase shown');
      assert.match(page.body, /another way: by phone, by message, or in person/);
      assert.match(page.body, /src="\/static\/js\/copy.js"/);

      assert.equal(mailer.messages.length, 1);
      const [mail] = mailer.messages;
      assert.deepEqual(mail!.to, [GOOD.email]);
      const files = Object.fromEntries(mail!.parsed.attachments.map((a) => [a.filename, a]));
      assert.deepEqual(Object.keys(files).sort(), [
        'ca.crt',
        'jjolie-phone.otrc',
        'jjolie-phone.otrp',
        'jjolie-phone.p12',
      ]);
      assert.equal(files['jjolie-phone.p12']!.contentType, 'application/x-pkcs12');
      assert.ok(
        files['jjolie-phone.p12']!.content.equals(files['jjolie-phone.otrp']!.content),
        '.otrp has the same bytes',
      );
      assert.equal(files['ca.crt']!.content.toString(), portal.ca.certPem);
      assert.deepEqual(JSON.parse(files['jjolie-phone.otrc']!.content.toString()), {
        _type: 'configuration',
        mode: 0,
        host: 'mqtt.example.org',
        port: 8883,
        tls: true,
        username: 'jjolie',
        deviceId: 'phone',
        clientpkcs: 'jjolie-phone.otrp',
      });
      assert.match(
        String(mail!.parsed.text),
        /ANDROID[\s\S]*Install client certificate[\s\S]*IPHONE AND IPAD[\s\S]*Allow external configuration/,
      );
      assert.match(String(mail!.parsed.html), /Certificate Trust Settings/);
      const bundle = openBundle(files['jjolie-phone.p12']!.content, passphrase);
      assert.deepEqual(bundle.commonNames.sort(), ['Enroll Test CA', 'jjolie']);
      assert.equal(bundle.hasKey, true);
      assert.throws(() => openBundle(files['jjolie-phone.p12']!.content, 'not the passphrase'));

      // The passphrase is nowhere but on that one page.
      assert.ok(!mail!.raw.toString().includes(passphrase), 'not in the mail');
      portal.db.pragma('wal_checkpoint(FULL)');
      for (const file of readdirSync(portal.dataDir).filter((name) => name.startsWith('enroll.db'))) {
        assert.ok(!readFileSync(path.join(portal.dataDir, file)).includes(passphrase), `not in ${file}`);
      }
      assert.ok(!portal.logs.some((line) => line.includes(passphrase)), 'not in the log');

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
      await issuing(async ({ portal, browser, mailer }) => {
        const audit = count(portal, 'audit_log');
        const response = await issue(browser, { ...GOOD, ...change });
        assert.equal(response.statusCode, 400);
        assert.match(response.body, new RegExp(`id="e-${field}">[^<]*${message.source}`));
        assert.match(response.body, /Nothing was issued/);
        assert.equal(count(portal, 'certificates'), 0);
        assert.equal(count(portal, 'users'), 0);
        assert.equal(count(portal, 'audit_log'), audit);
        assert.equal(mailer.messages.length, 0);
      });
    });
  }

  test('a certificate cannot outlive its CA', async () => {
    await issuing(async ({ portal }) => {
      portal.clock.advance(9.5 * 365 * 86400_000); // the test CA is valid for ten years
      const late = new Browser(portal);
      await late.signIn();
      const response = await issue(late, { ...GOOD, days: '365' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /id="e-days">The CA expires in \d+ days/);
      assert.equal(count(portal, 'certificates'), 0);
    });
  });

  test('markup typed into the form comes back escaped', async () => {
    await issuing(async ({ browser }) => {
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
  });

  test('a typed passphrase, a larger key and the modern format: the bundle opens with it, and it is never echoed back', async () => {
    await issuing(async ({ portal, browser, mailer }) => {
      const own = 'our family secret 42';
      const { passphrase, id, page } = await browser.issue({
        ...GOOD,
        device: 'tablet',
        passphraseMode: 'custom',
        passphrase: own,
        format: 'modern',
        keyBits: '3072',
      });
      assert.equal(passphrase, own);
      assert.equal((page.body.match(new RegExp(own, 'g')) ?? []).length, 1, 'shown once on the result page');
      const p12 = mailer.messages[0]!.parsed.attachments.find((a) => a.filename === 'jjolie-tablet.p12')!.content;
      assert.deepEqual(openBundle(p12, own).commonNames.sort(), ['Enroll Test CA', 'jjolie']);
      assert.deepEqual(portal.db.prepare('SELECT key_bits, bundle_format FROM certificates WHERE id = ?').get(id), {
        key_bits: 3072,
        bundle_format: 'modern',
      });
    });
  });

  test('an existing user with another address: said on the form; changing it is explicit and audited', async () => {
    await issuing(async ({ portal, browser }) => {
      await browser.issue(GOOD);
      const response = await issue(browser, { ...GOOD, device: 'watch', email: 'new@example.org' });
      assert.equal(response.statusCode, 409);
      assert.match(response.body, /jjolie is registered with jjolie@example.org/);
      assert.match(response.body, /pickup links mailed to the old address then stop working/);
      assert.match(response.body, /name="changeEmail"/);
      assert.equal(count(portal, 'certificates'), 1, 'nothing issued until the change is confirmed');
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
      assert.match(form.body, /already exists with 2 certificates:/);
    });
  });

  test('the "email differs" answer keeps every field, and ticking the change then issues', async () => {
    await issuing(async ({ portal, browser }) => {
      await browser.issue(GOOD);
      const answer = await issue(browser, {
        ...GOOD,
        device: 'tablet',
        email: 'new@example.org',
        days: '90',
        keyBits: '3072', // not the default; the size the test above mints too, so one key pair serves both
        format: 'modern',
      });
      assert.equal(answer.statusCode, 409);
      assert.match(answer.body, /already exists with 1 certificate:/, 'one, not "1 certificate(s)"');
      assert.match(answer.body, /href="\/certificates\/new" aria-current="page"/, 'the menu still says Issue');
      const fields = formFields(answer.body, 'action="/certificates"');
      assert.match(answer.body, /<details class="expert" open>/, 'open: a choice in it was changed');
      assert.equal(fields.days, '90', 'Valid for kept');
      assert.equal(fields.keyBits, '3072', 'key size kept');
      assert.equal(fields.format, 'modern', 'format kept');
      assert.equal(fields.device, 'tablet');
      assert.equal(fields.email, 'new@example.org');
      // The admin ticks "Change the address" and sends the form as it stands.
      const sent = await browser.post('/certificates', { ...fields, changeEmail: 'yes' });
      assert.equal(sent.statusCode, 303, sent.body.slice(0, 2000));
      assert.deepEqual(
        portal.db.prepare('SELECT key_bits, bundle_format, device FROM certificates ORDER BY id DESC LIMIT 1').get(),
        { key_bits: 3072, bundle_format: 'modern', device: 'tablet' },
      );
    });
  });

  test('a double click on Issue: both answers lead to the one certificate and its passphrase, for each delivery', async () => {
    const { ca } = await testCa();
    const real = inProcessMinter(ca);
    // The worker thread takes a moment: the second click arrives while the first is minting.
    const minter = {
      ...real,
      mint: async (request: Parameters<typeof real.mint>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return real.mint(request);
      },
    };
    await withPortal({ deps: { minter } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      for (const [username, delivery] of [
        ['bob', 'bundle'],
        ['carol', 'qr'],
      ] as const) {
        const form = await browser.get('/certificates/new');
        const submission = /name="submission" value="([A-Za-z0-9_-]{16})"/.exec(form.body)?.[1];
        assert.ok(submission, 'the form carries its submission id');
        const fields = {
          _csrf: csrfTokenOf(form.body),
          submission,
          username,
          email: `${username}@example.org`,
          days: '30',
          delivery,
        };
        const [first, second] = await Promise.all([
          browser.post('/certificates', fields),
          browser.post('/certificates', fields),
        ]);
        assert.deepEqual(
          [first.statusCode, second.statusCode],
          [303, 303],
          `${delivery}: ${second.body.slice(0, 200)}`,
        );
        assert.equal(second.headers.location, first.headers.location, `${delivery}: where the first went`);
        const shown = await browser.get(String(second.headers.location));
        assert.match(shown.body, delivery === 'bundle' ? /data-testid="passphrase"/ : /data-testid="pickup-code"/);
      }
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 1, "bob's, once");
      assert.equal(portal.db.prepare('SELECT count(*) FROM invitations').pluck().get(), 1, "carol's, once");

      // A fresh rendering of the form is a new submission: refused as the device is taken.
      const again = await browser.submit('/certificates/new', '/certificates', {
        username: 'bob',
        email: 'bob@example.org',
        device: 'phone',
        days: '30',
      });
      assert.equal(again.statusCode, 409);
    });
  });

  test('eight concurrent issues all succeed with distinct serials', async () => {
    await issuing(async ({ portal, mailer }) => {
      // Signed in one after another: one sign-in per account name is checked at a time.
      const browsers: Browser[] = [];
      for (let i = 0; i < 8; i++) {
        const b = new Browser(portal);
        await b.signIn();
        browsers.push(b);
      }
      const others = await Promise.all(
        browsers.map(async (b, i) => {
          const posted = await b.submit('/certificates/new', '/certificates', {
            ...GOOD,
            username: `crowd${i}`,
            email: `crowd${i}@example.org`,
          });
          // The result page answers once the mail went.
          const page = await b.get(String(posted.headers.location));
          return [posted.statusCode, page.statusCode, passphraseOn(page.body) !== undefined];
        }),
      );
      assert.deepEqual(others, Array(8).fill([303, 200, true]));
      const serials = portal.db.prepare("SELECT serial FROM certificates WHERE delivery = 'sent'").pluck().all();
      assert.equal(new Set(serials).size, 8);
      assert.equal(mailer.messages.length, 8);
    });
  });

  test('the POST answers once the certificate is recorded; its page, and the download, wait for the mail server', async () => {
    const mailer = new HeldMemoryMailer(); // a mail server that takes its time
    await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' }, deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const posted = await issue(browser, GOOD);
      assert.equal(posted.statusCode, 303);
      const row = () =>
        portal.db.prepare('SELECT id, delivery FROM certificates').get() as { id: number; delivery: string };
      assert.deepEqual(row(), { id: 1, delivery: 'pending' }, 'recorded before the answer, not yet mailed');
      const location = String(posted.headers.location);
      const download = new URL(location, 'http://portal').searchParams.get('download');
      const answered = new Set<string>();
      const page = browser.get(location).finally(() => answered.add('page'));
      const file = browser
        .get(`/certificates/1/bundle/jjolie-phone.p12?download=${download}`)
        .finally(() => answered.add('download'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual([...answered], [], 'the page and the download wait for the mail server');
      assert.equal(mailer.messages.length, 0);
      mailer.accept();
      const shown = await page;
      assert.equal(shown.statusCode, 200);
      assert.ok(passphraseOn(shown.body), 'the passphrase, once the mail went');
      assert.equal(row().delivery, 'sent');
      assert.equal(mailer.messages.length, 1);
      assert.equal((await file).statusCode, 200, 'the download, once the mail went');
      const again = await browser.get(location);
      assert.equal(again.statusCode, 200, 'a reload shows the page');
      assert.equal(passphraseOn(again.body), undefined, 'without the passphrase, shown once');
    });
  });

  test('two requests for the result page while the mail is on its way: the later one shows the passphrase', async () => {
    // A reload behind a proxy that keeps its own connection open: the first request is still
    // there, its answer going nowhere. The passphrase, shown once, goes to the page asked last.
    const mailer = new HeldMemoryMailer();
    await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' }, deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const location = String((await issue(browser, GOOD)).headers.location);
      const first = browser.get(location);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const reload = browser.get(location);
      await new Promise((resolve) => setTimeout(resolve, 30));
      mailer.accept();
      const [left, shown] = await Promise.all([first, reload]);
      assert.deepEqual([left.statusCode, shown.statusCode], [200, 200]);
      assert.equal(passphraseOn(left.body), undefined, 'not on the page given up');
      assert.ok(passphraseOn(shown.body), 'on the page asked last');
    });
  });

  test('revoked by another admin while its mail was on its way: the page says so and shows no passphrase', async () => {
    const mailer = new HeldMemoryMailer();
    await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' }, deps: { mailer } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const location = String((await issue(browser, GOOD)).headers.location);
      const page = browser.get(location);
      const other = new Browser(portal);
      await other.signIn();
      const revoked = await other.submit('/certificates/1/revoke?reason=keyCompromise', '/certificates/1/revoke', {
        reason: 'keyCompromise',
      });
      assert.equal(revoked.statusCode, 303);
      mailer.accept();
      const shown = await page;
      assert.equal(shown.statusCode, 200);
      assert.equal(passphraseOn(shown.body), undefined, 'no passphrase for a revoked certificate');
      assert.match(shown.body, /was revoked/);
      assert.doesNotMatch(shown.body, /data-testid="bundle-downloads"/);
    });
  });

  test('when the mail cannot be sent: a redirect to a clear error page, no active certificate, and a CRL that lists it', async () => {
    await issuing(async ({ portal, browser, mailer }) => {
      mailer.failWith = connectionRefused();
      const posted = await issue(browser, GOOD);
      // The POST answers a redirect, so that a reload of the page it leads to re-posts nothing; that
      // page, which waits for the mail server, leads to the error page instead of the passphrase.
      assert.equal(posted.statusCode, 303);
      const issued = String(posted.headers.location);
      const download = new URL(issued, 'http://portal').searchParams.get('download');
      const result = await browser.get(issued);
      assert.equal(result.statusCode, 303);
      assert.equal(passphraseOn(result.body), undefined);
      const location = String(result.headers.location);
      assert.match(location, /^\/certificates\/mail-failed\?ticket=[A-Za-z0-9_-]+$/);
      assert.equal((await browser.get(issued)).headers.location, location, 'a reload: the error page again');
      const bundle = await browser.get(`/certificates/1/bundle/jjolie-phone.p12?download=${download}`);
      assert.equal(bundle.statusCode, 404, "the undelivered bundle is not the admin's to download");
      for (let reload = 0; reload < 2; reload++) {
        const response = await browser.get(location);
        assert.equal(response.statusCode, 200);
        assert.match(response.body, /The mail server said: <span class="mono">[^<]*ECONNREFUSED/);
        assert.match(response.body, /revoked right away/);
        assert.match(response.body, /alice@example\.org|<strong>[^<]+@[^<]+<\/strong>/);
      }
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 1, 'a reload issues nothing');
      // Someone else's ticket, or none: no page to show, back to the form.
      assert.equal((await browser.get('/certificates/mail-failed?ticket=unknown')).statusCode, 303);
      const row = portal.db
        .prepare('SELECT serial, status, delivery, revocation_reason FROM certificates')
        .get() as Record<string, string>;
      assert.deepEqual(
        { ...row, serial: undefined },
        { serial: undefined, status: 'revoked', delivery: 'failed', revocation_reason: 'cessationOfOperation' },
      );
      const crl = readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8');
      assert.equal(isValidCrl(crl, portal.ca), true);
      assert.deepEqual(readCrl(crl).entries, [{ serial: row.serial, reason: 'cessationOfOperation' }]);
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
        'jjolie-phone.otrp',
        'jjolie-phone.p12',
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
