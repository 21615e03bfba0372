import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { readElement, unsignedInteger } from './der.js';
import { randomSerial, SERIAL_BYTES } from './serial.js';

describe('serial numbers', () => {
  test('10,000 serials: positive, 16 octets, at most 20, minimal DER, all distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const serial = randomSerial();
      assert.match(serial, /^[0-9a-f]{32}$/);
      const bytes = Buffer.from(serial, 'hex');
      assert.equal(bytes.length, SERIAL_BYTES);
      assert.ok(bytes[0]! < 0x80 && bytes[0]! > 0, 'top bit clear and no leading zero octet');
      const der = readElement(unsignedInteger(bytes));
      assert.ok(der.value.length <= 20);
      assert.ok(der.value.equals(bytes), 'encoded as is: positive and minimal');
      seen.add(serial);
    }
    assert.equal(seen.size, 10_000);
  });

  test('DER INTEGERs of any magnitude are positive and minimal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (bytes) => {
        const value = readElement(unsignedInteger(Buffer.from(bytes))).value;
        assert.ok(value[0]! < 0x80, 'positive');
        if (value.length > 1) assert.ok(value[0] !== 0 || value[1]! >= 0x80, 'minimal');
        assert.equal(BigInt(`0x${value.toString('hex')}`), BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`));
      }),
    );
  });
});
