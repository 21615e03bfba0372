// The access log keeps no one-time secret: passphrase tickets and link tokens in a query string
// are redacted from every logged URL.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactUrl } from './logging.js';
import { Browser, withPortal } from './testing/harness.js';
import { MemoryMailer } from './testing/mailer.js';

describe('logged URLs', () => {
  test('ticket and token values are redacted wherever they stand in the query', () => {
    const cases: Array<[string, string]> = [
      ['/certificates/7/issued?ticket=abc', '/certificates/7/issued?ticket=[redacted]'],
      ['/setup?token=abc&x=1', '/setup?token=[redacted]&x=1'],
      ['/x?a=1&Ticket=abc#frag', '/x?a=1&Ticket=[redacted]#frag'],
      ['/x?ticket=a&token=b&ticket=c', '/x?ticket=[redacted]&token=[redacted]&ticket=[redacted]'],
      ['/x?tickets=keep&myticket=keep', '/x?tickets=keep&myticket=keep'],
      ['/x?ticket', '/x?ticket'],
      ['/certificates?q=ticket=abc', '/certificates?q=ticket=abc'],
      ['/x?%74icket=abc', '/x?%74icket=[redacted]'],
      ['/x;ticket=abc', '/x;ticket=abc'],
    ];
    for (const [url, expected] of cases) assert.equal(redactUrl(url), expected, url);
  });

  test("a pickup link's token in the path and the admin's download ticket are redacted", () => {
    const cases: Array<[string, string]> = [
      ['/pickup/AbCdEfGhIjKlMnOpQrStUv', '/pickup/[redacted]'],
      ['/pickup/AbCdEfGhIjKlMnOpQrStUv?os=android', '/pickup/[redacted]?os=android'],
      ['/pickup/AbCdEfGhIjKlMnOpQrStUv/files/p12', '/pickup/[redacted]/files/p12'],
      ['/pickup/finished', '/pickup/finished'],
      ['/certificates/7/bundle/a.p12?download=abc', '/certificates/7/bundle/a.p12?download=[redacted]'],
      ['/certificates/7/issued?ticket=a&download=b', '/certificates/7/issued?ticket=[redacted]&download=[redacted]'],
      // The sign-in page's next= carries the URL asked for, tickets and all.
      [
        '/login?next=%2Fcertificates%2F1%2Fissued%3Fticket%3Dabc%26download%3Ddef',
        `/login?next=${encodeURIComponent('/certificates/1/issued?ticket=[redacted]&download=[redacted]')}`,
      ],
      ['/login?next=%2Fcertificates%3Fq%3Dalice', '/login?next=%2Fcertificates%3Fq%3Dalice'],
      [
        `/login?next=${encodeURIComponent(`/login?next=${encodeURIComponent('/x?token=t')}`)}`,
        `/login?next=${encodeURIComponent(`/login?next=${encodeURIComponent('/x?token=[redacted]')}`)}`,
      ],
    ];
    for (const [url, expected] of cases) assert.equal(redactUrl(url), expected, url);
  });

  test("a just-issued certificate's passphrase ticket is not in the access log", async () => {
    await withPortal({ env: { LOG_LEVEL: 'trace' }, deps: { mailer: new MemoryMailer() } }, async (portal) => {
      const browser = new Browser(portal);
      await browser.signIn();
      const { location, passphrase } = await browser.issue({ username: 'alice', email: 'a@example.org', days: '30' });
      assert.ok(passphrase, 'the result page showed the passphrase');
      const ticket = new URL(location, 'http://x').searchParams.get('ticket')!;
      assert.ok(ticket.length >= 16);
      const download = new URL(location, 'http://x').searchParams.get('download')!;
      // The same address opened signed out (another tab, an expired session): the sign-in page's
      // next= carries it, tickets and all.
      const signedOut = new Browser(portal);
      const toLogin = await signedOut.get(location);
      assert.equal(toLogin.statusCode, 303);
      assert.equal((await signedOut.get(String(toLogin.headers.location))).statusCode, 200);
      const log = portal.logs.join('\n');
      assert.ok(!log.includes(download), 'the download ticket is nowhere in the log');
      assert.ok(log.includes('/issued?ticket=[redacted]'), 'the request is logged, without its ticket');
      assert.ok(!log.includes(ticket), 'the ticket is nowhere in the log');
      assert.ok(!log.includes(passphrase), 'nor the passphrase');
    });
  });
});
