// The rules of pickup links on their own: token and code shapes, hashing, expiry against a clock
// that the test sets, the status an admin sees, the inline config link and the CA profile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caMobileconfig, caProfileIdentifier } from '../pki/mobileconfig.js';
import { inlineConfigLink, owntracksConfiguration } from './pickup-config.js';
import {
  clampedDays,
  codeHmac,
  codeMatches,
  codeSchema,
  invitationExpiry,
  invitationStatus,
  newCode,
  newToken,
  redeemable,
  tokenHash,
  tokenSchema,
} from './pickup-rules.js';
import { bundleFileNames } from './rules.js';

test('a token carries 128 random bits in 22 base64url characters and is stored as its SHA-256', () => {
  const tokens = new Set(Array.from({ length: 200 }, newToken));
  assert.equal(tokens.size, 200);
  for (const token of tokens) {
    assert.ok(tokenSchema.safeParse(token).success, token);
    assert.equal(Buffer.from(token, 'base64url').length, 16);
  }
  const token = [...tokens][0]!;
  assert.match(tokenHash(token), /^[0-9a-f]{64}$/);
  assert.ok(!tokenHash(token).includes(token));
  assert.equal(tokenSchema.safeParse('short').success, false);
  assert.equal(tokenSchema.safeParse(`${token}/`).success, false);
});

test('a code is six digits, leading zeros kept; its HMAC needs the token', () => {
  const codes = Array.from({ length: 2000 }, newCode);
  for (const code of codes) assert.match(code, /^\d{6}$/);
  assert.ok(new Set(codes).size > 1900, 'codes repeat far too often');
  const token = newToken();
  const stored = codeHmac(token, '012345');
  assert.ok(codeMatches(token, '012345', stored));
  assert.ok(!codeMatches(token, '012346', stored));
  assert.ok(!codeMatches(newToken(), '012345', stored), 'the same code under another token does not match');
  assert.notEqual(codeHmac(newToken(), '012345'), stored);
  // What a person types: spaces and a dash are forgiven, letters and short codes are not.
  assert.equal(codeSchema.parse(' 012 345 '), '012345');
  assert.equal(codeSchema.parse('012-345'), '012345');
  assert.equal(codeSchema.safeParse('01234').success, false);
  assert.equal(codeSchema.safeParse('01234a').success, false);
});

test('a mailed link lives PICKUP_TTL_HOURS, a QR code PICKUP_QR_TTL_MINUTES; open until then, expired after', () => {
  const created = new Date('2026-11-27T10:00:00Z');
  const ttl = { ttlHours: 72, qrTtlMinutes: 15 };
  const mailed = invitationExpiry('mail', created, ttl);
  const qr = invitationExpiry('qr', created, ttl);
  assert.equal(mailed.toISOString(), '2026-11-30T10:00:00.000Z');
  assert.equal(qr.toISOString(), '2026-11-27T10:15:00.000Z');
  const row = { state: 'open', expires_at: qr.toISOString() };
  const justBefore = new Date(qr.getTime() - 1);
  assert.ok(redeemable(row, justBefore));
  assert.equal(invitationStatus(row, justBefore), 'invited');
  assert.ok(!redeemable(row, qr), 'expired at the instant it ends');
  assert.equal(invitationStatus(row, qr), 'expired');
  assert.ok(!redeemable({ ...row, state: 'cancelled' }, justBefore));
  assert.equal(invitationStatus({ ...row, state: 'cancelled' }, justBefore), 'cancelled');
  assert.equal(invitationStatus({ ...row, state: 'redeemed' }, justBefore), 'redeemed');
  assert.equal(invitationStatus({ ...row, state: 'redeemed', certificate_delivery: 'picked_up' }, qr), 'picked-up');
  assert.equal(
    invitationStatus({ ...row, state: 'redeemed', certificate_delivery: 'picked_up' }, qr, true),
    'connected',
  );
  assert.equal(invitationStatus({ ...row, state: 'redeemed' }, qr, true), 'redeemed', 'connected only once picked up');
  assert.equal(clampedDays(365, 100), 100);
  assert.equal(clampedDays(30, 100), 30);
});

test('bundle files are named <user>-<device>, or <user> without a device', () => {
  assert.deepEqual(bundleFileNames('alice', 'pixel'), {
    p12: 'alice-pixel.p12',
    otrp: 'alice-pixel.otrp',
    otrc: 'alice-pixel.otrc',
  });
  assert.deepEqual(bundleFileNames('bob', null), { p12: 'bob.p12', otrp: 'bob.otrp', otrc: 'bob.otrc' });
});

test('the inline link is standard padded base64, percent-encoded, of the keys and types the apps read', () => {
  const broker = { host: 'mqtt.example.org', port: 8883 };
  // A passphrase chosen so that the base64 holds `+` and `/`, which Android's decoder would break.
  for (const passphrase of ['abcd-efgh-jkmn-pqrs-tuvw', '>>>???~~~']) {
    const ios = owntracksConfiguration(broker, { username: 'alice', device: 'pixel' }, { passphrase });
    const link = inlineConfigLink(ios);
    assert.ok(link.startsWith('owntracks:///config?inline='));
    const encoded = link.slice('owntracks:///config?inline='.length);
    assert.doesNotMatch(encoded, /[+/=]/, 'reserved characters are percent-encoded');
    const base64 = decodeURIComponent(encoded);
    assert.match(base64, /^[A-Za-z0-9+/]*={0,2}$/);
    assert.equal(base64.length % 4, 0, 'padded');
    assert.deepEqual(JSON.parse(Buffer.from(base64, 'base64').toString('utf8')), {
      _type: 'configuration',
      mode: 0,
      host: 'mqtt.example.org',
      port: 8883,
      tls: true,
      username: 'alice',
      deviceId: 'pixel',
      clientpkcs: 'alice-pixel.otrp',
      passphrase,
    });
  }
  const plus = inlineConfigLink(
    owntracksConfiguration(broker, { username: 'alice', device: null }, { passphrase: '>>>???~~~' }),
  );
  assert.match(plus, /%2B|%2F/, 'this case does exercise + or /');
  const android = owntracksConfiguration(broker, { username: 'bob', device: null });
  assert.deepEqual(Object.keys(android).sort(), ['_type', 'host', 'mode', 'port', 'tls', 'username']);
});

test('the CA profile has a stable identifier per CA and holds the CA only', () => {
  const der = Buffer.from('3082010a0282010100', 'hex');
  const profile = caMobileconfig({ caDer: der, caName: 'Test <CA>', organisation: 'OwnTracks Enroll' });
  assert.equal(caProfileIdentifier(der), caProfileIdentifier(Buffer.from(der)));
  assert.notEqual(caProfileIdentifier(der), caProfileIdentifier(Buffer.from('00', 'hex')));
  assert.equal(profile, caMobileconfig({ caDer: der, caName: 'Test <CA>', organisation: 'OwnTracks Enroll' }));
  assert.equal(profile.match(/<key>PayloadType<\/key>/g)?.length, 2);
  assert.match(profile, /com\.apple\.security\.root/);
  assert.match(profile, /Test &lt;CA&gt;/);
  assert.ok(profile.includes(der.toString('base64')));
});
