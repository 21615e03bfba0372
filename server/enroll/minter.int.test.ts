// The minter against the operating system and openssl: its threads yield to the event loop, and
// every bundle it mints holds a fresh key whose certificate the CA signed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { testCa } from '../testing/pki.js';
import { createMinter } from './minter.js';

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** Nice value and scheduling policy of each thread of this process (/proc/self/task/<tid>/stat, fields 19 and 41). */
function threadPriorities(): Map<number, { nice: number; policy: number }> {
  const threads = new Map<number, { nice: number; policy: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    threads.set(Number(tid), { nice: Number(fields[16]), policy: Number(fields[38]) });
  }
  return threads;
}

/**
 * Polls `condition` every 20 ms; fails after three minutes. The pool's keys are made on a SCHED_IDLE
 * thread, which gets a core only when nothing else wants one: on a busy machine that takes long.
 */
async function until(condition: () => boolean, message: string) {
  const deadline = Date.now() + 180_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, message);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const request = (username: string, keyBits: number) => ({
  username,
  device: null,
  days: 30,
  keyBits,
  format: 'compatible' as const,
  passphrase: 'minter-test-pass',
  now: new Date(),
});

describe('the minter', () => {
  test(
    'mints and makes keys on threads that run only when the event loop leaves a core idle',
    { skip: process.platform !== 'linux' && 'reads /proc' },
    async () => {
      const { ca } = await testCa();
      const before = new Set(threadPriorities().keys());
      const minter = createMinter(ca, { keyPoolSize: 1 });
      try {
        await minter.mint(request('idle', 2048)); // starts a minting thread, and the key pool's with its first take
        // The key-making thread has run (and lowered itself) once it delivered a key.
        await until(() => minter.keyPool!.stats.generated >= 1, 'the pool made no key');
        const threads = threadPriorities();
        const added = [...threads].filter(([tid]) => !before.has(tid)).map(([, priority]) => priority);
        assert.deepEqual(
          threads.get(process.pid),
          { nice: 0, policy: SCHED_OTHER },
          'the event loop keeps its priority',
        );
        assert.ok(added.length >= 2, 'threads were started');
        assert.ok(
          added.every(({ nice }) => nice === 19),
          `every added thread at nice 19: ${JSON.stringify(added)}`,
        );
        assert.ok(
          added.filter(({ policy }) => policy === SCHED_IDLE).length >= 2,
          `the minting and the key-making thread under SCHED_IDLE: ${JSON.stringify(added)}`,
        );
      } finally {
        await minter.close();
      }
    },
  );

  test('every bundle opens with its passphrase and holds its own key, pooled (2048) or made on the spot (3072)', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const caFile = scratch.file('ca.crt', ca.certPem);
    const minter = createMinter(ca, { keyPoolSize: 2 });
    minter.start();
    try {
      // The pool fills after its warm-up delay.
      await until(() => minter.keyPool!.available === 2, 'the pool did not fill');
      // mint() takes its pooled key synchronously: two 2048 requests get the two pooled keys, the third
      // finds the pool empty and its thread makes one, the 3072 one never asks the pool.
      const bundles = await Promise.all([
        minter.mint(request('a', 2048)),
        minter.mint(request('b', 2048)),
        minter.mint(request('c', 2048)),
        minter.mint(request('d', 3072)),
      ]);
      const moduli = new Set<string>();
      for (const [i, bundle] of bundles.entries()) {
        const p12 = scratch.file(`b${i}.p12`, Buffer.from(bundle.pkcs12));
        const opened = await openssl(['pkcs12', '-in', p12, '-passin', 'pass:minter-test-pass', '-nodes']);
        assert.ok(opened.ok, opened.stderr);
        const modulus = await openssl(
          ['rsa', '-noout', '-modulus'].concat(['-in', scratch.file(`k${i}.pem`, opened.stdout)]),
        );
        moduli.add(modulus.stdout);
        const verified = await openssl(['verify', '-CAfile', caFile, scratch.file(`c${i}.pem`, bundle.certPem)]);
        assert.ok(verified.ok, verified.stderr);
      }
      assert.equal(moduli.size, 4, 'four bundles, four keys');
      assert.deepEqual(
        { taken: minter.keyPool!.stats.taken, missed: minter.keyPool!.stats.missed },
        { taken: 2, missed: 1 },
        'two keys came from the pool, one was made on the spot',
      );
      const bits = await openssl(['x509', '-noout', '-text', '-in', scratch.path('c3.pem')]);
      assert.match(bits.stdout, /Public-Key: \(3072 bit\)/);
    } finally {
      await minter.close();
    }
  });

  test('close() does not wait on a key still being made while the machine is busy (idle priority starves it)', async () => {
    const { ca } = await testCa();
    const minter = createMinter(ca, { keyPoolSize: 50 }); // keeps refilling: a key is always under way
    minter.start();
    await until(() => (minter.keyPool?.available ?? 0) >= 1, 'the pool did not start filling');
    // Every core busy at normal priority, as under a CI run: SCHED_IDLE threads get almost nothing.
    const busy = Array.from({ length: 6 }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      await minter.close();
      const took = performance.now() - started;
      // It took 7-8 s before, past the shutdown's 10 s grace together with the rest under CI load.
      assert.ok(took < 2_500, `close() took ${Math.round(took)} ms`);
    } finally {
      for (const child of busy) child.kill('SIGKILL');
    }
  });
});
