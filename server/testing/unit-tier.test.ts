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

const tiers = [
  {
    name: 'unit',
    table: 'unit-weights.ts',
    files: unitTestFiles,
    shares: () => unitTestShares(2),
    weights: UNIT_TEST_WEIGHTS,
  },
  {
    name: 'integration',
    table: 'int-weights.ts',
    files: intTestFiles,
    shares: () => intTestShares(3),
    weights: INT_TEST_WEIGHTS,
  },
];

for (const tier of tiers) {
  describe(`the ${tier.name} tier`, () => {
    test(`${tier.table} lists exactly the ${tier.name} test files (else: node --import tsx scripts/test-weights.ts ${tier.name})`, () => {
      assert.deepEqual(Object.keys(tier.weights).sort(), tier.files());
    });

    test('the shares hold every file once, their weights within the heaviest file of each other', () => {
      const shares = tier.shares();
      assert.deepEqual(shares.flatMap((share) => share.files).sort(), tier.files());
      const weights = shares.map((share) => share.weight);
      assert.ok(
        Math.max(...weights) - Math.min(...weights) <= Math.max(...Object.values(tier.weights)),
        `shares weigh ${weights.map((weight) => weight.toFixed(1)).join(', ')}`,
      );
    });
  });
}
