// The broker link's pieces that need no broker: BROKER_CONTROL_URL as the configuration reads it,
// and the topic filters its subscribers are matched by.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../config.js';
import { Browser, withPortal } from '../testing/harness.js';
import { tempDir } from '../testing/temp-dir.js';
import { topicMatches } from './link.js';

describe('BROKER_CONTROL_URL', () => {
  test('unset: no broker link', () => {
    assert.equal(loadConfig({}).brokerControl, undefined);
  });

  test('unset: /healthz names no broker, and the Broker page offers the acl_file setup and says there is no link', async () => {
    await withPortal({}, async (portal) => {
      assert.equal(portal.services.broker, undefined);
      const health = await portal.app.inject({ url: '/healthz' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().checks.broker, undefined);
      assert.equal(health.json().brokerLink, undefined);
      const browser = new Browser(portal);
      await browser.signIn();
      const page = (await browser.get('/broker')).body;
      assert.match(page, /No broker link: set BROKER_CONTROL_URL/);
      assert.match(page, /acl_file \/etc\/mosquitto\/acl/);
      assert.match(page, /pattern readwrite owntracks\/%u\/#/);
      assert.doesNotMatch(page, /data-testid="broker-link-status"/);
      assert.equal((await browser.submit('/broker', '/broker/reconcile', {})).statusCode, 404);
    });
  });

  test('mqtt:// with a user and password; the probe goes to the same host at MQTT_PORT unless told', () => {
    const control = loadConfig({
      BROKER_CONTROL_URL: 'mqtt://enroll:p%40ss@mosquitto:1884',
      MQTT_PORT: '8883',
    }).brokerControl!;
    assert.deepEqual(
      { ...control },
      {
        url: 'mqtt://mosquitto:1884',
        host: 'mosquitto',
        port: 1884,
        tls: false,
        username: 'enroll',
        password: 'p@ss',
        probe: { host: 'mosquitto', port: 8883 },
      },
    );
    const tls = loadConfig({
      BROKER_CONTROL_URL: 'mqtts://enroll:secret@broker.example.org',
      BROKER_PROBE_URL: 'mqtts://10.0.0.5:18883',
    }).brokerControl!;
    assert.equal(tls.port, 8883);
    assert.equal(tls.tls, true);
    assert.deepEqual(tls.probe, { host: '10.0.0.5', port: 18883 });
  });

  test('BROKER_CONTROL_URL_FILE: the URL from a file, as the Compose init service writes it (with a newline)', () => {
    const file = path.join(tempDir(), 'url');
    writeFileSync(file, 'mqtt://enroll-control:s3cret@mosquitto:1884\n', { mode: 0o600 });
    const control = loadConfig({ BROKER_CONTROL_URL_FILE: file }).brokerControl!;
    assert.equal(control.url, 'mqtt://mosquitto:1884');
    assert.equal(control.username, 'enroll-control');
    assert.equal(control.password, 's3cret');
    assert.throws(
      () => loadConfig({ BROKER_CONTROL_URL_FILE: file, BROKER_CONTROL_URL: 'mqtt://a:b@c:1' }),
      /BROKER_CONTROL_URL or BROKER_CONTROL_URL_FILE, not both/,
    );
    writeFileSync(file, 'mqtt://enroll-control@mosquitto:1884\n');
    assert.throws(
      () => loadConfig({ BROKER_CONTROL_URL_FILE: file }),
      (error: Error) => /^Configuration error: BROKER_CONTROL_URL: must/.test(error.message),
    );
  });

  for (const value of [
    'http://enroll:secret@mosquitto:1884',
    'mqtt://mosquitto:1884',
    'mqtt://enroll@mosquitto:1884',
    'not a url',
  ])
    test(`refuses ${value} in one line that does not repeat it`, () => {
      assert.throws(
        () => loadConfig({ BROKER_CONTROL_URL: value }),
        (error: Error) => {
          assert.match(error.message, /^Configuration error: BROKER_CONTROL_URL: must/);
          assert.doesNotMatch(error.message, /secret|\n/);
          return true;
        },
      );
    });

  test('BROKER_PROBE_URL is the TLS listener: mqtts:// only', () => {
    assert.throws(
      () => loadConfig({ BROKER_PROBE_URL: 'mqtt://mosquitto:1883' }),
      /BROKER_PROBE_URL: must be an mqtts/,
    );
  });
});

describe('topic filters', () => {
  const cases: Array<[string, string, boolean]> = [
    ['owntracks/+/+', 'owntracks/alice/phone', true],
    ['owntracks/+/+', 'owntracks/alice/phone/event', false],
    ['owntracks/#', 'owntracks', true],
    ['owntracks/#', 'owntracks/alice/phone/cmd', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$CONTROL/dynamic-security/v1/response', '$CONTROL/dynamic-security/v1/response', true],
    ['owntracks/alice/#', 'owntracks/bob/phone', false],
  ];
  for (const [filter, topic, expected] of cases)
    test(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () =>
      assert.equal(topicMatches(filter, topic), expected));

  /** The rules spelled out on split levels: what the in-place matcher must agree with. */
  function bySplitting(filter: string, topic: string): boolean {
    const f = filter.split('/');
    const t = topic.split('/');
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return !(i === 0 && topic.startsWith('$'));
      if (i >= t.length) return false;
      if (f[i] === '+') {
        if (i === 0 && t[0]!.startsWith('$')) return false;
        continue;
      }
      if (f[i] !== t[i]) return false;
    }
    return f.length === t.length;
  }

  test('agrees with the rules on split levels for every filter and topic', () => {
    // Few characters, so that levels collide often: empty levels, `$`, wildcards inside a level.
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '/', '+', '#', '$'), maxLength: 12 });
    // And pairs made from the same levels, a few replaced by wildcards in the filter or changed in
    // the topic, so that most of them match or nearly do.
    const level = fc.string({ unit: fc.constantFrom('a', 'b', '$'), maxLength: 3 });
    const related = fc
      .array(fc.tuple(level, fc.constantFrom('same', 'same', '+', '#', 'other'), level), { minLength: 1, maxLength: 5 })
      .chain((levels) =>
        fc.tuple(
          fc.constant(levels.map(([name, change]) => (change === '+' || change === '#' ? change : name)).join('/')),
          fc.constant(levels.map(([name, change, other]) => (change === 'other' ? other : name)).join('/')),
          fc.constantFrom('', '/a', '/a/b'),
        ),
      )
      .map(([filter, topic, extra]) => [filter, topic + extra] as const);
    fc.assert(
      fc.property(fc.oneof(fc.tuple(text, text), related), ([filter, topic]) => {
        assert.equal(topicMatches(filter, topic), bySplitting(filter, topic), `${filter} against ${topic}`);
      }),
      { numRuns: 20_000 },
    );
  });
});
