// The test harness's free ports: a port handed out once is not handed out again by the same process.
// A test often draws two or three ports before any of its servers listens (Stack.start: the portal's,
// Mosquitto's, the control listener's), so the check that nothing listens on a port cannot tell them
// apart; two draws of the same random number would give two servers one port.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { freePort } from './mosquitto.js';

test('two draws of the same random number give two ports', async () => {
  // The same number twice, then another; after that Math.random's own numbers (a port an earlier
  // file of this process drew, or one something listens on, takes a fourth draw).
  const draws = [0.5, 0.5, 0.25];
  const real = Math.random.bind(Math);
  const random = mock.method(Math, 'random', () => draws.shift() ?? real());
  try {
    const first = await freePort();
    const second = await freePort();
    assert.notEqual(second, first);
    assert.equal(draws.length, 0, 'the second port came from a third draw');
  } finally {
    random.mock.restore();
  }
});
