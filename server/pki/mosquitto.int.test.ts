// The whole PKI against a real Mosquitto: client certificates get in, the CN is the MQTT
// username, and a CRL re-read on SIGHUP keeps a revoked certificate out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mosquitto } from '../testing/mosquitto.js';
import { Scratch } from '../testing/openssl.js';
import { clientFiles, serverFiles, testCa } from '../testing/pki.js';
import { buildCrlPem } from './crl.js';

const DAY = 86400_000;

describe('with a real Mosquitto broker', () => {
  let broker: Mosquitto;
  let scratch: Scratch;
  let ca: Awaited<ReturnType<typeof testCa>>['ca'];
  before(async () => {
    ({ ca } = await testCa());
    scratch = new Scratch();
    const crl = buildCrlPem({
      ca,
      entries: [],
      crlNumber: 1n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + DAY),
    });
    broker = await Mosquitto.start({
      caFile: scratch.file('ca.crt', ca.certPem),
      crlFile: scratch.file('crl.pem', crl),
      ...(await serverFiles(scratch, ca)),
    });
  });
  after(() => broker?.stop());

  test('a client certificate publishes and a subscriber with the same CN receives: the CN is the username', async () => {
    const phone = await clientFiles(scratch, ca, 'jjolie', 'jjolie-phone');
    const laptop = await clientFiles(scratch, ca, 'jjolie', 'jjolie-laptop');
    const subscription = broker.subscribeOnce(laptop, 'owntracks/jjolie/#', 10);
    await subscription.ready;
    assert.equal(await broker.publish(phone, 'owntracks/jjolie/phone', 'hello from the phone'), true);
    assert.equal(await subscription.message, 'hello from the phone');
  });

  test("the ACL pattern keeps a user out of another user's topics", async () => {
    const mallory = await clientFiles(scratch, ca, 'mallory');
    const victim = await clientFiles(scratch, ca, 'victim');
    const subscription = broker.subscribeOnce(victim, 'owntracks/victim/#', 2);
    await subscription.ready;
    await broker.publish(mallory, 'owntracks/victim/phone', 'forged');
    assert.equal(await subscription.message, undefined);
  });

  test('after the CRL lists a certificate and the broker gets SIGHUP, it is refused; another still connects', async () => {
    const phone = await clientFiles(scratch, ca, 'alice', 'alice-phone');
    const tablet = await clientFiles(scratch, ca, 'alice', 'alice-tablet');
    assert.equal(await broker.publish(phone, 'owntracks/alice/phone', 'before'), true);
    scratch.file(
      'crl.pem',
      buildCrlPem({
        ca,
        entries: [{ serial: phone.cert.serial, revokedAt: new Date(), reason: 'keyCompromise' }],
        crlNumber: 2n,
        thisUpdate: new Date(),
        nextUpdate: new Date(Date.now() + DAY),
      }),
    );
    broker.reload();
    let refused = false;
    for (let attempt = 0; attempt < 50 && !refused; attempt++) {
      refused = !(await broker.publish(phone, 'owntracks/alice/phone', 'after'));
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(refused, true, `revoked certificate still accepted; broker said: ${broker.output}`);
    assert.equal(await broker.publish(tablet, 'owntracks/alice/tablet', 'still here'), true);
  });
});
