import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generatePassphrase, PASSPHRASE_ALPHABET, PASSPHRASE_BITS } from './passphrase.js';

describe('bundle passphrases', () => {
  test('at least 100 bits from an alphabet without look-alikes', () => {
    assert.ok(PASSPHRASE_BITS >= 100, `${PASSPHRASE_BITS} bits`);
    for (const lookAlike of '01ilo') assert.ok(!PASSPHRASE_ALPHABET.includes(lookAlike), lookAlike);
  });

  test('grouped for typing, ASCII only, and different every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const passphrase = generatePassphrase();
      assert.match(passphrase, /^([2-9a-hjkmnp-z]{4}-){5}[2-9a-hjkmnp-z]{4}$/);
      seen.add(passphrase);
    }
    assert.equal(seen.size, 1000);
  });

  test('every character of the alphabet is used (no bias to a subset)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++)
      for (const c of generatePassphrase().replace(/-/g, '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, PASSPHRASE_ALPHABET.length);
  });
});
