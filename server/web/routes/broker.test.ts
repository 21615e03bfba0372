// The broker's server certificate through the Broker page: the POST answers with a redirect, so a
// reload of the result page shows the same certificate instead of issuing another, and the key and
// certificate download as files (the key only while the portal holds it in memory, ten minutes).
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { Browser, withPortal } from '../../testing/harness.js';

test('issuing a server certificate redirects; reloading the result issues nothing; key and certificate download', async () => {
  await withPortal({}, async (portal) => {
    const browser = new Browser(portal);
    await browser.signIn();
    const count = () => portal.db.prepare('SELECT count(*) FROM server_certificates').pluck().get();
    const posted = await browser.submit('/broker', '/broker/server-cert', { hosts: 'mqtt.example.org', ips: '' });
    assert.equal(posted.statusCode, 303);
    const location = String(posted.headers.location);
    assert.match(location, /^\/broker\/server-cert\/\d+\/issued\?ticket=/);

    const first = await browser.get(location);
    const again = await browser.get(location); // the browser's reload
    assert.equal(count(), 1, 'a reload issues nothing');
    for (const page of [first, again]) {
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Server certificate issued/);
    }
    const serial = /serial <span class="mono">([0-9a-f]+)</.exec(first.body)![1]!;

    const keyLink = /href="([^"]+)"[^>]*>Download server\.key/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const crtLink = /href="([^"]+)"[^>]*>Download server\.crt/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const key = await browser.get(keyLink);
    const crt = await browser.get(crtLink);
    assert.equal(key.statusCode, 200);
    assert.match(String(key.headers['content-disposition']), /attachment; filename="server\.key"/);
    assert.match(String(crt.headers['content-disposition']), /attachment; filename="server\.crt"/);
    assert.equal(key.headers['cache-control'], 'no-store');
    const certificate = new X509Certificate(crt.body);
    assert.equal(certificate.serialNumber.toLowerCase().replace(/^0+/, ''), serial.replace(/^0+/, ''));
    assert.equal(
      createPublicKey(createPrivateKey(key.body)).export({ format: 'pem', type: 'spki' }),
      certificate.publicKey.export({ format: 'pem', type: 'spki' }),
      'the key belongs to the certificate',
    );
    assert.equal(count(), 1);

    // The key is only in memory: not for another admin's guess, and gone after its time.
    assert.equal((await browser.get(keyLink.replace(/ticket=[^&]+/, 'ticket=guessed'))).statusCode, 404);
    portal.clock.advance(11 * 60_000);
    assert.equal((await browser.get(keyLink)).statusCode, 404);
    const late = await browser.get(location);
    assert.doesNotMatch(late.body, /BEGIN PRIVATE KEY/);
    assert.equal((await browser.get(crtLink)).statusCode, 200, 'the certificate is public and stays');
  });
});
