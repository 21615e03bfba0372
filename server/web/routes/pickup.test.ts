// Pickup links through the web, in-process: the Delivery choice on the issue form, the code shown
// once to the admin, a GET that consumes nothing, one page for every dead link, redemption with
// the code, the guide per platform with its files surviving reloads, Done, and the admin's own
// download of a mailed bundle. pickup.int.test.ts does it with real SMTP, OpenSSL and Mosquitto.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inProcessMinter } from '../../testing/minter.js';
import { testCa } from '../../testing/pki.js';
import { Browser, csrfTokenOf, withPortal, type TestPortal } from '../../testing/harness.js';
import { MemoryMailer } from '../../testing/mailer.js';
import { openBundle } from '../../testing/pki.js';
import { bundleFileNames } from '../../enroll/rules.js';
import { wordsFor } from '../../words/index.js';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';
const IPHONE_GMAIL =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const ANDROID =
  'Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const PERSON = { username: 'rider7', email: 'rider7@example.org', device: 'phone', days: '30' };

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const unescaped = (html: string) => html.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => entities[name]!);
/** Every text marked with a test id, in page order. */
const allTestIds = (html: string, id: string) =>
  [...html.matchAll(new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`, 'g'))].map((match) => unescaped(match[1]!));

const testId = (html: string, id: string) => new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];

async function pickupPortal(
  use: (fixture: { portal: TestPortal; admin: Browser; mailer: MemoryMailer; minted: () => number }) => Promise<void>,
) {
  const mailer = new MemoryMailer();
  const { ca } = await testCa();
  const minter = inProcessMinter(ca);
  await withPortal(
    { env: { MQTT_HOST: 'mqtt.example.org', PUBLIC_URL: 'http://enroll.example.org' }, deps: { mailer, minter } },
    async (portal) => {
      const admin = new Browser(portal);
      await admin.signIn();
      await use({ portal, admin, mailer, minted: () => minter.minted });
    },
  );
}

class Phone extends Browser {
  constructor(
    portal: TestPortal,
    readonly userAgent: string,
  ) {
    super(portal, { address: '198.51.100.20' });
  }
  override request(options: Parameters<Browser['request']>[0]) {
    return super.request({ ...options, headers: { 'user-agent': this.userAgent, ...options.headers } });
  }
}

describe('pickup links', () => {
  test('the issue form offers the Delivery choice, mail the bundle by default', async () => {
    await pickupPortal(async ({ admin }) => {
      const form = await admin.get('/certificates/new');
      assert.match(form.body, /<legend>Delivery<\/legend>/);
      assert.match(form.body, /value="bundle" checked> Mail the bundle/);
      assert.match(form.body, /value="link"> Mail a pickup link/);
      assert.match(form.body, /value="qr"> Show a pickup QR code/);
    });
  });

  test('a mailed link: code to the admin only, GET consumes nothing, the code redeems, the guide and files follow', async () => {
    await pickupPortal(async ({ portal, admin, mailer, minted }) => {
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'link' });
      assert.equal(created.statusCode, 303);
      const screen = await admin.get(String(created.headers.location));
      const code = testId(screen.body, 'pickup-code')!;
      assert.match(code, /^\d{6}$/);
      // Shown once: the same address again has no code.
      assert.equal(testId((await admin.get(String(created.headers.location))).body, 'pickup-code'), undefined);

      const mail = mailer.messages.at(-1)!;
      assert.deepEqual(mail.to, [PERSON.email]);
      const link = /http:\/\/enroll\.example\.org\/pickup\/[A-Za-z0-9_-]{22}/.exec(mail.parsed.text ?? '')![0];
      assert.ok(
        !(mail.parsed.text ?? '').includes(code) && !String(mail.parsed.html).includes(code),
        'no code in the mail',
      );
      assert.equal(mail.parsed.attachments.length, 0, 'no bundle in a pickup mail');
      const path = new URL(link).pathname;

      // A mail scanner's GET, and the person's first look: nothing is made.
      const phone = new Phone(portal, IPHONE);
      const first = await phone.get(path);
      assert.equal(first.statusCode, 200);
      assert.match(first.body, /Get my certificate/);
      assert.equal(minted(), 0);

      const wrong = await phone.post(path, {
        _csrf: csrfTokenOf(first.body),
        code: code === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.statusCode, 400);
      assert.match(wrong.body, /4 more tries/);
      const redeemed = await phone.post(path, { _csrf: csrfTokenOf(wrong.body), code });
      assert.equal(redeemed.statusCode, 303);
      assert.equal(redeemed.headers.location, path);
      const cookie = redeemed.cookies.find((c) => c.name === 'enroll_pickup')!;
      assert.ok(cookie.httpOnly, 'HttpOnly');
      assert.equal(cookie.path, '/pickup');
      assert.equal(cookie.maxAge, 1800);
      assert.equal(minted(), 1);

      // The guide for the iPhone, again after a reload (the trip to Settings and back).
      for (let reload = 0; reload < 2; reload++) {
        const guide = await phone.get(path);
        assert.equal(guide.statusCode, 200);
        assert.match(guide.body, /data-testid="guide-ios"/);
        assert.match(guide.body, /href="\/ca\.mobileconfig"/);
        assert.match(guide.body, /href="owntracks:\/\/\/config\?inline=[A-Za-z0-9%]+"/);
        assert.doesNotMatch(guide.body, /open-in-safari/);
      }
      const android = await phone.get(`${path}?os=android`);
      assert.match(android.body, /data-testid="guide-android"/);
      const passphrase = testId(android.body, 'passphrase')!;
      const otrp = await phone.get(`${path}/files/otrp`);
      assert.equal(otrp.statusCode, 200);
      assert.match(String(otrp.headers['content-disposition']), /filename="rider7-phone\.otrp"/);
      assert.deepEqual(openBundle(otrp.rawPayload, passphrase).commonNames, ['rider7', 'Enroll Test CA']);
      const otrc = JSON.parse((await phone.get(`${path}/files/otrc`)).body);
      assert.deepEqual(otrc, {
        _type: 'configuration',
        mode: 0,
        host: 'mqtt.example.org',
        port: 8883,
        tls: true,
        username: 'rider7',
        deviceId: 'phone',
      });
      const profile = await phone.get('/ca.mobileconfig');
      assert.equal(profile.headers['content-type'], 'application/x-apple-aspen-config');

      // Another browser with the link and the code (a second tab elsewhere) gets the same bundle, no new key.
      const other = new Phone(portal, ANDROID);
      const again = await other.post(path, { _csrf: csrfTokenOf((await other.get('/login')).body), code });
      assert.equal(again.statusCode, 303);
      assert.equal(minted(), 1);

      // Without the cookie the files are not there; with it, Done ends them.
      assert.equal((await new Phone(portal, IPHONE).get(`${path}/files/p12`)).statusCode, 404);
      const guide = await phone.get(path);
      const done = await phone.post(`${path}/done`, { _csrf: csrfTokenOf(guide.body) });
      assert.equal(done.statusCode, 303);
      assert.equal((await phone.get(`${path}/files/p12`)).statusCode, 404);

      const certificates = await admin.get('/certificates');
      assert.match(certificates.body, /picked up/);
      const list = await admin.get('/invitations');
      assert.match(list.body, /data-testid="invitation-status">picked up</);
      // The person page: the link and the certificate it became, each with its stage.
      const person = await admin.get(`/people/${PERSON.username}`);
      assert.match(person.body, /data-testid="invitation-status">picked up</);
      assert.match(person.body, /data-testid="pickup-status">picked up</);
    });
  });

  test('Resend clicked twice: one new link and one mail, and both answers show its code', async () => {
    await pickupPortal(async ({ admin, mailer }) => {
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'link' });
      const id = Number(/\/invitations\/(\d+)/.exec(String(created.headers.location))![1]);
      await admin.get(String(created.headers.location)); // the screen with the first code
      const detail = await admin.get(`/invitations/${id}`);
      const submission = /name="submission" value="([^"]+)"/.exec(detail.body)?.[1];
      assert.ok(submission, 'the Resend form carries its submission id');
      const mailsBefore = mailer.messages.length;
      const fields = { _csrf: csrfTokenOf(detail.body), submission };
      const [first, second] = await Promise.all([
        admin.post(`/invitations/${id}/resend`, fields),
        admin.post(`/invitations/${id}/resend`, fields),
      ]);
      assert.equal(second.headers.location, first.headers.location);
      assert.equal(mailer.messages.length - mailsBefore, 1, 'one mail, with the one live link');
      const screen = await admin.get(String(second.headers.location));
      assert.match(screen.body, /data-testid="pickup-code"/);
    });
  });

  test('a Resend that failed can be sent again from the same page', async () => {
    await pickupPortal(async ({ admin, mailer }) => {
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'link' });
      const id = Number(/\/invitations\/(\d+)/.exec(String(created.headers.location))![1]);
      const detail = await admin.get(`/invitations/${id}`);
      const fields = {
        _csrf: csrfTokenOf(detail.body),
        submission: /name="submission" value="([^"]+)"/.exec(detail.body)![1]!,
      };
      mailer.failWith = new Error('connect ECONNREFUSED 127.0.0.1:25');
      assert.equal((await admin.post(`/invitations/${id}/resend`, fields)).statusCode, 303);
      mailer.failWith = undefined;
      const mailsBefore = mailer.messages.length;
      const again = await admin.post(`/invitations/${id}/resend`, fields);
      assert.equal(mailer.messages.length - mailsBefore, 1, 'the second try ran and mailed the new link');
      assert.match(String(again.headers.location), /ticket=/);
    });
  });

  test('Cancel clicked twice: cancelled once, and the page says so', async () => {
    await pickupPortal(async ({ portal, admin }) => {
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'link' });
      const id = Number(/\/invitations\/(\d+)/.exec(String(created.headers.location))![1]);
      const detail = await admin.get(`/invitations/${id}`);
      const submission = /name="submission" value="([^"]+)"[^>]*>\s*<button type="submit" class="danger"/.exec(
        detail.body,
      )?.[1];
      assert.ok(submission, 'the Cancel form carries its own submission id');
      const resendSubmission = /name="submission" value="([^"]+)"/.exec(detail.body)![1];
      assert.notEqual(submission, resendSubmission, "not the Resend form's");
      const body = { _csrf: csrfTokenOf(detail.body), submission };
      portal.clock.advance(61_000); // the session's last-seen time is due: both requests save it
      const [, second] = await Promise.all([
        admin.post(`/invitations/${id}/cancel`, body),
        admin.post(`/invitations/${id}/cancel`, body),
      ]);
      const shown = await admin.get(String(second.headers.location));
      assert.match(shown.body, /Invitation cancelled: its link no longer works\./);
      assert.doesNotMatch(shown.body, /Only an open invitation can be cancelled/);
    });
  });

  test('unknown, used, expired and cancelled links get one identical page', async () => {
    await pickupPortal(async ({ portal, admin }) => {
      const invite = async (device: string, delivery = 'link') => {
        const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, device, delivery });
        const screen = await admin.get(String(created.headers.location));
        const url = testId(screen.body, 'pickup-link')!;
        return {
          id: Number(/\/invitations\/(\d+)/.exec(String(created.headers.location))![1]),
          path: new URL(url).pathname,
          code: testId(screen.body, 'pickup-code')!,
        };
      };
      const used = await invite('a');
      const phone = new Phone(portal, ANDROID);
      const page = await phone.get(used.path);
      await phone.post(used.path, { _csrf: csrfTokenOf(page.body), code: used.code });
      await phone.get(`${used.path}/files/p12`);
      await phone.post(`${used.path}/done`, { _csrf: csrfTokenOf((await phone.get(used.path)).body) });
      const cancelled = await invite('b');
      const detail = await admin.get(`/invitations/${cancelled.id}`);
      assert.equal(
        (await admin.post(`/invitations/${cancelled.id}/cancel`, { _csrf: csrfTokenOf(detail.body) })).statusCode,
        303,
      );
      const expired = await invite('c', 'qr');
      portal.clock.advance(15 * 60_000);
      const bodies = new Set<string>();
      for (const path of [
        used.path,
        cancelled.path,
        expired.path,
        '/pickup/AAAAAAAAAAAAAAAAAAAAAA',
        '/pickup/nonsense',
      ]) {
        const response = await new Phone(portal, IPHONE).get(path);
        assert.equal(response.statusCode, 404, path);
        bodies.add(response.body);
      }
      assert.equal(bodies.size, 1, 'no hint which it was');
      assert.match((await admin.get('/invitations')).body, /data-testid="invitation-status">expired</);
    });
  });

  test('a QR code on screen carries the link and the code; a desktop gets a QR of the page; iOS in-app browsers are sent to Safari', async () => {
    await pickupPortal(async ({ portal, admin }) => {
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'qr' });
      const screen = await admin.get(String(created.headers.location));
      assert.match(screen.body, /data-testid="pickup-qr"><img src="data:image\/svg\+xml;base64,/);
      const code = testId(screen.body, 'pickup-code')!;
      const path = new URL(testId(screen.body, 'pickup-link')!).pathname;
      const desktop = await new Phone(portal, DESKTOP).get(path);
      assert.match(desktop.body, /data-testid="pickup-own-qr"><img src="data:image\/svg\+xml;base64,/);
      const inApp = new Phone(portal, IPHONE_GMAIL);
      const page = await inApp.get(path);
      assert.doesNotMatch(page.body, /pickup-own-qr/);
      assert.match(page.body, /data-testid="open-in-safari"/, 'told before redeeming');
      await inApp.post(path, { _csrf: csrfTokenOf(page.body), code });
      assert.match((await inApp.get(path)).body, /data-testid="open-in-safari"/);
      // Opened in Safari afterwards (no cookie there): the code again finds the same bundle.
      const safari = new Phone(portal, IPHONE);
      const form = await safari.get(path);
      assert.equal(form.statusCode, 200);
      assert.equal((await safari.post(path, { _csrf: csrfTokenOf(form.body), code })).statusCode, 303);
      assert.match((await safari.get(path)).body, /data-testid="guide-ios"/);
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 1);
    });
  });

  test('limits count per link: a venue behind one address gets through, one link is held back', async () => {
    await pickupPortal(async ({ portal }) => {
      const venue = new Phone(portal, ANDROID);
      // More pages than the anonymous limit of one address allows (300 a minute), each its own link.
      for (let rider = 0; rider < 320; rider++) {
        const response = await venue.get(`/pickup/${String(rider).padStart(22, 'A')}`);
        assert.equal(response.statusCode, 404, `rider ${rider}`);
      }
      let limited = 0;
      for (let attempt = 0; attempt < 130; attempt++)
        if ((await venue.get('/pickup/BBBBBBBBBBBBBBBBBBBBBB')).statusCode === 429) limited++;
      assert.equal(limited, 10, 'one link: 120 a minute');
    });
  });

  test('the passphrase screen of a mailed issue offers the bundle files for 15 minutes', async () => {
    await pickupPortal(async ({ portal, admin }) => {
      const issued = await admin.issue({ ...PERSON });
      const links = [...issued.page.body.matchAll(/href="(\/certificates\/\d+\/bundle\/[^"]+)"/g)].map((m) =>
        m[1]!.replace(/&amp;/g, '&'),
      );
      assert.equal(links.length, 2);
      const p12 = await admin.get(links[0]!);
      assert.equal(p12.statusCode, 200);
      assert.deepEqual(openBundle(p12.rawPayload, issued.passphrase!).commonNames[0], 'rider7');
      assert.equal((await admin.get(links[1]!)).statusCode, 200, 'more than once');
      portal.clock.advance(15 * 60_000);
      assert.equal((await admin.get(links[0]!)).statusCode, 404);
      assert.equal((await new Browser(portal).get(links[0]!)).statusCode, 303, 'admins only');
    });
  });

  test('a bundle held for the admin is let go when its certificate is revoked', async () => {
    await pickupPortal(async ({ portal, admin }) => {
      const issued = await admin.issue({ ...PERSON });
      const links = [...issued.page.body.matchAll(/href="(\/certificates\/\d+\/bundle\/[^"]+)"/g)].map((m) =>
        m[1]!.replace(/&amp;/g, '&'),
      );
      assert.equal((await admin.get(links[0]!)).statusCode, 200);
      const revoked = await portal.services.enrollment.revoke(issued.id, 'keyCompromise', {
        name: 'admin',
        ip: '127.0.0.1',
      });
      assert.ok(revoked.ok);
      for (const link of links) assert.equal((await admin.get(link)).statusCode, 404, link);
      const page = await admin.get(issued.location);
      assert.doesNotMatch(page.body, /data-testid="bundle-downloads"/, 'no longer offered');
    });
  });

  test('HEAD uses nothing up: not a pickup file, not the pickup code, not the passphrase shown once', async () => {
    await pickupPortal(async ({ portal, admin }) => {
      // The admin's screens that show a secret once.
      const issued = await admin.submit('/certificates/new', '/certificates', { ...PERSON, device: 'tablet' });
      const passphraseUrl = String(issued.headers.location);
      assert.equal((await admin.request({ method: 'HEAD', url: passphraseUrl })).statusCode, 404);
      assert.match((await admin.get(passphraseUrl)).body, /data-testid="passphrase"/, 'still shown once');
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'qr' });
      const codeUrl = String(created.headers.location);
      assert.equal((await admin.request({ method: 'HEAD', url: codeUrl })).statusCode, 404);
      const screen = await admin.get(codeUrl);
      const code = testId(screen.body, 'pickup-code')!;
      assert.match(code, /^\d{6}$/, 'still shown once');

      // A pickup file: HEAD marks nothing picked up, so Done still revokes what never left.
      const path = new URL(/http:\/\/enroll\.example\.org\/pickup\/[A-Za-z0-9_-]{22}/.exec(screen.body)![0]).pathname;
      const phone = new Phone(portal, ANDROID);
      const page = await phone.get(path);
      assert.equal((await phone.post(path, { _csrf: csrfTokenOf(page.body), code })).statusCode, 303);
      const guide = await phone.get(path);
      assert.equal((await phone.request({ method: 'HEAD', url: `${path}/files/p12` })).statusCode, 404);
      const delivery = () =>
        portal.db.prepare("SELECT status, delivery FROM certificates WHERE device = 'phone'").get();
      assert.deepEqual(delivery(), { status: 'active', delivery: 'pending' });
      assert.equal((await phone.post(`${path}/done`, { _csrf: csrfTokenOf(guide.body) })).statusCode, 303);
      assert.deepEqual(delivery(), { status: 'revoked', delivery: 'failed' });
      // GET still works where nothing is used up.
      assert.equal((await phone.request({ method: 'HEAD', url: '/ca.crt' })).statusCode, 200);
    });
  });

  test('the guide and the mail give the same steps from one catalog (words/en/steps.ts)', async () => {
    await pickupPortal(async ({ portal, admin, mailer }) => {
      await admin.issue({ ...PERSON, device: 'tablet', delivery: 'bundle' });
      const mail = String(mailer.messages.at(-1)!.parsed.text);
      const created = await admin.submit('/certificates/new', '/certificates', { ...PERSON, delivery: 'qr' });
      const screen = await admin.get(String(created.headers.location));
      const path = new URL(testId(screen.body, 'pickup-link')!).pathname;
      const phone = new Phone(portal, IPHONE);
      const page = await phone.get(path);
      const redeemed = await phone.post(path, {
        _csrf: csrfTokenOf(page.body),
        code: testId(screen.body, 'pickup-code')!,
      });
      assert.equal(redeemed.statusCode, 303);

      const { steps } = wordsFor();
      const server = { host: 'mqtt.example.org', port: 8883 };
      const context = (device: string, arrival: 'attachment' | 'download') => ({
        username: PERSON.username,
        device,
        files: { ...bundleFileNames(PERSON.username, device), ca: 'ca.crt' },
        server,
        arrival,
      });
      for (const os of ['ios', 'android'] as const) {
        const guide = (await phone.get(`${path}?os=${os}`)).body;
        assert.match(guide, new RegExp(`data-testid="guide-${os}"`));
        const shown = allTestIds(guide, 'step-action').map((action, i) => ({
          action,
          result: allTestIds(guide, 'step-result')[i],
        }));
        const picked = steps[os](context('phone', 'download')).steps;
        const mailed = steps[os](context('tablet', 'attachment')).steps;
        // The page renders the catalog's entries, in order, each with what the person should see now.
        assert.deepEqual(
          shown,
          picked.map(({ action, result }) => ({ action, result })),
        );
        assert.equal((guide.match(/What you should see now:/g) ?? []).length, picked.length);
        // The mail renders the same catalog's entries for attachments.
        for (const step of mailed) {
          assert.ok(mail.includes(step.action), `the mail says: ${step.action}`);
          assert.ok(mail.includes(step.result), `the mail says: ${step.result}`);
        }
        // And where the two paths do the same thing, the words are the same: the same entries.
        const same = shown.filter((step) => mail.includes(step.result));
        assert.ok(same.length >= 2, `${os}: ${same.length} results shared with the mail`);
      }
      // The texts both paths share, word for word.
      const guide = (await phone.get(`${path}?os=android`)).body;
      for (const text of [
        'In OwnTracks open Preferences › Connection, tap “Client certificate” and pick the certificate you installed.',
        'and in its TLS section tap “Install client certificate”. On Android 7 to 9',
        'Android says the certificate is installed.',
      ])
        assert.ok(mail.includes(text) && unescaped(guide).includes(text), text);
      const iphoneGuide = unescaped((await phone.get(`${path}?os=ios`)).body);
      for (const text of [
        'open Settings › Remote Control (tap ⓘ), switch on “Allow external configuration” and confirm with “Continue”',
        'The switch for the certificate is on.',
        'Start OwnTracks and leave it open',
      ])
        assert.ok(mail.includes(text) && iphoneGuide.includes(text), text);
    });
  });
});
