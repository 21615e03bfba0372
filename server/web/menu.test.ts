// The menu marks the section a page belongs to (aria-current), also on a page below it and on a form
// sent back with its errors from the path it was posted to (issue 15: after an error the menu
// highlighted the wrong page, or none).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Browser, withPortal } from '../testing/harness.js';

/** The menu entries marked as the current page. */
const marked = (html: string) =>
  [...html.matchAll(/<a href="[^"]+" aria-current="page">([^<]+)<\/a>/g)].map((match) => match[1]!);

test('the menu marks the section of every page, and of a form answered with its errors', async () => {
  await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' } }, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    const { id } = await browser.issue({ username: 'alice', email: 'alice@example.org', device: 'phone', days: '30' });
    const invited = await browser.submit('/certificates/new', '/certificates', {
      username: 'bob',
      email: 'bob@example.org',
      device: 'phone',
      days: '30',
      delivery: 'link',
    });
    assert.equal(invited.statusCode, 303);
    const serverCert = await browser.submit('/broker', '/broker/server-cert', { hosts: 'localhost', ips: '' });
    assert.equal(serverCert.statusCode, 303);

    const pages: Array<[string, () => Promise<{ statusCode: number; body: string }>, string]> = [
      ['the list', () => browser.get('/certificates'), 'Certificates'],
      ['a certificate', () => browser.get(`/certificates/${id}`), 'Certificates'],
      ['a person', () => browser.get('/people/alice'), 'Certificates'],
      ['the issue form', () => browser.get('/certificates/new'), 'Issue'],
      [
        'the issue form with errors',
        () => browser.submit('/certificates/new', '/certificates', { username: 'Bad Name', email: 'x', days: '0' }),
        'Issue',
      ],
      ['an invitation', () => browser.get(String(invited.headers.location)), 'Pickups'],
      ['a server certificate issued', () => browser.get(String(serverCert.headers.location)), 'Broker'],
      [
        'the broker form with errors',
        () => browser.submit('/broker', '/broker/server-cert', { hosts: 'not a host!' }),
        'Broker',
      ],
      [
        'the settings form with errors',
        () => browser.submit('/settings', '/settings/broker-address', { host: 'not a host!', port: '8883' }),
        'Settings',
      ],
      [
        'the address form with errors',
        () => browser.submit('/people/alice', '/people/alice/email', { email: 'not an address' }),
        'Certificates',
      ],
      ['the groups', () => browser.get('/groups'), 'Groups'],
      ['the backups', () => browser.get('/backups'), 'Backups'],
    ];
    const found: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const [name, response, section] of pages) {
      found[name] = marked((await response()).body);
      expected[name] = [section];
    }
    assert.deepEqual(found, expected);
  });
});
