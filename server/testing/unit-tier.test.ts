// The test tiers' own bookkeeping: every unit and integration test file has a measured weight
// (unit-weights.ts, int-weights.ts) and every weight names a file that exists, so that the shares
// stay balanced as files come and go; and the shares hold every file once, at weights no further
// apart than the heaviest file.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { intTestFiles, intTestShares } from './int-tier.js';
import { INT_TEST_WEIGHTS } from './int-weights.js';
import { unitTestFiles, unitTestShares } from './unit-tier.js';
import { UNIT_TEST_WEIGHTS } from './unit-weights.js';

describe('the unit tier', () => {
  test('unit-weights.ts lists exactly the unit test files (else: node --import tsx scripts/test-weights.ts unit)', () => {
    assert.deepEqual(Object.keys(UNIT_TEST_WEIGHTS).sort(), unitTestFiles());
  });

  test('the shares hold every file once, their weights within the costliest file of each other', () => {
    const shares = unitTestShares(2);
    assert.deepEqual(shares.flatMap((share) => share.files).sort(), unitTestFiles());
    const weights = shares.map((share) => share.weight);
    assert.ok(
      Math.max(...weights) - Math.min(...weights) <= Math.max(...Object.values(UNIT_TEST_WEIGHTS)),
      `shares weigh ${weights.map((weight) => weight.toFixed(1)).join(' and ')}`,
    );
  });
});

describe('the integration tier', () => {
  test('int-weights.ts lists exactly the integration test files (else: node --import tsx scripts/test-weights.ts integration)', () => {
    assert.deepEqual(Object.keys(INT_TEST_WEIGHTS).sort(), intTestFiles());
  });

  test('the three shares hold every file once, their weights within the heaviest file of each other', () => {
    const shares = intTestShares(3);
    assert.deepEqual(shares.flatMap((share) => share.files).sort(), intTestFiles());
    const weights = shares.map((share) => share.weight);
    assert.ok(
      Math.max(...weights) - Math.min(...weights) <= Math.max(...Object.values(INT_TEST_WEIGHTS)),
      `shares weigh ${weights.map((weight) => weight.toFixed(1)).join(', ')}`,
    );
  });
});
