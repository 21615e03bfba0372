import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { readElement, TAG, time, tlv } from './der.js';

describe('the DER writer', () => {
  test('lengths of every size are encoded so that a reader gets the value back', () => {
    // Every length form, the long ones less often: a 16 MiB value takes a moment to build and read.
    const sizes = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 8 },
      { arbitrary: fc.integer({ min: 65_000, max: 70_000 }), weight: 3 },
      { arbitrary: fc.integer({ min: 16_777_000, max: 16_777_300 }), weight: 1 },
    );
    fc.assert(
      fc.property(sizes, fc.integer({ min: 1, max: 3 }), (size, parts) => {
        const value = Buffer.alloc(size, 0xab);
        const pieces = Array.from({ length: parts }, (_, i) =>
          value.subarray(Math.floor((i * size) / parts), Math.floor(((i + 1) * size) / parts)),
        );
        const element = readElement(tlv(TAG.OCTET_STRING, ...pieces));
        assert.equal(element.tag, TAG.OCTET_STRING);
        assert.ok(element.value.equals(value));
        // DER: the shortest length form, no leading zero octets in the long form.
        if (size < 0x80) assert.equal(element.raw[1], size);
        else assert.notEqual(element.raw[2], 0);
      }),
      { numRuns: 240 },
    );
  });

  test('times are UTCTime up to 2049 and GeneralizedTime from 2050, in whole seconds, for every date', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (date) => {
          const element = readElement(time(date));
          const digits = date.toISOString().slice(0, 19).replace(/[-:T]/g, '');
          if (date.getUTCFullYear() < 2050) {
            assert.equal(element.tag, TAG.UTC_TIME);
            assert.equal(element.value.toString('latin1'), `${digits.slice(2)}Z`);
          } else {
            assert.equal(element.tag, TAG.GENERALIZED_TIME);
            assert.equal(element.value.toString('latin1'), `${digits}Z`);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
