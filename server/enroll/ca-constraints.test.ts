// The CA's name constraints as the portal applies them: which names CA_SERVER_NAMES gives a new CA,
// how they are read back, the Broker page's refusal of a name outside them, and what it says about
// a CA without them (made before, or imported).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadConfig } from '../config.js';
import { dataFiles } from '../data-dir.js';
import { createCa, exportCaKey, loadCa } from '../pki/ca.js';
import {
  CLIENT_DNS_NAME,
  nameConstraintsExtension,
  permitsName,
  permittedNames,
  serverNameConstraints,
} from '../pki/name-constraints.js';
import { Browser, withPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { TEST_CA_KEY_BITS } from '../testing/pki.js';
import { brokerNameOutsideCa } from './ca-store.js';
import { namesOutsideCa } from './rules.js';

describe('CA_SERVER_NAMES', () => {
  test('a new CA permits the listed names, MQTT_HOST and the loopback names; nothing else', () => {
    const config = loadConfig({
      CA_SERVER_NAMES: 'mqtt.example.org, 192.0.2.10 Mosquitto',
      MQTT_HOST: 'broker.example.net',
    });
    assert.deepEqual(config.caServerNames, {
      hosts: ['localhost', 'broker.example.net', 'mqtt.example.org', 'mosquitto'],
      ips: ['127.0.0.1', '::1', '192.0.2.10'],
    });
    assert.deepEqual(loadConfig({}).caServerNames, { hosts: ['localhost'], ips: ['127.0.0.1', '::1'] });
  });

  test('a name that is neither a host name nor an address stops the start, naming the variable', () => {
    assert.throws(
      () => loadConfig({ CA_SERVER_NAMES: 'mqtt.example.org,*.example.org' }),
      /CA_SERVER_NAMES.*host names \(mqtt\.example\.org\) or IP addresses/,
    );
  });
});

describe('name constraints', () => {
  const constraints = serverNameConstraints({ hosts: ['mqtt.example.org', 'mosquitto'], ips: ['192.0.2.10'] });

  test("the phones' address outside the CA's names is said at start (MQTT_HOST set after the first start)", () => {
    const ca = { nameConstraints: constraints };
    assert.equal(brokerNameOutsideCa(ca, 'mqtt.example.org'), undefined);
    assert.equal(brokerNameOutsideCa(ca, '192.0.2.10'), undefined);
    assert.equal(brokerNameOutsideCa(ca, undefined), undefined, 'no MQTT_HOST: nothing to say');
    assert.match(
      brokerNameOutsideCa(ca, 'broker.example.net') ?? '',
      /^broker\.example\.net is outside what this CA may sign for/,
    );
    assert.match(brokerNameOutsideCa(ca, '198.51.100.4') ?? '', /^198\.51\.100\.4 is outside/);
    assert.equal(brokerNameOutsideCa({ nameConstraints: null }, 'anything.example'), undefined, 'an unconstrained CA');
  });

  test('permit the listed names and the names below them, the client name, and no other name', () => {
    for (const name of ['mqtt.example.org', 'MQTT.example.org', 'eu.mqtt.example.org', 'mosquitto', CLIENT_DNS_NAME])
      assert.equal(permitsName(constraints, name), true, name);
    for (const name of ['evil.example', 'example.org', 'xmqtt.example.org', 'mqtt.example.org.evil.example'])
      assert.equal(permitsName(constraints, name), false, name);
  });

  test('permit the listed addresses only; a family with none listed is excluded whole', () => {
    assert.equal(permitsName(constraints, '192.0.2.10'), true);
    assert.equal(permitsName(constraints, '192.0.2.11'), false);
    assert.equal(permitsName(constraints, '2001:db8::1'), false);
    const none = serverNameConstraints({ hosts: ['localhost'], ips: [] });
    assert.equal(permitsName(none, '127.0.0.1'), false);
    assert.equal(permitsName(none, '::1'), false);
    const v6 = serverNameConstraints({ hosts: [], ips: ['2001:db8::1'] });
    assert.equal(permitsName(v6, '2001:db8::1'), true);
    assert.equal(permitsName(v6, '2001:db8::2'), false);
    assert.equal(permitsName(v6, '192.0.2.10'), false);
  });

  test('survive a round trip through the certificate, and read as people write them', async () => {
    const made = await createCa('Round Trip CA', new Date(), TEST_CA_KEY_BITS, {
      hosts: ['mqtt.example.org'],
      ips: ['192.0.2.10', '2001:db8::1'],
    });
    const ca = loadCa(made.certPem, made.keyPem, undefined, new Date());
    assert.deepEqual(permittedNames(ca.nameConstraints!), ['mqtt.example.org', '192.0.2.10', '2001:db8::1']);
    assert.deepEqual(ca.nameConstraints!.excludedIps, []);
    assert.equal(typeof nameConstraintsExtension(ca.nameConstraints!), 'object');
    const plain = await createCa('Plain CA', new Date(), TEST_CA_KEY_BITS);
    assert.equal(loadCa(plain.certPem, plain.keyPem, undefined, new Date()).nameConstraints, null);
  });

  test('the server-name rule explains what the CA may sign for, per field', () => {
    const issues = namesOutsideCa(constraints, { hosts: ['mqtt.example.org', 'evil.example'], ips: ['198.51.100.7'] });
    assert.match(
      issues['hosts']!,
      /^evil\.example is outside what this CA may sign for \(mqtt\.example\.org, mosquitto, 192\.0\.2\.10\)/,
    );
    assert.match(issues['hosts']!, /CA_SERVER_NAMES/);
    assert.match(issues['ips']!, /^198\.51\.100\.7 is outside/);
    assert.deepEqual(namesOutsideCa(null, { hosts: ['evil.example'], ips: [] }), {});
  });
});

describe('the Broker page', () => {
  test('under a constrained CA: names the permitted names, refuses another, issues a listed one', async () => {
    const dataDir = tempDir();
    const made = await createCa('Constrained CA', new Date(), TEST_CA_KEY_BITS, {
      hosts: ['localhost', 'mqtt.example.org'],
      ips: ['127.0.0.1'],
    });
    const files = dataFiles(dataDir);
    writeFileSync(files.caKey, exportCaKey(loadCa(made.certPem, made.keyPem, undefined, new Date()).key), {
      mode: 0o600,
    });
    writeFileSync(files.caCert, made.certPem);
    await withPortal({ dataDir }, async (portal) => {
      assert.equal(portal.services.enrollment.setup().caConstrained, true);
      const browser = new Browser(portal);
      await browser.signIn();
      const page = await browser.get('/broker');
      assert.match(
        page.body,
        /CA is name-constrained: it can sign server certificates only for <code>localhost<\/code>, <code>mqtt\.example\.org<\/code>, <code>127\.0\.0\.1<\/code>/,
      );
      const bad = await browser.submit('/broker', '/broker/server-cert', { hosts: 'evil.example', ips: '10.0.0.1' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /id="e-hosts">evil\.example is outside what this CA may sign for/);
      assert.match(bad.body, /id="e-ips">10\.0\.0\.1 is outside what this CA may sign for/);
      assert.equal(portal.db.prepare('SELECT count(*) FROM server_certificates').pluck().get(), 0);
      const good = await browser.submit('/broker', '/broker/server-cert', { hosts: 'mqtt.example.org', ips: '' });
      assert.equal(good.statusCode, 303);
      assert.match((await browser.get(String(good.headers.location))).body, /Server certificate issued/);
    });
  });

  test('under an unconstrained CA (made before, or imported): says so, and what moving means', async () => {
    await withPortal({}, async (portal) => {
      assert.equal(portal.services.enrollment.setup().caConstrained, false);
      const browser = new Browser(portal);
      await browser.signIn();
      const page = await browser.get('/broker');
      assert.match(
        page.body,
        /This CA is unconstrained: phones that trust it would accept a certificate it signs for any website/,
      );
      assert.match(page.body, /enrolling every phone again/);
    });
  });
});
