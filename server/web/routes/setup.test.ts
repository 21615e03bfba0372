// The one-time setup link that creates the first admin.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setupBanner } from '../../accounts/setup-token.js';
import { Browser, withPortal } from '../../testing/harness.js';

function setupLink(logs: string[]): string {
  const line = logs.find((entry) => entry.includes('/setup?token='));
  assert.ok(line, 'the log prints a setup link');
  const url = new URL(/(http:\/\/\S+\/setup\?token=[\w-]+)/.exec(line)![1]!);
  return url.pathname + url.search;
}

describe('first admin through the setup link', () => {
  test('the link is printed as a banner a person sees: the URL alone on its line, set apart', async () => {
    await withPortal({ withAdmin: false }, async (portal) => {
      const link = portal.services.accounts.setupLink();
      assert.ok(link);
      assert.equal(new URL(link).pathname + new URL(link).search, setupLink(portal.logs));
      const lines = setupBanner(link).split('\n');
      assert.ok(lines.includes(`  ${link}`), 'the URL on a line of its own');
      assert.match(lines[1]!, /^-{40,}$/);
      assert.equal(lines[0], '', 'a blank line before it');
      const browser = new Browser(portal);
      const token = new URL(link).searchParams.get('token')!;
      await browser.submit(`/setup?token=${token}`, '/setup', {
        token,
        username: 'owner',
        password: 'a long password!',
        confirm: 'a long password!',
      });
      assert.equal(portal.services.accounts.setupLink(), undefined, 'no banner once an admin exists');
    });
  });

  test('the link creates the first admin once, then dies', async () => {
    await withPortal({ withAdmin: false }, async (portal) => {
      const link = setupLink(portal.logs);
      const browser = new Browser(portal);
      assert.equal((await browser.get('/setup?token=wrong')).statusCode, 404);

      const mismatch = await browser.submit(link, '/setup', {
        token: new URL(link, 'http://x').searchParams.get('token')!,
        username: 'owner',
        password: 'a long password!',
        confirm: 'another one!!',
      });
      assert.equal(mismatch.statusCode, 400);
      assert.match(mismatch.body, /The passwords do not match/);
      assert.equal(portal.db.prepare('SELECT count(*) FROM admins').pluck().get(), 0);

      const token = new URL(link, 'http://x').searchParams.get('token')!;
      const created = await browser.submit(link, '/setup', {
        token,
        username: 'owner',
        password: 'a long password!',
        confirm: 'a long password!',
      });
      assert.equal(created.statusCode, 303);
      assert.equal(created.headers.location, '/login?created=1');
      assert.equal(portal.db.prepare('SELECT username FROM admins').pluck().get(), 'owner');

      assert.equal((await browser.get(link)).statusCode, 404, 'the link is dead');
      const again = await browser.submit('/login', '/setup', {
        token,
        username: 'intruder',
        password: 'a long password!',
        confirm: 'a long password!',
      });
      assert.equal(again.statusCode, 404);
      assert.equal(portal.db.prepare('SELECT count(*) FROM admins').pluck().get(), 1);
      assert.equal((await browser.signIn('owner', 'a long password!')).statusCode, 303);
      assert.ok(
        !portal.logs.some((line) => line.includes(token) && line.includes('"url"')),
        'the token is not logged with requests',
      );
    });
  });

  test('no setup link when ADMIN_USERNAME creates the admin', async () => {
    await withPortal({}, async (portal) => {
      assert.ok(!portal.logs.some((line) => line.includes('/setup?token=')));
      assert.equal(portal.db.prepare('SELECT count(*) FROM admins').pluck().get(), 1);
    });
  });
});
