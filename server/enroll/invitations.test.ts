// Pickup invitations through the Enrollment facade, with the test clock: nothing is made before
// redemption, codes count per invitation, two redemptions mint once, expiry, resend and cancel,
// the one-device rule, the recovery of a redemption a stopped portal left behind, and the status
// invited → picked up → connected from the presence records.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { inProcessMinter } from '../testing/minter.js';
import { readCrl, testCa } from '../testing/pki.js';
import { Browser, startTestPortal, withPortal, type TestPortal } from '../testing/harness.js';
import { presenceRepository } from '../db/presence.js';
import { tempDir } from '../testing/temp-dir.js';
import { certificatesRepository } from '../db/certificates.js';
import type { BrokerAccess } from '../broker/access.js';
import type { InviteRequest } from './invitations.js';
import { MAX_REOPENINGS, MAX_WRONG_CODES } from './pickup-rules.js';

const invite: InviteRequest = {
  username: 'alice',
  email: 'alice@example.org',
  device: 'pixel',
  days: 30,
  keyBits: 2048,
  format: 'compatible',
  kind: 'mail',
  changeEmail: false,
};
const admin = { name: 'admin', ip: '127.0.0.1' };
const person = { name: 'pickup', ip: '198.51.100.7' };
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/**
 * A minter whose gated mints (every one by default) wait at a gate of their own: `started(n)`, then
 * `release(n)` or `fail(n)` (the mint throws) for the nth call (from 1). The others run at once.
 */
async function gatedMints(gated: (call: number) => boolean = () => true) {
  const { ca } = await testCa();
  const minter = inProcessMinter(ca);
  interface Gate {
    started: () => void;
    entered: Promise<void>;
    release: () => void;
    fail: () => void;
    released: Promise<void>;
  }
  const gates: Gate[] = [];
  const gate = (n: number) => {
    while (gates.length < n) {
      let started!: () => void;
      let release!: () => void;
      let fail!: () => void;
      const entered = new Promise<void>((resolve) => (started = resolve));
      const released = new Promise<void>((resolve, reject) => {
        release = resolve;
        fail = () => reject(new Error('the minting thread died'));
      });
      gates.push({ started, entered, release, fail, released });
    }
    return gates[n - 1]!;
  };
  let calls = 0;
  return {
    minter: {
      ...minter,
      mint: async (request: Parameters<typeof minter.mint>[0]) => {
        const call = ++calls;
        if (gated(call)) {
          const mine = gate(call);
          mine.started();
          await mine.released;
        }
        return minter.mint(request);
      },
    },
    started: (n: number) => gate(n).entered,
    release: (n: number) => gate(n).release(),
    fail: (n: number) => gate(n).fail(),
  };
}

/**
 * A minter whose `gatedCall`th mint (the first by default) waits at a gate: `started` resolves when
 * it is called, `release()` lets it go on. The others run at once.
 */
async function gatedMinter(gatedCall = 1) {
  const mints = await gatedMints((call) => call === gatedCall);
  return { minter: mints.minter, started: mints.started(gatedCall), release: () => mints.release(gatedCall) };
}

/** Alice's mailed link (or `request`'s), redeemed: its bundle is held. */
async function heldLink(portal: TestPortal, request: InviteRequest = invite) {
  const created = await portal.services.enrollment.invitations.create(request, admin);
  assert.ok(created.ok);
  const redeemed = await portal.services.enrollment.invitations.redeem(created.token, created.code, person);
  assert.ok(redeemed.ok);
  return { created, redeemed };
}

/**
 * Alice's link redeemed (its mint waiting at gate 1), cancelled by a new address, resent (the page
 * offers it) and redeemed again (its mint waiting at gate 2): both redemptions, and the resent link.
 */
async function redeemedCancelledResentRedeemed(portal: TestPortal, mints: Awaited<ReturnType<typeof gatedMints>>) {
  const { enrollment } = portal.services;
  const created = await enrollment.invitations.create(invite, admin);
  assert.ok(created.ok);
  const old = enrollment.invitations.redeem(created.token, created.code, person);
  await mints.started(1);
  assert.ok((await enrollment.people.changeEmail('alice', 'alice.new@example.org', admin)).ok);
  const resent = await enrollment.invitations.resend(created.invitationId, admin);
  assert.ok(resent.ok);
  const fresh = enrollment.invitations.redeem(resent.token, resent.code, person);
  await mints.started(2);
  return { old, fresh, resent };
}

/** Runs `use` while alice's link is redeemed and its mint waits at the gate; `release()` lets it go on. */
async function whileRedemptionMints(
  use: (
    portal: TestPortal,
    redeeming: ReturnType<TestPortal['services']['enrollment']['invitations']['redeem']>,
    release: () => void,
  ) => Promise<void>,
) {
  const { minter, started, release } = await gatedMinter();
  await withPortal({ deps: { minter } }, async (portal) => {
    const created = await portal.services.enrollment.invitations.create(invite, admin);
    assert.ok(created.ok);
    const redeeming = portal.services.enrollment.invitations.redeem(created.token, created.code, person);
    await started;
    await use(portal, redeeming, release);
  });
}

describe('pickup invitations', () => {
  test('a request refused for a taken device changes nothing: no new address, no audit row, nothing signed', async () => {
    const { ca } = await testCa();
    const real = inProcessMinter(ca);
    let mints = 0;
    const minter = {
      ...real,
      mint: (request: Parameters<typeof real.mint>[0]) => {
        mints++;
        return real.mint(request);
      },
    };
    await withPortal({ deps: { minter } }, async (portal) => {
      const { enrollment } = portal.services;
      const state = () => ({
        email: portal.db.prepare("SELECT email FROM users WHERE username = 'alice'").pluck().get(),
        audit: portal.db.prepare('SELECT count(*) FROM audit_log').pluck().get(),
        certificates: portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(),
        invitations: portal.db.prepare('SELECT count(*) FROM invitations').pluck().get(),
        mints,
      });
      const moved = { email: 'new@example.org', changeEmail: true };
      // The device holds a certificate: a pickup link for it, the address change ticked.
      assert.equal((await enrollment.issue({ ...invite, passphrase: undefined }, admin)).ok, true);
      let before = state();
      const link = await enrollment.invitations.create({ ...invite, ...moved, kind: 'qr' }, admin);
      assert.equal(link.ok ? 'invited' : link.reason, 'device-taken');
      assert.deepEqual(state(), before);
      // The device holds an open pickup link: a mailed bundle for it, the address change ticked.
      assert.equal((await enrollment.invitations.create({ ...invite, device: 'tablet', kind: 'qr' }, admin)).ok, true);
      before = state();
      const bundle = await enrollment.issue({ ...invite, ...moved, device: 'tablet', passphrase: undefined }, admin);
      assert.equal(bundle.ok ? 'issued' : bundle.reason, 'device-invited');
      assert.deepEqual(state(), before, 'nothing signed, the address as it was');
    });
  });

  test('deleting a person cancels their open links; the name invited again starts with the new address', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const first = await enrollment.invitations.create(invite, admin);
      assert.ok(first.ok);
      assert.ok((await enrollment.people.remove('alice', admin)).ok);
      assert.deepEqual(await enrollment.invitations.redeem(first.token, first.code, person), {
        ok: false,
        reason: 'unavailable',
      });
      assert.equal(
        portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'invite-cancel'").pluck().get(),
        1,
        'the cancellation is audited',
      );
      const again = await enrollment.invitations.create({ ...invite, email: 'alice2@example.org' }, admin);
      assert.ok(again.ok, JSON.stringify(again));
      assert.deepEqual(portal.db.prepare("SELECT email, deleted_at FROM users WHERE username = 'alice'").get(), {
        email: 'alice2@example.org',
        deleted_at: null,
      });
    });
  });

  test('revoke all while a redeemed bundle is held: the link is cancelled and never opens again', async () => {
    const { ca } = await testCa();
    await withPortal({ deps: { minter: inProcessMinter(ca) } }, async (portal) => {
      const { enrollment } = portal.services;
      const { created, redeemed } = await heldLink(portal);
      const revoked = await enrollment.people.revokeAll('alice', 'keyCompromise', admin);
      assert.ok(revoked.ok);
      assert.equal(revoked.cancelledLinks, 1, 'the link in redemption is cancelled too');
      assert.equal(enrollment.invitations.file(redeemed.holdId, 'p12'), undefined, 'its held bundle is gone');
      portal.clock.advance(31 * 60_000); // the hold runs out: nothing may open the link again
      await enrollment.sweepPickups();
      assert.deepEqual(await enrollment.invitations.redeem(created.token, created.code, person), {
        ok: false,
        reason: 'unavailable',
      });
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
      assert.equal(portal.db.prepare("SELECT count(*) FROM certificates WHERE status = 'active'").pluck().get(), 0);
    });
  });

  test('revoking the certificate of a held bundle: the bundle goes, the link is cancelled and never opens again', async () => {
    for (const how of ['revoke', 'replace'] as const)
      await withPortal({}, async (portal) => {
        const { enrollment } = portal.services;
        const { created, redeemed } = await heldLink(portal);
        const certificateId = enrollment.invitations.find(created.invitationId)!.certificateId!;
        const done =
          how === 'revoke'
            ? await enrollment.revoke(certificateId, 'keyCompromise', admin)
            : await enrollment.replace(certificateId, admin, 'keyCompromise');
        assert.ok(done.ok, how);
        assert.equal(
          enrollment.invitations.holdFor(created.token, redeemed.holdId),
          undefined,
          `${how}: no passphrase shown`,
        );
        assert.equal(
          enrollment.invitations.file(redeemed.holdId, 'otrp', person.ip),
          undefined,
          `${how}: no key handed out`,
        );
        assert.equal(
          portal.db.prepare('SELECT delivery FROM certificates WHERE id = ?').pluck().get(certificateId),
          'failed',
          `${how}: never marked picked up`,
        );
        const published = () =>
          portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'crl-publish'").pluck().get();
        const publishedBefore = published();
        const error = () =>
          portal.db.prepare('SELECT delivery_error FROM certificates WHERE id = ?').pluck().get(certificateId);
        const errorBefore = error();
        portal.clock.advance(31 * 60_000);
        await enrollment.sweepPickups();
        assert.equal(published(), publishedBefore, `${how}: the sweep publishes no second CRL for it`);
        assert.equal(error(), errorBefore, `${how}: nor rewrites why it was not delivered`);
        assert.deepEqual(
          await enrollment.invitations.redeem(created.token, created.code, person),
          { ok: false, reason: 'unavailable' },
          `${how}: the old link and code mint nothing`,
        );
        assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled', how);
        assert.equal(
          portal.db
            .prepare("SELECT count(*) FROM audit_log WHERE action = 'invite-cancel' AND subject = ?")
            .pluck()
            .get(`invitation:${created.invitationId}`),
          1,
          `${how}: the cancel is audited`,
        );
      });
  });

  test('revoking a certificate picked up long ago leaves its link as it was: used, not cancelled, not resendable', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const { created, redeemed } = await heldLink(portal);
      assert.ok(enrollment.invitations.file(redeemed.holdId, 'p12', person.ip));
      await enrollment.invitations.finish(redeemed.holdId);
      portal.clock.advance(86400_000);
      const certificateId = enrollment.invitations.find(created.invitationId)!.certificateId!;
      assert.ok((await enrollment.revoke(certificateId, 'keyCompromise', admin)).ok);
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'redeemed');
      const resent = await enrollment.invitations.resend(created.invitationId, admin);
      assert.equal(resent.ok, false, 'no new link to a lost phone');
      assert.equal(portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'invite-cancel'").pluck().get(), 0);
    });
  });

  test('a held certificate revoked, then the portal restarts: the link stays cancelled, the revocation audited once', async () => {
    const dataDir = tempDir();
    const first = await startTestPortal({ dataDir });
    const created = await first.services.enrollment.invitations.create(invite, admin);
    assert.ok(created.ok);
    assert.ok((await first.services.enrollment.invitations.redeem(created.token, created.code, person)).ok);
    const certificateId = first.services.enrollment.invitations.find(created.invitationId)!.certificateId!;
    assert.ok((await first.services.enrollment.revoke(certificateId, 'keyCompromise', admin)).ok);
    await first.close();
    const second = await startTestPortal({ dataDir });
    try {
      assert.equal(second.services.enrollment.invitations.find(created.invitationId)!.status, 'cancelled');
      assert.deepEqual(await second.services.enrollment.invitations.redeem(created.token, created.code, person), {
        ok: false,
        reason: 'unavailable',
      });
      const revokes = second.db
        .prepare("SELECT count(*) FROM audit_log WHERE action = 'revoke' AND subject = ?")
        .pluck()
        .get(`certificate:${certificateId}`);
      assert.equal(revokes, 1);
      assert.deepEqual(
        second.db.prepare('SELECT delivery, delivery_error FROM certificates WHERE id = ?').get(certificateId),
        { delivery: 'failed', delivery_error: 'revoked before its bundle was picked up' },
      );
    } finally {
      await second.close();
    }
  });

  test('deleting a person while their link is being minted: the certificate is never recorded or handed out', async () => {
    await whileRedemptionMints(async (portal, redeeming, release) => {
      const { enrollment } = portal.services;
      const removed = await enrollment.people.remove('alice', admin);
      assert.ok(removed.ok);
      assert.equal(removed.cancelledLinks, 1);
      release();
      assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0, 'nothing recorded');
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
    });
  });

  test('while a link is being redeemed its device is taken: no mailed issue, no second link, never two certificates', async () => {
    await whileRedemptionMints(async (portal, redeeming, release) => {
      const { enrollment } = portal.services;
      const { kind: _kind, ...request } = invite;
      const issued = await enrollment.issue(request, admin);
      assert.equal(issued.ok, false, 'a mailed issue for the device being picked up');
      const second = await enrollment.invitations.create({ ...invite, kind: 'qr' }, admin);
      assert.equal(second.ok, false, 'a second link for the device being picked up');
      release();
      assert.ok((await redeeming).ok);
      assert.equal(
        portal.db
          .prepare("SELECT count(*) FROM certificates WHERE device = 'pixel' AND status = 'active'")
          .pluck()
          .get(),
        1,
      );
      assert.equal(portal.db.prepare('SELECT count(*) FROM invitations').pluck().get(), 1);
    });
  });

  test('a certificate for the device appearing from outside the rules while a link mints: nothing recorded, the link cancelled', async () => {
    await whileRedemptionMints(async (portal, redeeming, release) => {
      const userId = portal.db.prepare("SELECT id FROM users WHERE username = 'alice'").pluck().get() as number;
      certificatesRepository(portal.db).insert({
        user_id: userId,
        serial: '01',
        device: 'pixel',
        fingerprint_sha256: 'outside',
        pem: 'outside the rules',
        key_bits: 2048,
        not_before: portal.clock.now().toISOString(),
        not_after: new Date(portal.clock.now().getTime() + 86400_000).toISOString(),
        bundle_format: 'compatible',
        issued_by: 'elsewhere',
        issued_at: portal.clock.now().toISOString(),
      });
      release();
      assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 1, 'nothing recorded');
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
    });
  });

  test('a certificate stored without a device name (older releases) is the phone: a link for "phone" is refused', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const { kind: _kind, ...request } = invite;
      const first = await enrollment.issue({ ...request, device: 'phone' }, admin);
      assert.ok(first.ok);
      portal.db.prepare('UPDATE certificates SET device = NULL').run(); // as an older release stored it
      const link = await enrollment.invitations.create({ ...invite, device: 'phone' }, admin);
      assert.equal(link.ok, false, 'a second phone would share the deviceId and knock the first off');
      assert.equal(portal.db.prepare('SELECT count(*) FROM invitations').pluck().get(), 0);
      assert.ok((await enrollment.invitations.create({ ...invite, device: 'tablet' }, admin)).ok);
    });
  });

  test('an invitation stores hashes only and makes nothing until it is redeemed, once', async () => {
    const { ca } = await testCa();
    const minter = inProcessMinter(ca);
    await withPortal({ deps: { minter } }, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok, JSON.stringify(created));
      assert.match(created.url, /\/pickup\/[A-Za-z0-9_-]{22}$/);
      const row = portal.db.prepare('SELECT * FROM invitations').get() as Record<string, unknown>;
      assert.ok(!JSON.stringify(row).includes(created.token), 'the token is not stored');
      assert.ok(!JSON.stringify(row).includes(created.code), 'the code is not stored');
      assert.equal(minter.minted, 0, 'no key before redemption');
      assert.equal(portal.db.prepare('SELECT count(*) AS n FROM certificates').pluck().get(), 0);

      // Two redemptions at once (a double tap): one certificate, both get the same bundle.
      const [first, second] = await Promise.all([
        pickups.redeem(created.token, created.code, person),
        pickups.redeem(created.token, created.code, person),
      ]);
      assert.ok(first.ok && second.ok, JSON.stringify([first, second]));
      assert.equal(first.holdId, second.holdId);
      assert.equal(minter.minted, 1);
      const guide = pickups.holdFor(created.token, first.holdId)!;
      assert.equal(guide.username, 'alice');
      assert.equal(guide.files.otrp, 'alice-pixel.otrp');
      const certificate = portal.db.prepare('SELECT * FROM certificates').get() as Record<string, string>;
      assert.equal(certificate.delivery, 'pending', 'recorded before it leaves');
      // A later redemption with the right code finds the same bundle; with a wrong one, nothing.
      const again = await pickups.redeem(created.token, created.code, person);
      assert.ok(again.ok && again.holdId === first.holdId);
      assert.deepEqual(await pickups.redeem(created.token, wrong(created.code), person), {
        ok: false,
        reason: 'unavailable',
      });
      const file = pickups.file(first.holdId, 'p12', person.ip)!;
      assert.equal(file.filename, 'alice-pixel.p12');
      assert.ok(file.body.length > 1000);
      assert.equal(
        (portal.db.prepare('SELECT delivery FROM certificates').get() as { delivery: string }).delivery,
        'picked_up',
      );
      assert.equal(pickups.find(created.invitationId)!.status, 'picked-up');
      await pickups.finish(first.holdId);
      assert.equal(pickups.holdFor(created.token, first.holdId), undefined, 'Done drops the files');
      assert.equal(minter.minted, 1);
      const actions = (
        portal.db.prepare("SELECT action, outcome FROM audit_log WHERE actor <> 'system'").all() as Array<{
          action: string;
        }>
      ).map((row) => row.action);
      for (const action of ['invite', 'mail', 'pickup-redeem', 'issue', 'pickup-download'])
        assert.ok(actions.includes(action), `audited: ${action}`);
    });
  });

  test('wrong codes count per invitation, whatever the address, and the last one kills it', async () => {
    await withPortal({}, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok);
      for (let attempt = 1; attempt <= MAX_WRONG_CODES; attempt++) {
        const outcome = await pickups.redeem(created.token, wrong(created.code), {
          name: 'pickup',
          ip: `203.0.113.${attempt}`,
        });
        assert.deepEqual(outcome, { ok: false, reason: 'wrong-code', left: MAX_WRONG_CODES - attempt });
      }
      assert.equal(pickups.find(created.invitationId)!.status, 'cancelled');
      assert.deepEqual(await pickups.redeem(created.token, created.code, person), { ok: false, reason: 'unavailable' });
      // Other invitations behind the same address are not affected.
      const other = await pickups.create({ ...invite, username: 'bob', email: 'bob@example.org' }, admin);
      assert.ok(other.ok);
      assert.ok((await pickups.redeem(other.token, other.code, { name: 'pickup', ip: '203.0.113.1' })).ok);
    });
  });

  test('expiry follows the clock; resend makes a new link and code and kills the old; cancel closes it', async () => {
    await withPortal({ env: { PICKUP_TTL_HOURS: '2', PICKUP_QR_TTL_MINUTES: '5' } }, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const qr = await pickups.create({ ...invite, kind: 'qr' }, admin);
      assert.ok(qr.ok);
      assert.equal(qr.expiresAt.getTime() - portal.clock.now().getTime(), 5 * 60_000);
      portal.clock.advance(5 * 60_000);
      assert.equal(pickups.find(qr.invitationId)!.status, 'expired');
      assert.equal(pickups.preview(qr.token), undefined);
      assert.deepEqual(await pickups.redeem(qr.token, qr.code, person), { ok: false, reason: 'unavailable' });

      const renewed = await pickups.resend(qr.invitationId, admin);
      assert.ok(renewed.ok, JSON.stringify(renewed));
      assert.notEqual(renewed.token, qr.token);
      assert.equal(pickups.find(qr.invitationId)!.status, 'invited');
      assert.deepEqual(await pickups.redeem(qr.token, qr.code, person), { ok: false, reason: 'unavailable' });
      assert.ok(pickups.preview(renewed.token));

      assert.ok(pickups.cancel(qr.invitationId, admin).ok);
      assert.equal(pickups.find(qr.invitationId)!.status, 'cancelled');
      assert.deepEqual(await pickups.redeem(renewed.token, renewed.code, person), { ok: false, reason: 'unavailable' });
      assert.deepEqual(pickups.cancel(qr.invitationId, admin), { ok: false, reason: 'not-open' });

      const mailed = await pickups.create({ ...invite, device: 'tablet' }, admin);
      assert.ok(mailed.ok);
      assert.equal(mailed.expiresAt.getTime() - portal.clock.now().getTime(), 2 * 3600_000);
    });
  });

  test('one device, one open invitation or active certificate; the CA end clamps a late redemption', async () => {
    await withPortal({}, async (portal) => {
      const { invitations: pickups, issue } = portal.services.enrollment;
      const first = await pickups.create(invite, admin);
      assert.ok(first.ok);
      assert.deepEqual(await pickups.create({ ...invite, kind: 'qr' }, admin), {
        ok: false,
        reason: 'device-taken',
        by: 'invitation',
      });
      const issued = await issue(
        {
          username: 'alice',
          email: 'alice@example.org',
          device: 'pixel',
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          changeEmail: false,
        },
        admin,
      );
      assert.deepEqual(issued, { ok: false, reason: 'device-invited' });
      // Another device of the same person is free.
      assert.ok((await pickups.create({ ...invite, device: 'tablet' }, admin)).ok);

      // A validity asked for is cut to what the CA has left at redemption.
      const caEnd = new Date(portal.ca.x509.validTo).getTime();
      portal.clock.advance(caEnd - portal.clock.now().getTime() - 100 * 86400_000);
      const long = await pickups.create({ ...invite, device: 'watch', days: 99 }, admin);
      assert.ok(long.ok, JSON.stringify(long));
      portal.clock.advance(2 * 86400_000);
      const redeemed = await pickups.redeem(long.token, long.code, person);
      assert.ok(redeemed.ok, JSON.stringify(redeemed));
      const cert = portal.db.prepare("SELECT not_before, not_after FROM certificates WHERE device = 'watch'").get() as {
        not_before: string;
        not_after: string;
      };
      assert.ok(Date.parse(cert.not_after) <= caEnd, 'never past the CA');
      assert.ok(
        Date.parse(cert.not_before) >= portal.clock.now().getTime() - 10 * 60_000,
        'validity starts at redemption',
      );
    });
  });

  test('a portal that stops before the download revokes that certificate at start; the link works again', async () => {
    const dataDir = tempDir();
    const first = await startTestPortal({ dataDir });
    const created = await first.services.enrollment.invitations.create(invite, admin);
    assert.ok(created.ok);
    const redeemed = await first.services.enrollment.invitations.redeem(created.token, created.code, person);
    assert.ok(redeemed.ok);
    await first.close(); // the bundle was held in memory only: it is gone

    const second = await startTestPortal({ dataDir });
    try {
      const rows = second.db.prepare('SELECT status, delivery FROM certificates').all();
      assert.deepEqual(rows, [{ status: 'revoked', delivery: 'failed' }]);
      assert.ok(second.logs.some((line) => line.includes('Reopened 1 pickup invitation')));
      const pickups = second.services.enrollment.invitations;
      assert.equal(pickups.find(created.invitationId)!.status, 'invited');
      const again = await pickups.redeem(created.token, created.code, person);
      assert.ok(again.ok, JSON.stringify(again));
      assert.equal(
        second.db.prepare("SELECT count(*) AS n FROM certificates WHERE status = 'active'").pluck().get(),
        1,
      );
    } finally {
      await second.close();
    }
  });

  test('a stop interrupts a link with its reopenings used up: cancelled at start, not counted as reopened', async () => {
    const dataDir = tempDir();
    const first = await startTestPortal({ dataDir });
    const created = await first.services.enrollment.invitations.create(invite, admin);
    assert.ok(created.ok);
    first.db.prepare('UPDATE invitations SET reopenings = ?').run(MAX_REOPENINGS);
    assert.ok((await first.services.enrollment.invitations.redeem(created.token, created.code, person)).ok);
    await first.close();
    const second = await startTestPortal({ dataDir });
    try {
      assert.equal(second.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
      assert.ok(!second.logs.some((line) => line.includes('Reopened')), second.logs.join('\n'));
    } finally {
      await second.close();
    }
  });

  test('files never downloaded when the hold runs out: revoked, and the invitation opens again', async () => {
    await withPortal({}, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok);
      const redeemed = await pickups.redeem(created.token, created.code, person);
      assert.ok(redeemed.ok);
      portal.clock.advance(30 * 60_000);
      assert.equal(pickups.holdFor(created.token, redeemed.holdId), undefined);
      await portal.services.enrollment.sweepPickups();
      assert.deepEqual(portal.db.prepare('SELECT status, delivery FROM certificates').all(), [
        { status: 'revoked', delivery: 'failed' },
      ]);
      assert.equal(pickups.find(created.invitationId)!.status, 'invited');
    });
  });

  test('wrong codes typed after redemption still count when the link reopens: five of them kill it', async () => {
    await withPortal({}, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok);
      assert.ok((await pickups.redeem(created.token, created.code, person)).ok);
      const attacker = { name: 'pickup', ip: '203.0.113.66' };
      for (let i = 0; i < MAX_WRONG_CODES; i++)
        assert.equal((await pickups.redeem(created.token, wrong(created.code), attacker)).ok, false);
      // The person never downloads: the hold runs out.
      portal.clock.advance(31 * 60_000);
      await portal.services.enrollment.sweepPickups();
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
      assert.deepEqual(await pickups.redeem(created.token, created.code, person), { ok: false, reason: 'unavailable' });
      assert.deepEqual(await pickups.redeem(created.token, wrong(created.code), attacker), {
        ok: false,
        reason: 'unavailable',
      });
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 1, 'nothing minted again');
    });
  });

  test('a link resent after its held certificate was revoked: while it mints again, revoke all cancels it', async () => {
    // The resent link must not carry the revoked certificate's id: while it mints, "redeemed with a
    // certificate" would read as done, and revoke all, the one-device rule and a restart miss it.
    const { minter, started: minting, release } = await gatedMinter(2); // the second redemption's
    await withPortal({ deps: { minter } }, async (portal) => {
      const { enrollment } = portal.services;
      const created = await enrollment.invitations.create(invite, admin);
      assert.ok(created.ok);
      assert.ok((await enrollment.invitations.redeem(created.token, created.code, person)).ok);
      const first = enrollment.invitations.find(created.invitationId)!.certificateId!;
      assert.ok((await enrollment.revoke(first, 'keyCompromise', admin)).ok);
      const resent = await enrollment.invitations.resend(created.invitationId, admin);
      assert.ok(resent.ok);
      assert.equal(
        enrollment.invitations.find(created.invitationId)!.certificateId,
        null,
        'the resent link has none yet',
      );
      const redeeming = enrollment.invitations.redeem(resent.token, resent.code, person);
      await minting;
      assert.equal(
        (await enrollment.invitations.create({ ...invite, kind: 'qr' }, admin)).ok,
        false,
        'the device is taken while the link mints',
      );
      const all = await enrollment.people.revokeAll('alice', 'keyCompromise', admin);
      assert.ok(all.ok);
      assert.equal(all.cancelledLinks, 1, 'the minting link is cancelled');
      release();
      assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
      assert.equal(
        portal.db.prepare("SELECT count(*) FROM certificates WHERE status = 'active'").pluck().get(),
        0,
        'nothing handed out',
      );
    });
  });

  test('a hold revoked long ago, swept after the resent link was picked up: the link stays used', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const pickups = enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok);
      assert.ok((await pickups.redeem(created.token, created.code, person)).ok);
      assert.ok(
        (await enrollment.revoke(pickups.find(created.invitationId)!.certificateId!, 'keyCompromise', admin)).ok,
      );
      portal.clock.advance(20 * 60_000);
      const resent = await pickups.resend(created.invitationId, admin);
      assert.ok(resent.ok);
      const second = await pickups.redeem(resent.token, resent.code, person);
      assert.ok(second.ok);
      assert.ok(pickups.file(second.holdId, 'p12', person.ip));
      const secondId = pickups.find(created.invitationId)!.certificateId!;
      portal.clock.advance(11 * 60_000); // the first hold runs out and is swept
      await enrollment.sweepPickups();
      const row = pickups.find(created.invitationId)!;
      assert.deepEqual(
        [row.certificateId, row.status],
        [secondId, 'picked-up'],
        'still used, by the second certificate',
      );
      assert.ok((await enrollment.revoke(secondId, 'keyCompromise', admin)).ok, 'the phone is lost');
      assert.deepEqual(await pickups.redeem(resent.token, resent.code, person), { ok: false, reason: 'unavailable' });
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 2, 'no third certificate');
    });
  });

  test('redeem and Done without a download, again and again: the link opens again a few times, then it is cancelled', async () => {
    await withPortal({}, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok);
      for (let round = 0; round <= MAX_REOPENINGS; round++) {
        const redeemed = await pickups.redeem(created.token, created.code, person);
        assert.ok(redeemed.ok, `round ${round}`);
        await pickups.finish(redeemed.holdId);
      }
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
      assert.deepEqual(await pickups.redeem(created.token, created.code, person), { ok: false, reason: 'unavailable' });
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), MAX_REOPENINGS + 1);
      assert.equal(
        portal.db.prepare("SELECT detail FROM audit_log WHERE action = 'invite-cancel'").pluck().get(),
        `opened again ${MAX_REOPENINGS} times without a download`,
      );
      // The admin may give it another go: a resend starts the count again.
      const resent = await pickups.resend(created.invitationId, admin);
      assert.ok(resent.ok);
      assert.ok((await pickups.redeem(resent.token, resent.code, person)).ok);
    });
  });

  test("a person's address changed: their mailed links still open are cancelled (they went to the old one), audited", async () => {
    for (const how of ['person page', 'invitation form'] as const)
      await withPortal({}, async (portal) => {
        const { enrollment } = portal.services;
        const mailed = await enrollment.invitations.create(invite, admin);
        const shown = await enrollment.invitations.create({ ...invite, device: 'ipad', kind: 'qr' }, admin);
        assert.ok(mailed.ok && shown.ok);
        if (how === 'person page')
          assert.ok((await enrollment.people.changeEmail('alice', 'alice.new@example.org', admin)).ok);
        else {
          const other = await enrollment.invitations.create(
            { ...invite, device: 'tablet', email: 'alice.new@example.org', changeEmail: true },
            admin,
          );
          assert.ok(other.ok, how);
        }
        assert.deepEqual(
          await enrollment.invitations.redeem(mailed.token, mailed.code, person),
          { ok: false, reason: 'unavailable' },
          `${how}: the mailed link works no more`,
        );
        assert.ok(
          (await enrollment.invitations.redeem(shown.token, shown.code, person)).ok,
          `${how}: the QR code does`,
        );
        assert.equal(
          portal.db
            .prepare("SELECT detail FROM audit_log WHERE action = 'invite-cancel' AND subject = ?")
            .pluck()
            .get(`invitation:${mailed.invitationId}`),
          'alice (pixel): the address changed; the link went to the old one',
          how,
        );
        const resent = await enrollment.invitations.resend(mailed.invitationId, admin);
        assert.ok(resent.ok, `${how}: a resend mails the new address`);
      });
  });

  test('an address changed while a mailed link is held: not handed out, revoked at once, resent to the new address', async () => {
    const { ca } = await testCa();
    await withPortal({ deps: { minter: inProcessMinter(ca) } }, async (portal) => {
      const { enrollment } = portal.services;
      const held = await enrollment.invitations.create(invite, admin);
      const done = await enrollment.invitations.create({ ...invite, device: 'ipad' }, admin);
      assert.ok(held.ok && done.ok);
      const holding = await enrollment.invitations.redeem(held.token, held.code, person);
      const downloaded = await enrollment.invitations.redeem(done.token, done.code, person);
      assert.ok(holding.ok && downloaded.ok);
      assert.ok(enrollment.invitations.file(downloaded.holdId, 'p12'), 'the iPad has its bundle');
      const heldCertificate = enrollment.invitations.find(held.invitationId)!.certificateId!;
      const changed = await enrollment.people.changeEmail('alice', 'alice.new@example.org', admin);
      assert.deepEqual(changed, { ok: true, email: 'alice.new@example.org', cancelledLinks: 1 });
      assert.equal(enrollment.invitations.file(holding.holdId, 'p12'), undefined, 'the held bundle is not handed out');
      const states = () => portal.db.prepare('SELECT state FROM invitations ORDER BY id').pluck().all();
      assert.deepEqual(states(), ['cancelled', 'redeemed'], 'the link whose bundle left stays used');
      assert.deepEqual(
        portal.db.prepare('SELECT device, status, delivery FROM certificates ORDER BY id').all(),
        [
          { device: 'pixel', status: 'revoked', delivery: 'failed' },
          { device: 'ipad', status: 'active', delivery: 'picked_up' },
        ],
        'revoked at once, not when the hold would have ended',
      );
      const serial = portal.db.prepare('SELECT serial FROM certificates WHERE id = ?').pluck().get(heldCertificate);
      const crl = readCrl(readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8'));
      assert.ok(
        crl.entries.some((entry) => entry.serial === serial),
        'and in the CRL',
      );
      assert.equal(
        portal.db
          .prepare("SELECT detail FROM audit_log WHERE action = 'revoke' AND subject = ?")
          .pluck()
          .get(`certificate:${heldCertificate}`),
        'alice (pixel): its link was cancelled before a download',
      );
      assert.deepEqual(await enrollment.invitations.redeem(held.token, held.code, person), {
        ok: false,
        reason: 'unavailable',
      });
      const resent = await enrollment.invitations.resend(held.invitationId, admin);
      assert.ok(resent.ok, 'a resend works at once');
      const outbox = path.join(portal.dataDir, 'outbox');
      const mailed = readdirSync(outbox)
        .map((name) => readFileSync(path.join(outbox, name), 'utf8'))
        .filter((message) => message.includes(resent.token));
      assert.equal(mailed.length, 1);
      assert.match(mailed[0]!, /^To: alice\.new@example\.org$/m, 'to the new address');
      assert.ok((await enrollment.invitations.redeem(resent.token, resent.code, person)).ok);
    });
  });

  for (const first of ['the old redemption', 'the new one'] as const)
    test(`a link cancelled while it mints, resent and redeemed again: ${first} finishing first, only the new one's bundle goes out`, async () => {
      const mints = await gatedMints();
      await withPortal({ deps: { minter: mints.minter } }, async (portal) => {
        const { enrollment } = portal.services;
        const { old, fresh, resent } = await redeemedCancelledResentRedeemed(portal, mints);
        const order = first === 'the old redemption' ? [1, 2] : [2, 1];
        const outcomes: Record<number, Awaited<typeof old>> = {};
        let tap: Promise<Awaited<typeof old>> | undefined;
        for (const n of order) {
          mints.release(n);
          outcomes[n] = await (n === 1 ? old : fresh);
          // A second tap on the new link joins its redemption (or finds its bundle), whichever ended first.
          tap ??= enrollment.invitations.redeem(resent.token, resent.code, person);
        }
        assert.deepEqual(await tap, outcomes[2], 'a second tap finds the same bundle');
        assert.deepEqual(outcomes[1], { ok: false, reason: 'unavailable' }, 'the old mailbox gets nothing');
        const got = outcomes[2]!;
        assert.ok(got.ok, 'the new address gets its bundle');
        assert.ok(enrollment.invitations.file(got.holdId, 'p12'), 'and can download it');
        assert.deepEqual(
          portal.db.prepare('SELECT status FROM certificates').pluck().all(),
          ['active'],
          'one certificate',
        );
        assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'redeemed');
      });
    });

  test('the old redemption failing after the link was resent and redeemed again: the new one is left alone', async () => {
    const mints = await gatedMints();
    await withPortal({ deps: { minter: mints.minter } }, async (portal) => {
      const { enrollment } = portal.services;
      const { old, fresh } = await redeemedCancelledResentRedeemed(portal, mints);
      mints.fail(1);
      assert.deepEqual(await old, { ok: false, reason: 'mint-failed' });
      assert.deepEqual(
        portal.db.prepare('SELECT state, reopenings FROM invitations').get(),
        { state: 'redeemed', reopenings: 0 },
        'not opened again: it is the new redemption that is minting',
      );
      mints.release(2);
      const got = await fresh;
      assert.ok(got.ok, 'the new address gets its bundle');
      assert.ok(enrollment.invitations.file(got.holdId, 'p12'));
    });
  });

  test('a hold whose link no longer names its certificate is not handed out', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const { created, redeemed } = await heldLink(portal);
      assert.ok(enrollment.invitations.holdFor(created.token, redeemed.holdId));
      // Only a change outside the rules makes this (the one-device rule keeps it from happening).
      portal.db.prepare('UPDATE invitations SET certificate_id = NULL').run();
      assert.equal(enrollment.invitations.file(redeemed.holdId, 'p12'), undefined);
      assert.equal(enrollment.invitations.holdFor(created.token, redeemed.holdId), undefined);
    });
  });

  test('revoke all while a bundle is held: marked never delivered at once; a hold that cannot be settled changes nothing of the revocation or its CRL', async () => {
    for (const settles of [true, false])
      await withPortal({}, async (portal) => {
        const { enrollment } = portal.services;
        const created = await enrollment.invitations.create(invite, admin);
        assert.ok(created.ok);
        assert.ok((await enrollment.invitations.redeem(created.token, created.code, person)).ok);
        const held = enrollment.invitations.find(created.invitationId)!.certificateId!;
        if (!settles)
          portal.db.exec(
            `CREATE TRIGGER fails BEFORE UPDATE OF delivery ON certificates WHEN old.id = ${held}
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`,
          );
        const published = () =>
          portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'crl-publish'").pluck().get();
        const before = Number(published());
        const revoked = await enrollment.people.revokeAll('alice', 'keyCompromise', admin);
        assert.ok(revoked.ok, `settles: ${settles}`);
        assert.equal(published(), before + 1, `settles: ${settles}: one CRL`);
        assert.deepEqual(portal.db.prepare('SELECT status, delivery FROM certificates').get(), {
          status: 'revoked',
          delivery: settles ? 'failed' : 'pending',
        });
      });
  });

  test('the issue form changing the address with two held links: both revoked before it answers, in one CRL', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const links: Array<{ invitationId: number; holdId: string }> = [];
      for (const device of ['pixel', 'ipad']) {
        const created = await enrollment.invitations.create({ ...invite, device }, admin);
        assert.ok(created.ok);
        const redeemed = await enrollment.invitations.redeem(created.token, created.code, person);
        assert.ok(redeemed.ok);
        links.push({ invitationId: created.invitationId, holdId: redeemed.holdId });
      }
      const statuses = () => portal.db.prepare('SELECT status FROM certificates ORDER BY id').pluck().all();
      const published = () =>
        Number(portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'crl-publish'").pluck().get());
      const before = published();
      let whenAnswered: unknown;
      const issued = await enrollment.issue(
        {
          username: 'alice',
          email: 'alice.new@example.org',
          device: 'tablet',
          days: 30,
          keyBits: 2048,
          format: 'compatible',
          changeEmail: true,
        },
        admin,
        () => (whenAnswered = statuses()),
      );
      assert.ok(issued.ok);
      assert.deepEqual(whenAnswered, ['revoked', 'revoked', 'active']);
      assert.equal(published(), before + 1, 'one CRL for both');
      for (const { invitationId, holdId } of links) {
        assert.equal(enrollment.invitations.file(holdId, 'p12'), undefined, 'nothing handed out');
        assert.ok((await enrollment.invitations.resend(invitationId, admin)).ok, 'the resend works at once');
      }
    });
  });

  test("a new address leaves another person's hold, over but not yet swept, to the sweep", async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const bob = await enrollment.invitations.create({ ...invite, username: 'bob', email: 'bob@example.org' }, admin);
      assert.ok(bob.ok);
      assert.ok((await enrollment.invitations.redeem(bob.token, bob.code, person)).ok);
      assert.ok((await enrollment.invitations.create(invite, admin)).ok);
      portal.clock.advance(31 * 60_000);
      assert.ok((await enrollment.people.changeEmail('alice', 'alice.new@example.org', admin)).ok);
      assert.equal(portal.db.prepare('SELECT status FROM certificates').pluck().get(), 'active');
      await enrollment.sweepPickups();
      assert.equal(portal.db.prepare('SELECT status FROM certificates').pluck().get(), 'revoked');
    });
  });

  test('holds that cannot be settled (the database failing) throw nothing and are settled at the next sweep', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const created = await enrollment.invitations.create(invite, admin);
      assert.ok(created.ok);
      assert.ok((await enrollment.invitations.redeem(created.token, created.code, person)).ok);
      portal.clock.advance(31 * 60_000);
      // A read that fails while the holds are taken, then a write that fails while they are settled.
      portal.db.exec('ALTER TABLE certificates RENAME TO elsewhere');
      await enrollment.sweepPickups();
      portal.db.exec('ALTER TABLE elsewhere RENAME TO certificates');
      portal.db.exec(
        "CREATE TRIGGER fails BEFORE UPDATE OF delivery ON certificates BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
      );
      await enrollment.sweepPickups();
      const state = () => ({
        certificate: portal.db.prepare('SELECT status, delivery FROM certificates').get(),
        link: portal.db.prepare('SELECT state FROM invitations').pluck().get(),
      });
      assert.deepEqual(state(), { certificate: { status: 'active', delivery: 'pending' }, link: 'redeemed' });
      portal.db.exec('DROP TRIGGER fails');
      await enrollment.sweepPickups();
      assert.deepEqual(state(), { certificate: { status: 'revoked', delivery: 'failed' }, link: 'open' });
    });
  });

  test('a hold that keeps failing to settle does not keep the others from settling', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const alice = await enrollment.invitations.create(invite, admin);
      const bob = await enrollment.invitations.create({ ...invite, username: 'bob', email: 'bob@example.org' }, admin);
      assert.ok(alice.ok && bob.ok);
      assert.ok((await enrollment.invitations.redeem(alice.token, alice.code, person)).ok);
      assert.ok((await enrollment.invitations.redeem(bob.token, bob.code, person)).ok);
      const failing = enrollment.invitations.find(alice.invitationId)!.certificateId!;
      portal.db.exec(
        `CREATE TRIGGER fails BEFORE UPDATE OF delivery ON certificates WHEN old.id = ${failing}
         BEGIN SELECT RAISE(ABORT, 'a row that cannot be written'); END`,
      );
      portal.clock.advance(31 * 60_000);
      await enrollment.sweepPickups();
      const links = () =>
        portal.db
          .prepare('SELECT u.username, i.state FROM invitations i JOIN users u ON u.id = i.user_id ORDER BY i.id')
          .all();
      assert.deepEqual(links(), [
        { username: 'alice', state: 'redeemed' },
        { username: 'bob', state: 'open' },
      ]);
      portal.db.exec('DROP TRIGGER fails');
      await enrollment.sweepPickups();
      assert.deepEqual(links(), [
        { username: 'alice', state: 'open' },
        { username: 'bob', state: 'open' },
      ]);
    });
  });

  test('Done that cannot be settled: nothing handed out after it, and settled at the next sweep as Done', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const { created, redeemed } = await heldLink(portal);
      portal.db.exec(
        "CREATE TRIGGER fails BEFORE UPDATE OF delivery ON certificates BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
      );
      await enrollment.invitations.finish(redeemed.holdId);
      portal.db.exec('DROP TRIGGER fails');
      assert.equal(enrollment.invitations.holdFor(created.token, redeemed.holdId), undefined, 'no guide');
      assert.equal(enrollment.invitations.file(redeemed.holdId, 'p12', person.ip), undefined, 'no file');
      assert.equal(enrollment.invitations.preview(created.token), undefined, 'no page');
      assert.equal(portal.db.prepare('SELECT delivery FROM certificates').pluck().get(), 'pending');
      await enrollment.sweepPickups();
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'open');
      assert.deepEqual(portal.db.prepare('SELECT status, delivery, delivery_error FROM certificates').get(), {
        status: 'revoked',
        delivery: 'failed',
        delivery_error: 'Done was tapped before any download',
      });
    });
  });

  test('a download whose record fails sends nothing and leaves the hold to be revoked by the sweep', async () => {
    await withPortal({}, async (portal) => {
      const { enrollment } = portal.services;
      const { redeemed } = await heldLink(portal);
      portal.db.exec(
        "CREATE TRIGGER fails BEFORE UPDATE OF delivery ON certificates BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
      );
      assert.throws(() => enrollment.invitations.file(redeemed.holdId, 'p12', person.ip), /disk I\/O error/);
      portal.db.exec('DROP TRIGGER fails');
      portal.clock.advance(31 * 60_000);
      await enrollment.sweepPickups();
      assert.deepEqual(portal.db.prepare('SELECT status, delivery FROM certificates').get(), {
        status: 'revoked',
        delivery: 'failed',
      });
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'open');
    });
  });

  test('the broker sync failing after the record: the certificate revoked, the link open again, said as such', async () => {
    const syncFails = new Proxy(
      { isUnmanagedClient: async () => false, syncPerson: async () => Promise.reject(new Error('broker down')) },
      {
        get: (target, key): unknown =>
          key in target ? Reflect.get(target, key) : key === 'then' ? undefined : () => undefined,
      },
    ) as unknown as BrokerAccess;
    await withPortal({ deps: { brokerAccess: syncFails } }, async (portal) => {
      const { enrollment } = portal.services;
      const created = await enrollment.invitations.create(invite, admin);
      assert.ok(created.ok);
      assert.deepEqual(await enrollment.invitations.redeem(created.token, created.code, person), {
        ok: false,
        reason: 'mint-failed',
      });
      assert.deepEqual(portal.db.prepare('SELECT status, delivery FROM certificates').get(), {
        status: 'revoked',
        delivery: 'failed',
      });
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'open');
      assert.equal(
        portal.db
          .prepare("SELECT detail FROM audit_log WHERE action = 'pickup-redeem' AND outcome = 'failure'")
          .pluck()
          .get(),
        'the redemption failed after its certificate was recorded: broker down',
      );
    });
  });

  test('an address changed while a mailed link mints: nothing recorded or handed out, the link cancelled', async () => {
    await whileRedemptionMints(async (portal, redeeming, release) => {
      const changed = await portal.services.enrollment.people.changeEmail('alice', 'alice.new@example.org', admin);
      assert.ok(changed.ok && changed.cancelledLinks === 1);
      release();
      assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0);
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
    });
  });

  test('wrong codes typed while its certificate is made, then the making fails: the link is cancelled, not open', async () => {
    let fail!: () => void;
    const failing = new Promise<never>((_, reject) => (fail = () => reject(new Error('the minting thread died'))));
    const minter = { mint: () => failing, start() {}, async close() {} };
    await withPortal({ deps: { minter } }, async (portal) => {
      const pickups = portal.services.enrollment.invitations;
      const created = await pickups.create(invite, admin);
      assert.ok(created.ok);
      const redeeming = pickups.redeem(created.token, created.code, person);
      const attacker = { name: 'pickup', ip: '203.0.113.66' };
      for (let i = 0; i < MAX_WRONG_CODES; i++) await pickups.redeem(created.token, wrong(created.code), attacker);
      fail();
      assert.deepEqual(await redeeming, { ok: false, reason: 'mint-failed' });
      assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
      assert.equal(pickups.find(created.invitationId)!.status, 'cancelled');
    });
  });

  describe('races with the broker link (a stand-in whose calls wait until released)', () => {
    /** A broker link stand-in: `isUnmanagedClient` and `syncPerson` wait for `release` once armed. */
    function gatedBroker() {
      let armed: 'isUnmanagedClient' | 'syncPerson' | undefined;
      let entered!: () => void;
      let release!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      const wait = async (call: typeof armed) => {
        if (armed !== call) return;
        armed = undefined;
        entered();
        await released;
      };
      const calls = {
        isUnmanagedClient: async () => (await wait('isUnmanagedClient'), false),
        syncPerson: async () => (await wait('syncPerson'), []),
      };
      // Every other call of the link does nothing.
      const access = new Proxy(calls, {
        get: (target, key): unknown =>
          key in target ? Reflect.get(target, key) : key === 'then' ? undefined : () => undefined,
      }) as unknown as BrokerAccess;
      return { access, arm: (call: NonNullable<typeof armed>) => (armed = call), inside, release: () => release() };
    }

    /** Runs `use` while alice's link is redeemed and waits in the broker sync; `release()` lets it go on. */
    async function whileBrokerSyncWaits(
      use: (
        portal: TestPortal,
        redeeming: ReturnType<TestPortal['services']['enrollment']['invitations']['redeem']>,
        release: () => void,
      ) => Promise<void>,
    ) {
      const broker = gatedBroker();
      await withPortal({ deps: { brokerAccess: broker.access } }, async (portal) => {
        const created = await portal.services.enrollment.invitations.create(invite, admin);
        assert.ok(created.ok);
        broker.arm('syncPerson');
        const redeeming = portal.services.enrollment.invitations.redeem(created.token, created.code, person);
        await broker.inside;
        await use(portal, redeeming, broker.release);
      });
    }

    test('a resend while the old link is being redeemed: the old link mints nothing', async () => {
      const broker = gatedBroker();
      await withPortal({ deps: { brokerAccess: broker.access } }, async (portal) => {
        const pickups = portal.services.enrollment.invitations;
        const created = await pickups.create(invite, admin);
        assert.ok(created.ok);
        broker.arm('isUnmanagedClient');
        const redeeming = pickups.redeem(created.token, created.code, person);
        await broker.inside;
        const renewed = await pickups.resend(created.invitationId, admin);
        assert.ok(renewed.ok);
        broker.release();
        assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
        assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 0, 'nothing minted');
        assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'open');
        assert.ok((await pickups.redeem(renewed.token, renewed.code, person)).ok, 'the new link works');
      });
    });

    test('revoke all while a redemption waits for the broker sync: its revoked certificate is not handed out', async () => {
      await whileBrokerSyncWaits(async (portal, redeeming, release) => {
        const { enrollment } = portal.services;
        assert.ok((await enrollment.people.revokeAll('alice', 'keyCompromise', admin)).ok);
        release();
        assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
        assert.deepEqual(portal.db.prepare('SELECT status FROM certificates').pluck().all(), ['revoked']);
        assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
      });
    });

    test('a certificate revoked while its redemption waits for the broker sync keeps the reason revoke gave', async () => {
      await whileBrokerSyncWaits(async (portal, redeeming, release) => {
        const { enrollment } = portal.services;
        const id = Number(portal.db.prepare('SELECT id FROM certificates').pluck().get());
        assert.ok((await enrollment.revoke(id, 'keyCompromise', admin)).ok);
        const why = () => portal.db.prepare('SELECT delivery, delivery_error FROM certificates').get();
        const given = why();
        release();
        assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
        assert.deepEqual(why(), given);
      });
    });

    test('an address changed while a redemption waits for the broker sync: its certificate revoked, not handed out', async () => {
      await whileBrokerSyncWaits(async (portal, redeeming, release) => {
        const { enrollment } = portal.services;
        assert.ok((await enrollment.people.changeEmail('alice', 'alice.new@example.org', admin)).ok);
        release();
        assert.deepEqual(await redeeming, { ok: false, reason: 'unavailable' });
        assert.deepEqual(portal.db.prepare('SELECT status, delivery FROM certificates').all(), [
          { status: 'revoked', delivery: 'failed' },
        ]);
        assert.equal(portal.db.prepare('SELECT state FROM invitations').pluck().get(), 'cancelled');
        const serial = portal.db.prepare('SELECT serial FROM certificates').pluck().get();
        const crl = readCrl(readFileSync(path.join(portal.dataDir, 'crl.pem'), 'utf8'));
        assert.ok(
          crl.entries.some((entry) => entry.serial === serial),
          'and in the CRL',
        );
      });
    });
  });

  test('invited, picked up, then connected once the device published after delivery; without a broker link picked up only', async () => {
    const { ca } = await testCa();
    // A message source that never speaks: presence is recorded (a broker link), the test fills the store itself.
    const silent = { subscribe: () => undefined, unsubscribe: () => undefined };
    for (const link of [true, false]) {
      await withPortal(
        { deps: { minter: inProcessMinter(ca), ...(link ? { messageSource: silent } : {}) } },
        async (portal) => {
          const enrollment = portal.services.enrollment;
          const pickups = enrollment.invitations;
          const created = await pickups.create(invite, admin);
          assert.ok(created.ok);
          assert.equal(pickups.find(created.invitationId)!.status, 'invited');
          const redeemed = await pickups.redeem(created.token, created.code, person);
          assert.ok(redeemed.ok);
          pickups.file(redeemed.holdId, 'p12', person.ip);
          const cert = portal.db.prepare('SELECT id, user_id, issued_at FROM certificates').get() as {
            id: number;
            user_id: number;
            issued_at: string;
          };
          const statuses = () => ({
            invitation: pickups.find(created.invitationId)!.status,
            listed: pickups.list().find((row) => row.id === created.invitationId)!.status,
            ofCertificate: pickups.forCertificate(cert.id)!.status,
            certificate: enrollment.certificate(cert.id)!.pickup,
            certificateListed: enrollment
              .list({
                search: '',
                status: 'all',
                expiringWithinDays: undefined,
                sort: 'issued',
                after: undefined,
                limit: 50,
              })
              .rows.find((row) => row.id === cert.id)!.pickup,
          });
          const all = (status: string) => ({
            invitation: status,
            listed: status,
            ofCertificate: status,
            certificate: status,
            certificateListed: status,
          });
          assert.deepEqual(statuses(), all('picked-up'));

          // The device published, but before this certificate was delivered: still only picked up.
          const store = presenceRepository(portal.db);
          const before = new Date(Date.parse(cert.issued_at) - 60_000).toISOString();
          store.write([{ userId: cert.user_id, device: 'pixel', lastMessageAt: before, lastWillAt: null }]);
          assert.deepEqual(statuses(), all('picked-up'));

          portal.clock.advance(5 * 60_000);
          store.write([
            {
              userId: cert.user_id,
              device: 'pixel',
              lastMessageAt: portal.clock.now().toISOString(),
              lastWillAt: null,
            },
          ]);
          assert.deepEqual(statuses(), all(link ? 'connected' : 'picked-up'));

          // The pages say it too.
          const browser = new Browser(portal);
          await browser.signIn();
          const word = link ? 'connected' : 'picked up';
          for (const page of ['/invitations', `/invitations/${created.invitationId}`])
            assert.match((await browser.get(page)).body, new RegExp(`data-testid="invitation-status">${word}<`), page);
          assert.match(
            (await browser.get('/certificates')).body,
            new RegExp(`data-testid="pickup-status">${word}<`),
            'the certificate list',
          );
          const detail = (await browser.get(`/certificates/${cert.id}`)).body;
          if (link) assert.match(detail, /data-testid="pickup-status">connected</);
          else assert.doesNotMatch(detail, /data-testid="pickup-status"/);
          assert.match(detail, /Picked up through a pickup link/);
        },
      );
    }
  });
});
