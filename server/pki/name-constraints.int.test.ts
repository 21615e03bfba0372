// A name-constrained CA against the real verifiers: OpenSSL refuses what the CA was not made for,
// even when the CA key signs it directly (a stolen key, a careless signature), and Mosquitto still
// lets in every valid username, dotted ones included, with the username taken from the CN.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Mosquitto } from '../testing/mosquitto.js';
import { openssl, Scratch } from '../testing/openssl.js';
import { TEST_CA_KEY_BITS } from '../testing/pki.js';
import { createCa, loadCa, type Ca } from './ca.js';
import { buildCrlPem } from './crl.js';
import { issueClientCertificate, issueServerCertificate } from './issue.js';
import { generateRsaKeyPair } from './keys.js';

const DAY = 86400_000;
const USERNAMES = ['jjolie', 'j.smith', 'a-b_c.d'];
const LISTED = { hosts: ['localhost', 'mqtt.example.org', 'mosquitto'], ips: ['127.0.0.1', '192.0.2.10'] };

let ca: Ca;
let scratch: Scratch;
let caFile: string;
let keys: Awaited<ReturnType<typeof generateRsaKeyPair>>;

before(async () => {
  const made = await createCa('Constrained Test CA', new Date(), TEST_CA_KEY_BITS, LISTED);
  ca = loadCa(made.certPem, made.keyPem, undefined, new Date());
  scratch = new Scratch();
  caFile = scratch.file('ca.crt', ca.certPem);
  keys = await generateRsaKeyPair(2048);
});

/** Signs a server certificate with the CA key directly, as a thief of ca.key could: no use case, no rules. */
function serverCertFile(name: string, hosts: string[], ips: string[]) {
  const cert = issueServerCertificate({ ca, hosts, ips, publicKeyPem: keys.publicKeyPem, days: 30, now: new Date() });
  return scratch.file(`${name}.crt`, cert.pem);
}

function clientCertFile(name: string, username: string, signer: Ca = ca) {
  const cert = issueClientCertificate({
    ca: signer,
    username,
    publicKeyPem: keys.publicKeyPem,
    days: 30,
    now: new Date(),
  });
  return scratch.file(`${name}.crt`, cert.pem);
}

const verify = (file: string, purpose: 'sslserver' | 'sslclient') =>
  openssl(['verify', '-CAfile', caFile, '-purpose', purpose, file]);

describe('a CA made with server names carries critical name constraints', () => {
  test('openssl shows them: the listed names, the client name, other address families excluded', async () => {
    const shown = await openssl(['x509', '-in', caFile, '-noout', '-ext', 'nameConstraints']);
    assert.equal(shown.ok, true, shown.stderr);
    assert.match(shown.stdout, /Name Constraints: critical/);
    for (const line of ['DNS:localhost', 'DNS:mqtt.example.org', 'DNS:mosquitto', 'DNS:client.invalid'])
      assert.ok(shown.stdout.includes(line), `${line} in ${shown.stdout}`);
    assert.match(shown.stdout, /IP:127\.0\.0\.1\/255\.255\.255\.255/);
    assert.match(shown.stdout, /Excluded:\s+IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/);
    assert.deepEqual(ca.nameConstraints?.permittedDns, [
      'localhost',
      'mqtt.example.org',
      'mosquitto',
      'client.invalid',
    ]);
  });

  test('openssl refuses a server certificate signed by the CA key for a name or address it was not made for', async () => {
    for (const [name, hosts, ips] of [
      ['evil', ['evil.example'], []],
      ['evil-suffix', ['mqtt.example.org.evil.example'], []],
      ['bank', ['www.bank.example'], []],
      ['unlisted-ip', [], ['198.51.100.7']],
      ['unlisted-v6', [], ['2001:db8::1']],
      ['mixed', ['mqtt.example.org', 'evil.example'], []],
    ] as const) {
      const result = await verify(serverCertFile(name, [...hosts], [...ips]), 'sslserver');
      assert.equal(result.ok, false, `${name} was accepted`);
      assert.match(result.stdout + result.stderr, /subtree violation/, name);
    }
  });

  test('openssl accepts server certificates for the listed names and addresses, and names below them', async () => {
    for (const [name, hosts, ips] of [
      ['listed', ['mqtt.example.org', 'mosquitto', 'localhost'], ['127.0.0.1', '192.0.2.10']],
      ['below', ['eu.mqtt.example.org'], []],
    ] as const) {
      const result = await verify(serverCertFile(name, [...hosts], [...ips]), 'sslserver');
      assert.equal(result.ok, true, `${name}: ${result.stdout}${result.stderr}`);
    }
  });

  test('client certificates for every username shape verify, dotted ones included', async () => {
    for (const username of USERNAMES) {
      const result = await verify(clientCertFile(`client-${username}`, username), 'sslclient');
      assert.equal(result.ok, true, `${username}: ${result.stdout}${result.stderr}`);
    }
  });

  test('without the client DNS name, openssl takes a dotted CN for a host name and refuses it (why it is there)', async () => {
    // The same CA key, signing the client profile without its subjectAltName.
    const bare = { ...ca, nameConstraints: null };
    const results = Object.fromEntries(
      await Promise.all(
        USERNAMES.map(async (u) => [u, (await verify(clientCertFile(`bare-${u}`, u, bare), 'sslclient')).ok] as const),
      ),
    );
    assert.deepEqual(results, { jjolie: true, 'j.smith': false, 'a-b_c.d': false });
  });
});

describe('a constrained CA with a real Mosquitto broker', () => {
  let broker: Mosquitto;
  before(async () => {
    const serverKeys = await generateRsaKeyPair(2048);
    const server = issueServerCertificate({
      ca,
      hosts: ['localhost'],
      ips: ['127.0.0.1'],
      publicKeyPem: serverKeys.publicKeyPem,
      days: 30,
      now: new Date(),
    });
    const crl = buildCrlPem({
      ca,
      entries: [],
      crlNumber: 1n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + DAY),
    });
    broker = await Mosquitto.start({
      caFile,
      crlFile: scratch.file('crl.pem', crl),
      serverCert: scratch.file('server.crt', server.pem),
      serverKey: scratch.file('server.key', serverKeys.privateKeyPem),
    });
  });
  after(() => broker?.stop());

  const identity = (name: string, username: string, signer: Ca = ca) => ({
    certFile: clientCertFile(name, username, signer),
    keyFile: scratch.file(`${name}.key`, keys.privateKeyPem),
  });

  for (const username of USERNAMES) {
    test(`${username} connects, and the broker takes the username from the CN (the ACL lets it use only its own topics)`, async () => {
      const phone = identity(`mq-${username}-phone`, username);
      const laptop = identity(`mq-${username}-laptop`, username);
      const subscription = broker.subscribeOnce(laptop, `owntracks/${username}/#`, 10);
      await subscription.ready;
      assert.equal(
        await broker.publish(phone, `owntracks/${username}/phone`, `hello ${username}`),
        true,
        broker.output,
      );
      assert.equal(await subscription.message, `hello ${username}`);
    });
  }

  test('a dotted username without the client DNS name is refused by the broker', async () => {
    const bare = identity('mq-bare-j.smith', 'j.smith', { ...ca, nameConstraints: null });
    assert.equal(await broker.publish(bare, 'owntracks/j.smith/phone', 'refused'), false);
  });
});
