// The enrollment mail as a person receives it (built by nodemailer, parsed by mailparser): the
// files named per device with their content types, no ca.otre, the .otrc's exact keys and types,
// the steps in the order the apps need (iOS: OwnTracks started, .otrp, passphrase, then .otrc),
// the apps' real menu paths and message, and a text part that keeps its blank lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bundleFileNames } from '../enroll/rules.js';
import { Browser, withPortal } from '../testing/harness.js';
import { MemoryMailer } from '../testing/mailer.js';

const mails = new Map<string, ReturnType<typeof issueAndRead>>();
/** The mail one issue sends; the tests that read the same mail share one portal and one issue. */
function mailFor(env: Record<string, string>, fields: Record<string, string>) {
  const key = JSON.stringify([env, fields]);
  if (!mails.has(key)) mails.set(key, issueAndRead(env, fields));
  return mails.get(key)!;
}

async function issueAndRead(env: Record<string, string>, fields: Record<string, string>) {
  const mailer = new MemoryMailer();
  return withPortal({ env, deps: { mailer } }, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    await browser.issue({ username: 'alice', email: 'alice@example.org', days: '30', ...fields });
    return { mail: mailer.messages[0]!.parsed, ca: portal.ca };
  });
}

/** Where each text first occurs, so that an order can be asserted; fails on a missing one. */
function positions(text: string, needles: string[]): number[] {
  return needles.map((needle) => {
    const at = text.indexOf(needle);
    assert.notEqual(at, -1, `the mail says ${needle}`);
    return at;
  });
}
const ascending = (list: number[]) => list.every((value, i) => i === 0 || list[i - 1]! < value);

describe('the enrollment mail', () => {
  test('bundle file names are <user>-<device>, and <user> alone only for a certificate without a device', () => {
    assert.deepEqual(bundleFileNames('alice', 'tablet'), {
      p12: 'alice-tablet.p12',
      otrp: 'alice-tablet.otrp',
      otrc: 'alice-tablet.otrc',
    });
    assert.deepEqual(bundleFileNames('alice', null), { p12: 'alice.p12', otrp: 'alice.otrp', otrc: 'alice.otrc' });
  });

  test('with the broker address: four files with their types, no ca.otre, and an .otrc of exact keys and types', async () => {
    const { mail, ca } = await mailFor({ MQTT_HOST: 'mqtt.example.org' }, { device: 'tablet' });
    const files = Object.fromEntries(mail.attachments.map((a) => [a.filename, a]));
    assert.deepEqual(Object.fromEntries(mail.attachments.map((a) => [a.filename, a.contentType])), {
      'alice-tablet.p12': 'application/x-pkcs12',
      'alice-tablet.otrp': 'application/octet-stream',
      'ca.crt': 'application/x-x509-ca-cert',
      'alice-tablet.otrc': 'application/json',
    });
    assert.ok(files['alice-tablet.p12']!.content.equals(files['alice-tablet.otrp']!.content));
    assert.equal(files['ca.crt']!.content.toString(), ca.certPem);
    const config = JSON.parse(files['alice-tablet.otrc']!.content.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(config, {
      _type: 'configuration',
      mode: 0,
      host: 'mqtt.example.org',
      port: 8883,
      tls: true,
      username: 'alice',
      deviceId: 'tablet',
      clientpkcs: 'alice-tablet.otrp',
    });
    assert.deepEqual(Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value])), {
      _type: 'string',
      mode: 'number',
      host: 'string',
      port: 'number',
      tls: 'boolean',
      username: 'string',
      deviceId: 'string',
      clientpkcs: 'string',
    });
    assert.equal(mail.subject, 'Your OwnTracks certificate for tablet');
  });

  test('the steps come in the order the apps need, with their real menu paths and message', async () => {
    const { mail } = await mailFor({ MQTT_HOST: 'mqtt.example.org' }, { device: 'tablet' });
    const text = String(mail.text);
    const [android, iphone] = positions(text, ['ANDROID', 'IPHONE AND IPAD']);
    const androidPart = text.slice(android, iphone);

    const iosPart = text.slice(iphone, text.indexOf('IF SOMETHING GOES WRONG'));
    assert.ok(
      ascending(
        positions(androidPart, [
          'CA certificate',
          'Preferences › Connection, and in its TLS section tap “Install client certificate”',
          'On Android 7 to 9',
          'Security › Install from storage',
          '“VPN and apps”',
          'tap “Client certificate”',
          'alice-tablet.otrc with OwnTracks',
        ]),
      ),
      'Android: CA, install (10+, or from storage on 7–9, for VPN and apps), pick, then the .otrc',
    );
    assert.ok(
      ascending(
        positions(iosPart, [
          'Certificate Trust Settings',
          'Start OwnTracks',
          'Settings › Remote Control (tap ⓘ), switch on “Allow external configuration”',
          'alice-tablet.otrp with OwnTracks',
          'Settings › TLS (tap ⓘ). Under Filename',
          'under Passphrase',
          'alice-tablet.otrc with OwnTracks',
        ]),
      ),
      'iOS: CA, start the app, external configuration, .otrp, file name and passphrase, then the .otrc',
    );
    assert.match(text, /“TLS Client Certificate – incorrect file or passphrase”/);
    assert.doesNotMatch(text, /ca\.otre|wrong password|Connection › TLS/);
    // On iOS that message means file or passphrase (or settings that came first), never the bundle's format.
    const iphoneHelp = text
      .slice(text.indexOf('IF SOMETHING GOES WRONG'))
      .split(/\n\s*\n/)
      .filter((paragraph) => paragraph.includes('iPhone'))
      .join('\n');
    assert.match(iphoneHelp, /incorrect file or passphrase/);
    assert.match(iphoneHelp.replace(/\s+/g, ' '), /server settings arrive before the certificate and passphrase/);
    assert.doesNotMatch(iphoneHelp, /format|compatible|modern|3DES|AES/i);
    // Each step says what to do and what to see.
    assert.equal((iosPart.match(/^\d\. /gm) ?? []).length, (iosPart.match(/You should see:/g) ?? []).length);
    // The HTML part gives the same steps.
    const html = String(mail.html);
    assert.ok(
      ascending(
        positions(html.slice(html.indexOf('>iPhone and iPad<')), [
          'Start OwnTracks',
          'alice-tablet.otrp with OwnTracks',
          'under Passphrase',
          'alice-tablet.otrc with OwnTracks',
        ]),
      ),
    );
  });

  test('the text part keeps its blank lines between paragraphs and steps', async () => {
    const { mail } = await mailFor({ MQTT_HOST: 'mqtt.example.org' }, { device: 'tablet' });
    const text = String(mail.text).replace(/\r\n/g, '\n');
    assert.match(text, /^Hello,\n\nyour OwnTracks certificate/);
    assert.match(text, /\n\nServer: mqtt\.example\.org, port 8883, TLS on\.\n\n/);
    assert.match(text, /\n\nANDROID[^\n]*\n\n1\. /);
    assert.match(text, /\n\n2\. /);
    assert.match(text, /\n\nIPHONE AND IPAD\n\n1\. /);
    assert.doesNotMatch(text, /\n{3,}/, 'no runs of blank lines');
  });

  test('without the broker address: no .otrc, and the mail says the administrator gives the server', async () => {
    const { mail } = await mailFor({}, { device: 'tablet' });
    assert.deepEqual(mail.attachments.map((a) => a.filename).sort(), [
      'alice-tablet.otrp',
      'alice-tablet.p12',
      'ca.crt',
    ]);
    assert.match(String(mail.text), /does not name the server/);
    assert.match(
      String(mail.text),
      /Host and Port as your administrator tells you, TLS on, Username alice and Device ID tablet/,
    );
  });
});
