// Two issues racing for the same new person with different addresses and no "change the address"
// tick: both pass the first check (the person does not exist yet), so only the check inside the
// recording transaction can keep the second from moving the first one's address or mailing a
// certificate to an address nobody confirmed. The fakes below order the two requests by events,
// not by time: the first mint waits until the second request has passed the first check (it asks
// to mint), and the second mint waits until the first request has recorded (it sends its mail).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Mailer } from '../mail/transport.js';
import { withPortal } from '../testing/harness.js';
import { MemoryMailer } from '../testing/mailer.js';
import { inProcessMinter } from '../testing/minter.js';
import { testCa } from '../testing/pki.js';
import type { IssueRequest } from './issue.js';
import type { Minter } from './minter.js';

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('two concurrent issues for a new person', () => {
  test('with different addresses and no tick: one succeeds, the other gets email-differs, the address stays', async () => {
    const { ca } = await testCa();
    const real = inProcessMinter(ca);
    const secondAsked = gate(); // the second request passed the first check
    const firstRecorded = gate(); // the first request's certificate and user are recorded
    let mints = 0;
    const minter: Minter = {
      ...real,
      async mint(request) {
        const call = ++mints;
        if (call === 1) await secondAsked.opened;
        if (call === 2) {
          secondAsked.open();
          await firstRecorded.opened;
        }
        return real.mint(request);
      },
    };
    const sent: string[] = [];
    const mailer: Mailer = {
      kind: 'smtp',
      async send(message) {
        sent.push(...(message.envelope as { to: string[] }).to); // the message comes built, with its envelope
        firstRecorded.open();
        return { response: '250 accepted' } as Awaited<ReturnType<Mailer['send']>>;
      },
      close() {},
    };

    await withPortal({ deps: { minter, mailer } }, async (portal) => {
      const base: IssueRequest = {
        username: 'racer',
        email: 'first@example.org',
        device: null,
        days: 30,
        keyBits: 2048,
        format: 'compatible',
        changeEmail: false,
      };
      const actor = { name: 'admin', ip: '127.0.0.1' };
      const [first, second] = await Promise.all([
        portal.services.enrollment.issue(base, actor),
        portal.services.enrollment.issue({ ...base, email: 'second@example.org' }, actor),
      ]);

      assert.equal(mints, 2, 'both requests passed the first check and minted');
      assert.equal(first.ok, true, JSON.stringify(first));
      assert.deepEqual(
        second.ok
          ? second
          : { reason: second.reason, ...('currentEmail' in second && { currentEmail: second.currentEmail }) },
        {
          reason: 'email-differs',
          currentEmail: 'first@example.org',
        },
      );
      assert.equal(
        portal.db.prepare("SELECT email FROM users WHERE username = 'racer'").pluck().get(),
        'first@example.org',
      );
      assert.equal(portal.db.prepare('SELECT count(*) FROM certificates').pluck().get(), 1);
      assert.equal(portal.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'email-change'").pluck().get(), 0);
      assert.deepEqual(sent, ['first@example.org'], 'nothing was mailed to the unconfirmed address');
    });
  });
});

describe('an issue racing a deletion', () => {
  test('a person deleted while their key is made is not brought back: nothing recorded, nothing mailed', async () => {
    const { ca } = await testCa();
    const real = inProcessMinter(ca);
    const minting = gate(); // the issue passed its first check and asks to mint
    const deleted = gate(); // the deletion is done
    let mints = 0;
    const minter: Minter = {
      ...real,
      async mint(request) {
        if (++mints === 2) {
          minting.open();
          await deleted.opened;
        }
        return real.mint(request);
      },
    };
    const mailer = new MemoryMailer();
    await withPortal({ deps: { minter, mailer } }, async (portal) => {
      const { enrollment } = portal.services;
      const actor = { name: 'admin', ip: '127.0.0.1' };
      const dave: IssueRequest = {
        username: 'dave',
        email: 'dave@example.org',
        device: 'phone',
        days: 30,
        keyBits: 2048,
        format: 'compatible',
        changeEmail: false,
      };
      assert.ok((await enrollment.issue(dave, actor)).ok);
      const second = enrollment.issue({ ...dave, device: 'tablet' }, actor);
      await minting.opened;
      assert.ok((await enrollment.people.remove('dave', actor)).ok);
      deleted.open();
      const outcome = await second;
      assert.equal(outcome.ok ? 'issued' : outcome.reason, 'deleted-meanwhile');
      const user = portal.db.prepare("SELECT email, deleted_at FROM users WHERE username = 'dave'").get() as {
        email: string | null;
        deleted_at: string | null;
      };
      assert.notEqual(user.deleted_at, null, 'still deleted');
      assert.deepEqual(
        portal.db.prepare('SELECT device, status FROM certificates ORDER BY id').all(),
        [{ device: 'phone', status: 'revoked' }],
        'no tablet certificate',
      );
      assert.equal(mailer.messages.length, 1, "only the first certificate's mail");
      // Issued again afterwards, on purpose: the name is given back.
      assert.ok((await enrollment.issue({ ...dave, device: 'tablet' }, actor)).ok);
    });
  });
});
