// One sending of the issue form: a second POST with the same submission id waits for the first and
// goes where it went; after a first that failed, the waiting ones run one at a time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Submissions } from './submissions.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test(
  'a repeat goes where the first went; after a failure the waiting ones run one at a time',
  { timeout: 5000 },
  async () => {
    const submissions = new Submissions(() => new Date());
    let running = 0;
    let most = 0;
    let runs = 0;
    const work = (answer: string | undefined) => async () => {
      runs++;
      most = Math.max(most, ++running);
      await tick();
      running--;
      return { location: answer };
    };
    // The first answers with the form again (a refusal): the two waiting then run in turn, and the
    // third is sent where the second went.
    const [first, second, third] = await Promise.all([
      submissions.once('admin\u0000a', work(undefined)),
      submissions.once('admin\u0000a', work('/certificates/1/issued')),
      submissions.once('admin\u0000a', work('/certificates/2/issued')),
    ]);
    assert.deepEqual(
      [first.location, second.location, third.location],
      [undefined, '/certificates/1/issued', '/certificates/1/issued'],
    );
    assert.equal(runs, 2);
    assert.equal(most, 1, 'never two at once');
    // Another admin's id, or none: their own run.
    assert.equal((await submissions.once('other\u0000a', work('/x'))).location, '/x');
    assert.equal((await submissions.once(undefined, work('/y'))).location, '/y');
    assert.equal(runs, 4);
  },
);

test('a first that throws lets the next one run', { timeout: 5000 }, async () => {
  const submissions = new Submissions(() => new Date());
  const failing = submissions.once('admin\u0000b', async () => {
    await tick();
    throw new Error('the database is locked');
  });
  const retry = submissions.once('admin\u0000b', async () => ({ location: '/certificates/3/issued' }));
  await assert.rejects(failing, /locked/);
  assert.equal((await retry).location, '/certificates/3/issued');
});
