// The Settings page's broker address: without MQTT_HOST an admin enters it, and the mail's server
// lines and .otrc use it; until then issuing works and the form and result page say the mail will
// lack it; bad input changes nothing; MQTT_HOST wins and is shown read-only.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { checkServerTrust } from '../../broker/server-trust.js';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../../testing/harness.js';
import { MemoryMailer } from '../../testing/mailer.js';

const PERSON = { username: 'alice', email: 'alice@example.org', device: 'phone', days: '30' };

async function signedIn(
  env: Record<string, string>,
  use: (portal: TestPortal, browser: Browser, mailer: MemoryMailer) => Promise<void>,
) {
  const mailer = new MemoryMailer();
  await withPortal({ env, deps: { mailer } }, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    await use(portal, browser, mailer);
  });
}

const auditRows = (portal: TestPortal) =>
  portal.db.prepare("SELECT actor, subject, outcome, detail FROM audit_log WHERE action = 'settings-change'").all();

describe('the broker address', () => {
  test('without one, issuing works and the form and result page say the mail lacks it; once saved, the mail has it', async () => {
    await signedIn({}, async (portal, browser, mailer) => {
      const form = await browser.get('/certificates/new');
      assert.match(
        form.body,
        /id="no-broker-address"[^>]*>No broker address is set[\s\S]*?<a href="\/settings">Settings<\/a>/,
      );
      const first = await browser.issue(PERSON);
      assert.match(first.page.body, /id="no-broker-address"/);
      const without = mailer.messages[0]!.parsed;
      assert.equal(
        without.attachments.some((a) => a.filename?.endsWith('.otrc')),
        false,
      );
      assert.doesNotMatch(String(without.text), /Server:/);

      const settings = await browser.get('/settings');
      assert.match(settings.body, /<a href="\/settings" aria-current="page">Settings<\/a>/);
      const saved = await browser.submit('/settings', '/settings/broker-address', {
        host: 'MQTT.Example.org',
        port: '8884',
      });
      assert.equal(saved.statusCode, 303);
      assert.match((await browser.get('/settings')).body, /Broker address saved: mqtt\.example\.org, port 8884/);
      // The Broker page speaks of the same address: its mosquitto.conf and the server certificate's name.
      const broker = await browser.get('/broker');
      assert.match(broker.body, /listener 8884/);
      assert.match(broker.body, /name="hosts"[^>]*value="mqtt\.example\.org"/);
      assert.deepEqual(auditRows(portal), [
        {
          actor: 'admin',
          subject: 'settings:broker-address',
          outcome: 'success',
          detail: 'broker address (none) → mqtt.example.org:8884',
        },
      ]);

      const second = await browser.issue({ ...PERSON, device: 'tablet' });
      assert.doesNotMatch(second.page.body, /id="no-broker-address"/);
      assert.doesNotMatch((await browser.get('/certificates/new')).body, /id="no-broker-address"/);
      const mail = mailer.messages[1]!.parsed;
      assert.match(String(mail.text), /mqtt\.example\.org/);
      assert.match(String(mail.text), /8884/);
      const otrc = mail.attachments.find((a) => a.filename?.endsWith('.otrc'));
      assert.ok(otrc, 'the .otrc is attached once the address is known');
      const config = JSON.parse(otrc.content.toString('utf8'));
      assert.equal(config.host, 'mqtt.example.org');
      assert.equal(config.port, 8884);
    });
  });

  test('bad input is refused field by field and changes nothing', async () => {
    await signedIn({}, async (portal, browser) => {
      for (const [host, port, field] of [
        ['not a host!', '8883', 'host'],
        ['', '8883', 'host'],
        ['mqtt.example.org', '70000', 'port'],
        ['mqtt.example.org', 'x', 'port'],
        ['mqtt.example.org', '0', 'port'],
        ['mqtt.example.org', '0x22C4', 'port'],
        ['mqtt.example.org', '1e3', 'port'],
        ['mqtt.example.org', ' 8883.0', 'port'],
        ['fe80::1%eth0', '8883', 'host'],
        ['1.2.3', '8883', 'host'],
        ['999', '8883', 'host'],
        ['mqtt.example.123', '8883', 'host'],
      ] as const) {
        const response = await browser.submit('/settings', '/settings/broker-address', { host, port });
        assert.equal(response.statusCode, 400, `${host}:${port}`);
        assert.match(response.body, /Nothing was saved/);
        assert.match(response.body, new RegExp(`id="e-${field}"`), `${host}:${port} marks ${field}`);
      }
      assert.equal(
        (await browser.submit('/settings', '/settings/broker-address', { host: '192.0.2.10', port: '8883' }))
          .statusCode,
        303,
      );
      assert.equal(
        (await browser.submit('/settings', '/settings/broker-address', { host: '2001:db8::1', port: '8883' }))
          .statusCode,
        303,
      );
      assert.equal(auditRows(portal).length, 2);
      assert.equal((await new Browser(portal).get('/settings')).statusCode, 303, 'admins only');
    });
  });

  test('MQTT_HOST wins: shown read-only, and a posted address is refused', async () => {
    await signedIn({ MQTT_HOST: 'broker.example.net', MQTT_PORT: '8993' }, async (portal, browser) => {
      const page = await browser.get('/settings');
      assert.match(page.body, /id="address-readonly"[\s\S]*broker\.example\.net[\s\S]*8993/);
      assert.doesNotMatch(page.body, /name="host"/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const response = await browser.post('/settings/broker-address', {
        _csrf: csrf,
        host: 'other.example.org',
        port: '8883',
      });
      assert.equal(response.statusCode, 409);
      assert.equal(auditRows(portal).length, 0);
      assert.equal(portal.db.prepare("SELECT count(*) FROM settings WHERE key LIKE 'broker_%'").pluck().get(), 0);
    });
  });
});

describe("phones' trust in the broker's certificate", () => {
  /** A check that calls public.example.net's certificate public and any other private, counting what it was asked. */
  const checks: string[] = [];
  const trustCheck: typeof checkServerTrust = (target) => {
    checks.push(`${target.host}:${target.port}`);
    return Promise.resolve(
      target.host === 'public.example.net'
        ? { verdict: 'public', issuer: "Let's Encrypt" }
        : { verdict: 'private', reason: 'self-signed certificate in certificate chain' },
    );
  };
  const until = async (what: string, condition: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`waited in vain for ${what}`);
  };
  const verdictOf = async (browser: Browser) =>
    /id="broker-trust-verdict">([^<]*)</.exec((await browser.get('/settings')).body)?.[1];

  test('a public certificate drops the CA step from the mail and the pickup guide; another address brings it back', async () => {
    const mailer = new MemoryMailer();
    checks.length = 0;
    await withPortal(
      { env: { PUBLIC_URL: 'http://enroll.example.org' }, deps: { mailer, trustCheck } },
      async () => undefined,
    );
    assert.deepEqual(checks, [], 'no address: nothing checked');
    await withPortal(
      { env: { PUBLIC_URL: 'http://enroll.example.org' }, deps: { mailer, trustCheck } },
      async (portal) => {
        const browser = new Browser(portal);
        await browser.signIn();
        assert.equal(await verdictOf(browser), undefined, 'no address: no verdict shown');

        await browser.submit('/settings', '/settings/broker-address', { host: 'public.example.net', port: '8883' });
        await until('the check', async () => /comes from/.test((await verdictOf(browser)) ?? ''));
        assert.deepEqual(checks, ['public.example.net:8883']);
        assert.match(
          (await verdictOf(browser))!,
          /certificate at public\.example\.net:8883 comes from Let&#39;s Encrypt, a public CA whose root phones already have \(checked just now\)\. The setup steps in mail and on pickup pages leave out installing the portal&#39;s CA\./,
        );
        await browser.issue(PERSON);
        const trusted = String(mailer.messages.at(-1)!.parsed.text);
        const [trustedSteps, trustedHelp] = trusted.split('IF SOMETHING GOES WRONG');
        assert.doesNotMatch(trustedSteps!, /Certificate Trust Settings|CA certificate/);
        assert.match(
          trustedSteps!,
          /\n1\. Save the attachment alice-phone\.p12/,
          'Android starts with the certificate',
        );
        assert.match(trustedSteps!, /\n1\. Start OwnTracks and leave it open/, 'iPhone starts with the app');
        assert.match(
          trustedSteps!,
          /ca\.crt: the certificate of the portal's authority: this server does not need it now/,
        );
        // Should the broker's certificate change after this mail, it says how to install the CA after all.
        assert.match(
          trustedHelp!,
          /if OwnTracks says the server's certificate is not trusted, install ca\.crt after all/,
        );
        assert.ok(
          mailer.messages.at(-1)!.parsed.attachments.some((a) => a.filename === 'ca.crt'),
          'ca.crt is still attached',
        );

        // The pickup guide on both systems.
        const created = await browser.submit('/certificates/new', '/certificates', {
          ...PERSON,
          device: 'tablet',
          delivery: 'qr',
        });
        const screen = await browser.get(String(created.headers.location));
        const link = /http:\/\/enroll\.example\.org(\/pickup\/[A-Za-z0-9_-]{22})/.exec(screen.body)![1]!;
        const code = /data-testid="pickup-code"[^>]*>(\d{6})</.exec(screen.body)![1]!;
        const phone = new Browser(portal, { address: '198.51.100.20' });
        const first = await phone.get(link);
        assert.equal((await phone.post(link, { _csrf: csrfTokenOf(first.body), code })).statusCode, 303);
        for (const os of ['ios', 'android']) {
          const guide = (await phone.get(`${link}?os=${os}`)).body;
          assert.match(guide, new RegExp(`data-testid="guide-${os}"`));
          assert.doesNotMatch(guide, /Install the CA|ca\.mobileconfig|Download ca\.crt/, os);
          assert.match(guide, /Allow external configuration/, os);
        }

        // Another address, with the portal's own server certificate: the CA step is back.
        await browser.submit('/settings', '/settings/broker-address', { host: 'home.example.net', port: '8883' });
        await until('the second check', async () => /not one phones trust/.test((await verdictOf(browser)) ?? ''));
        assert.deepEqual(checks, ['public.example.net:8883', 'home.example.net:8883']);
        await browser.issue({ ...PERSON, device: 'watch' });
        const untrusted = String(mailer.messages.at(-1)!.parsed.text);
        assert.match(untrusted, /\n1\. Save the attachment ca\.crt to the phone/);
        assert.match(untrusted, /Certificate Trust Settings/);
        assert.doesNotMatch(untrusted, /install ca\.crt after all/);
      },
    );
  });
});
