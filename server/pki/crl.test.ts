// CRLs in-process: what publication checks before replacing crl.pem, and what the entries hold.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeTestCa, readCrl, testCa } from '../testing/pki.js';
import { buildCrlPem, isValidCrl, REVOCATION_REASONS, type RevocationReason } from './crl.js';
import { randomSerial } from './serial.js';

const DAY = 86400_000;

describe('CRLs', () => {
  test('isValidCrl accepts its own CRLs and refuses tampered, truncated or foreign ones', async () => {
    const { ca } = await testCa();
    const good = buildCrlPem({
      ca,
      entries: [{ serial: randomSerial(), revokedAt: new Date(), reason: 'superseded' }],
      crlNumber: 4n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + DAY),
    });
    assert.equal(isValidCrl(good, ca), true);
    const lines = good.split('\n');
    const tampered = [...lines];
    tampered[3] = tampered[3]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal(isValidCrl(tampered.join('\n'), ca), false);
    assert.equal(isValidCrl(good.slice(0, good.length / 2), ca), false);
    assert.equal(isValidCrl('', ca), false);
    assert.equal(isValidCrl(`${good}${good}`, ca), false, 'two blocks');
    const { ca: otherCa } = await makeTestCa('Another CA');
    const foreign = buildCrlPem({
      ca: otherCa,
      entries: [],
      crlNumber: 1n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + DAY),
    });
    assert.equal(isValidCrl(foreign, otherCa), true);
    assert.equal(isValidCrl(foreign, ca), false);
  });

  test('entries keep their serial, reason and order; the number and dates are the ones asked for', async () => {
    const { ca } = await testCa();
    const reasons = Object.keys(REVOCATION_REASONS) as RevocationReason[];
    const entries = reasons.map((reason) => ({ serial: randomSerial(), revokedAt: new Date(), reason }));
    const thisUpdate = new Date('2049-12-31T23:59:59Z');
    const nextUpdate = new Date('2050-01-30T00:00:00Z');
    const crl = readCrl(buildCrlPem({ ca, entries, crlNumber: 300n, thisUpdate, nextUpdate }));
    assert.deepEqual(
      crl.entries,
      entries.map(({ serial, reason }) => ({ serial, reason })),
    );
    assert.equal(crl.crlNumber, 300n);
    assert.equal(crl.thisUpdate.getTime(), thisUpdate.getTime());
    assert.equal(crl.nextUpdate.getTime(), nextUpdate.getTime());
  });

  test('an empty CRL has no entries and 10,000 entries all arrive', async () => {
    const { ca } = await testCa();
    const now = new Date();
    const empty = buildCrlPem({ ca, entries: [], crlNumber: 1n, thisUpdate: now, nextUpdate: new Date(+now + DAY) });
    assert.deepEqual(readCrl(empty).entries, []);
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      serial: i.toString(16).padStart(32, '1'),
      revokedAt: now,
      reason: 'superseded' as const,
    }));
    const big = buildCrlPem({ ca, entries: many, crlNumber: 2n, thisUpdate: now, nextUpdate: new Date(+now + DAY) });
    assert.equal(isValidCrl(big, ca), true);
    const read = readCrl(big).entries;
    assert.equal(read.length, 10_000);
    assert.equal(read.at(-1)!.serial, many.at(-1)!.serial);
  });
});
