// The presence recorder against the real repository on a migrated database, with a clock the test
// moves: what is recorded for which topic, the throttle (one write per device per minute, held in
// memory between), the flush on stop, and hostile payloads and topics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openDataDir } from '../data-dir.js';
import { certificatesRepository } from '../db/certificates.js';
import { presenceRepository } from '../db/presence.js';
import { usersRepository } from '../db/users.js';
import { tempDir } from '../testing/temp-dir.js';
import {
  isLastWill,
  MAX_PARSED_BYTES,
  PRESENCE_TOPIC,
  PresenceRecorder,
  SWEEP_EVERY_MS,
  WRITE_EVERY_MS,
  WRITES_PER_STEP,
  type IncomingMessage,
  type MessageSource,
} from './presence.js';

const START = new Date('2026-11-27T12:00:00.000Z');
const LOCATION = Buffer.from('{"_type":"location","lat":52.1,"lon":4.3,"tst":1764244800,"tid":"al"}');
const LAST_WILL = Buffer.from('{"_type":"lwt","tst":1764244000}');

function setup() {
  const db = openDataDir(tempDir());
  const users = usersRepository(db);
  const certificates = certificatesRepository(db);
  const certify = (username: string, device: string | null) => {
    const user = users.find(username) ?? users.create(username, `${username}@example.org`, START);
    certificates.insert({
      user_id: user.id,
      serial: `${username}-${device}-${Math.random()}`,
      device,
      fingerprint_sha256: 'x',
      pem: 'x',
      key_bits: 2048,
      not_before: START.toISOString(),
      not_after: '2027-11-27T00:00:00.000Z',
      bundle_format: 'compatible',
      issued_by: 'test',
      issued_at: START.toISOString(),
    });
    return user.id;
  };
  const alice = certify('alice', 'pixel');
  const bob = certify('bob', null);
  const store = presenceRepository(db);
  let writes = 0;
  const queries: number[] = [];
  const counting = {
    devicesAfter: (afterId: number, limit: number) => {
      queries.push(afterId);
      return store.devicesAfter(afterId, limit);
    },
    write: (rows: Parameters<typeof store.write>[0]) => {
      writes += rows.length;
      store.write(rows);
    },
  };
  let current = START.getTime();
  const clock = { now: () => new Date(current), advance: (ms: number) => (current += ms) };
  const recorder = new PresenceRecorder(counting, { now: clock.now });
  const rows = () => db.prepare('SELECT * FROM device_presence ORDER BY user_id, device').all();
  const message = (topic: string, payload: Buffer = LOCATION, retain = false): IncomingMessage => ({
    topic,
    payload,
    retain,
  });
  return { db, store, recorder, clock, rows, message, alice, bob, certify, writes: () => writes, queries };
}

describe('presence recorder', () => {
  test('records a known device once per minute, holds the times between, and flushes on stop', () => {
    const { recorder, clock, store, message, alice, writes } = setup();
    const key = { userId: alice, device: 'pixel' };
    recorder.receive(message('owntracks/alice/pixel'));
    assert.equal(store.find(key), undefined, 'nothing written before the sweep');
    assert.equal(recorder.heldFor(key)?.lastMessageAt, START.toISOString(), 'held in memory at once');
    recorder.sweep();
    assert.equal(store.find(key)?.lastMessageAt, START.toISOString(), 'first sighting written at the next sweep');
    assert.equal(writes(), 1);

    // 100 messages over the next 59 s: no write; the held time moves on.
    for (let i = 0; i < 100; i++) {
      clock.advance(590);
      recorder.receive(message('owntracks/alice/pixel'));
      recorder.sweep();
    }
    assert.equal(writes(), 1, 'no second write within the minute');
    const heldAt = new Date(START.getTime() + 59_000).toISOString();
    assert.equal(recorder.heldFor(key)?.lastMessageAt, heldAt);
    assert.equal(store.find(key)?.lastMessageAt, START.toISOString());

    clock.advance(WRITE_EVERY_MS - 59_000);
    recorder.sweep();
    assert.equal(writes(), 2, 'written again once the minute is over');
    assert.equal(store.find(key)?.lastMessageAt, heldAt);

    clock.advance(1_000);
    recorder.receive(message('owntracks/alice/pixel', LAST_WILL));
    recorder.sweep();
    assert.equal(writes(), 2, 'a last will waits for the minute too');
    recorder.stop();
    assert.equal(writes(), 3, 'stop writes what is held');
    const stored = store.find(key)!;
    assert.equal(stored.lastWillAt, new Date(START.getTime() + 61_000).toISOString());
    assert.equal(stored.lastMessageAt, heldAt, 'a last will is not a message');
  });

  test('many devices due at once are written in steps of WRITES_PER_STEP, after one look at them all', () => {
    const { recorder, message, certify, rows, queries } = setup();
    const count = 3 * WRITES_PER_STEP + 10;
    for (let i = 0; i < count; i++) certify(`user${i}`, 'phone');
    for (let i = 0; i < count; i++) recorder.receive(message(`owntracks/user${i}/phone`));
    const looks = queries.length;
    for (let step = 1; step <= 3; step++) {
      assert.equal(recorder.sweep(), true, 'more are due');
      assert.equal(rows().length, step * WRITES_PER_STEP);
    }
    assert.equal(recorder.sweep(), false, 'the rest, and nothing after');
    assert.equal(rows().length, count);
    assert.equal(queries.length, looks + 1, 'one look (and one query for new certificates) for the four steps');
    assert.equal(recorder.sweep(), false);
    assert.equal(queries.length, looks + 2, 'the next sweep looks again');
  });

  test('a stop in the middle of a round leaves nothing queued: after a restart the first sweep looks at once', () => {
    const { recorder, message, certify, rows } = setup();
    const count = 2 * WRITES_PER_STEP;
    for (let i = 0; i < count; i++) certify(`user${i}`, 'phone');
    certify('late', 'phone');
    const source = { subscribe: () => undefined, unsubscribe: () => undefined };
    recorder.start(source);
    for (let i = 0; i < count; i++) recorder.receive(message(`owntracks/user${i}/phone`));
    assert.equal(recorder.sweep(), true, 'a second step is queued');
    recorder.stop(); // writes the rest
    assert.equal(rows().length, count);
    recorder.start(source);
    recorder.receive(message('owntracks/late/phone')); // first seen after the restart
    assert.equal(recorder.sweep(), false);
    assert.equal(rows().length, count + 1, 'written by the first sweep, not after a stale queue');
    recorder.stop();
  });

  test('an idle device is forgotten from memory once its minute is over', () => {
    const { recorder, clock, message } = setup();
    recorder.receive(message('owntracks/alice/pixel'));
    recorder.sweep();
    assert.equal(recorder.size, 1);
    clock.advance(WRITE_EVERY_MS);
    recorder.sweep();
    assert.equal(recorder.size, 0);
  });

  test('a certificate without a device name takes whatever deviceId its app chose', () => {
    const { recorder, store, message, bob, rows } = setup();
    recorder.receive(message('owntracks/bob/phone'));
    recorder.receive(message('owntracks/bob/iphone-of-bob'));
    recorder.flush();
    assert.equal(store.find({ userId: bob, device: '' })?.lastMessageAt, START.toISOString());
    assert.equal(rows().length, 1, 'one row for the person, whatever the device names');
  });

  test('hostile topics and payloads change nothing but known devices’ times', () => {
    const { recorder, rows, message, store, alice, writes } = setup();
    const hostile: IncomingMessage[] = [
      message('owntracks/mallory/phone'), // no such user
      message('owntracks/alice/invented'), // alice has no certificate for it (and none without a device)
      message('owntracks/alice/pixel/extra'),
      message('owntracks/alice'),
      message('owntracks//pixel'),
      message(`owntracks/${'a'.repeat(5000)}/pixel`),
      message("owntracks/alice' OR 1=1 --/pixel"),
      message('other/alice/pixel'),
      message('$SYS/broker/clients'),
    ];
    for (let i = 0; i < 2000; i++) hostile.push(message(`owntracks/alice/device${i}`));
    for (const m of hostile) recorder.receive(m);
    recorder.flush();
    assert.deepEqual(rows(), [], 'no row for an unknown topic');
    assert.equal(writes(), 0);

    // On a known device, any payload is "a message": huge, binary, malformed, empty, a lwt look-alike.
    const payloads = [
      Buffer.alloc(MAX_PARSED_BYTES + 1, 0x7b),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]),
      Buffer.from('{"_type":"lwt"'),
      Buffer.from(''),
      Buffer.from('null'),
      Buffer.from('{"_type":["lwt"]}'),
      Buffer.from(`{"_type":"location","pad":"${'x'.repeat(MAX_PARSED_BYTES)}","_type2":"lwt"}`),
    ];
    for (const payload of payloads) recorder.receive(message('owntracks/alice/pixel', payload));
    recorder.flush();
    assert.equal(rows().length, 1);
    const stored = store.find({ userId: alice, device: 'pixel' })!;
    assert.equal(stored.lastMessageAt, START.toISOString());
    assert.equal(stored.lastWillAt, null, 'none of them counts as a last will');
    assert.ok(recorder.size <= 1, 'memory holds known devices only');
  });

  test('retained messages replayed at subscribe time are not a sign of life', () => {
    const { recorder, rows, message } = setup();
    recorder.receive(message('owntracks/alice/pixel', LOCATION, true));
    recorder.receive(message('owntracks/alice/pixel', LAST_WILL, true));
    recorder.flush();
    assert.deepEqual(rows(), []);
  });

  test('a certificate issued after its topic was looked up is noticed within a minute', () => {
    const { recorder, clock, message, certify, store } = setup();
    recorder.receive(message('owntracks/carol/phone'));
    const carol = certify('carol', 'phone');
    recorder.receive(message('owntracks/carol/phone'));
    recorder.flush();
    assert.equal(store.find({ userId: carol, device: 'phone' }), undefined, 'the lookup is remembered');
    clock.advance(WRITE_EVERY_MS);
    recorder.sweep();
    recorder.receive(message('owntracks/carol/phone'));
    recorder.flush();
    assert.ok(store.find({ userId: carol, device: 'phone' })?.lastMessageAt);
  });

  test('devices first seen cost no query each: the certified devices are read at start, then only new ones', async () => {
    const { recorder, message, certify, store, queries, rows } = setup();
    for (let i = 0; i < 50; i++) certify(`rider${i}`, 'phone');
    recorder.start({ subscribe: () => undefined, unsubscribe: () => undefined });
    assert.deepEqual(queries, [0], 'one read of all certificates at start');
    for (let i = 0; i < 50; i++) recorder.receive(message(`owntracks/rider${i}/phone`));
    assert.equal(queries.length, 1, 'no query for known devices');
    assert.equal(recorder.size, 50);
    for (let i = 0; i < 50; i++) recorder.receive(message(`owntracks/rider${i}/invented`));
    assert.equal(queries.length, 2, 'a batch of unknown topics: one look for certificates added since');
    assert.ok(queries[1]! > 0, 'only for the ones added since');
    assert.equal(recorder.size, 50);

    // A certificate issued a moment ago counts at its first message (a later batch).
    await new Promise((resolve) => setImmediate(resolve));
    const dave = certify('dave', 'phone');
    recorder.receive(message('owntracks/dave/phone'));
    assert.equal(queries.length, 3);
    assert.ok(recorder.heldFor({ userId: dave, device: 'phone' })?.lastMessageAt);
    recorder.receive(message('owntracks/rider0/invented'));
    assert.equal(queries.length, 3, 'an unknown topic is remembered');

    // Each sweep looks for certificates added since the last look.
    recorder.sweep();
    assert.equal(queries.length, 4);
    assert.ok(queries[3]! > queries[1]!);
    recorder.stop();
    assert.ok(store.find({ userId: dave, device: 'phone' })?.lastMessageAt);
    assert.equal(rows().length, 51);
  });

  test('a write does not wait for the disk, and leaves the connection as it was, failed or not', () => {
    const { db, store, alice } = setup();
    const settings: unknown[] = [];
    const pragma = db.pragma.bind(db);
    db.pragma = (source: string, options?: { simple?: boolean }) => {
      if (source.startsWith('synchronous =')) settings.push(source);
      return pragma(source, options);
    };
    const row = { userId: alice, device: 'pixel', lastMessageAt: START.toISOString(), lastWillAt: null };
    store.write([row]);
    assert.deepEqual(settings, ['synchronous = NORMAL', 'synchronous = 2'], 'this transaction only');
    assert.equal(store.find(row)?.lastMessageAt, START.toISOString());
    assert.throws(() => store.write([row, { ...row, device: null as unknown as string }]), /NOT NULL/);
    assert.equal(pragma('synchronous', { simple: true }), 2, 'FULL again after a failed write');
  });

  test('a failed write is kept and tried again', () => {
    const { store, message, alice } = setup();
    let fail = true;
    const errors: unknown[] = [];
    const flaky = new PresenceRecorder(
      {
        devicesAfter: store.devicesAfter,
        write: (rows) => {
          if (fail) throw new Error('disk full');
          store.write(rows);
        },
      },
      { now: () => START, onError: (error) => errors.push(error) },
    );
    flaky.receive(message('owntracks/alice/pixel'));
    flaky.sweep();
    assert.equal(errors.length, 1);
    fail = false;
    flaky.sweep();
    assert.equal(store.find({ userId: alice, device: 'pixel' })?.lastMessageAt, START.toISOString());
  });

  test('subscribes to the OwnTracks topics through its source and stops listening on stop', () => {
    const { recorder } = setup();
    const calls: string[] = [];
    const source: MessageSource = {
      subscribe: (filter) => void calls.push(`subscribe ${filter}`),
      unsubscribe: (filter) => void calls.push(`unsubscribe ${filter}`),
    };
    recorder.start(source);
    recorder.stop();
    assert.deepEqual(calls, [`subscribe ${PRESENCE_TOPIC}`, `unsubscribe ${PRESENCE_TOPIC}`]);
    assert.ok(SWEEP_EVERY_MS < WRITE_EVERY_MS);
  });

  test('tells a last will from anything else', () => {
    assert.equal(isLastWill(LAST_WILL), true);
    assert.equal(isLastWill(Buffer.from('{"_type":"lwt"}')), true);
    assert.equal(isLastWill(LOCATION), false);
    assert.equal(isLastWill(Buffer.from('{"_type":"LWT"}')), false);
  });
});
