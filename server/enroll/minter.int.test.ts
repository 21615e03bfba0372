// The minter against the operating system and openssl: its process's threads yield to the event
// loop, every bundle it mints holds a fresh key whose certificate the CA signed, and it never holds
// up the portal's stop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { testCa } from '../testing/pki.js';
import { createMinter } from './minter.js';

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** Nice value and scheduling policy of each thread of a process (/proc/<pid>/task/<tid>/stat, fields 19 and 41). */
function threadPriorities(pid: number | 'self' = 'self'): Map<number, { nice: number; policy: number }> {
  const threads = new Map<number, { nice: number; policy: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
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
async function until(condition: () => boolean | Promise<boolean>, message: string) {
  const deadline = Date.now() + 180_000;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, message);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process still exists (signal 0 tests without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A portal stand-in in a process of its own: `body` runs after `ca` and `createMinter` are in scope,
 * and `mint(username, bits)` mints. tsx by its resolved file, so `cwd` may be anywhere.
 */
function portalScript(body: string, options: { cwd?: string; detached?: boolean } = {}) {
  const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    const { testCa } = await import(${url('../testing/pki.ts')});
    const { createMinter } = await import(${url('./minter.ts')});
    const { ca } = await testCa();
    const request = ${JSON.stringify(request('script', 2048))};
    const mint = (minter, username, keyBits = 2048) => minter.mint({ ...request, username, keyBits, now: new Date() });
    ${body}`;
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), new Scratch().file('portal.mjs', script)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      ...options,
    },
  );
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  /** Resolves once the output holds `text`; rejects if the process ends first. */
  const printed = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => output.includes(text) && resolve(output);
      child.stdout.on('data', check);
      check();
      void exited.then((code) => reject(new Error(`the process ended (${code}) with: ${output}`)));
    });
  return { child, exited, printed };
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
    'mints and makes keys in a process of its own, on threads that run only when the event loop leaves a core idle',
    { skip: process.platform !== 'linux' && 'reads /proc' },
    async () => {
      const { ca } = await testCa();
      const minter = createMinter(ca, { keyPoolSize: 1 });
      try {
        await minter.mint(request('idle', 2048)); // starts a minting thread, and the key pool's with its first take
        // The key-making thread has run (and lowered itself) once it delivered a key.
        await until(async () => ((await minter.keyPoolStats())?.generated ?? 0) >= 1, 'the pool made no key');
        assert.ok(minter.pid !== undefined && minter.pid !== process.pid, 'a process of its own');
        const own = [...threadPriorities().values()];
        assert.deepEqual(
          threadPriorities().get(process.pid),
          { nice: 0, policy: SCHED_OTHER },
          'the event loop keeps its priority',
        );
        assert.ok(
          own.every(({ policy, nice }) => policy === SCHED_OTHER && nice === 0),
          `no lowered thread in the portal's process: ${JSON.stringify(own)}`,
        );
        const lowered = [...threadPriorities(minter.pid)].filter(([, { policy }]) => policy === SCHED_IDLE);
        assert.ok(
          lowered.length >= 2 && lowered.every(([, { nice }]) => nice === 19),
          `the minting and the key-making thread under SCHED_IDLE, at nice 19: ${JSON.stringify(lowered)}`,
        );
      } finally {
        await minter.close();
      }
    },
  );

  test('after start, the minting threads warm up on throw-away bundles, spending no pooled key', async () => {
    const { ca } = await testCa();
    const minter = createMinter(ca, { keyPoolSize: 1 });
    assert.equal(await minter.warmUpMints(), 0, 'nothing before start');
    minter.start();
    try {
      await until(async () => (await minter.warmUpMints()) === 20, 'the minting threads did not warm up');
      await until(async () => (await minter.keyPoolStats())?.available === 1, 'the pool did not fill');
      assert.equal((await minter.keyPoolStats())?.taken, 0, 'the warm-up took no pooled key');
      const scratch = new Scratch();
      const bundle = await minter.mint(request('after-warm-up', 2048));
      const verified = await openssl([
        'verify',
        '-CAfile',
        scratch.file('ca.crt', ca.certPem),
        scratch.file('c.pem', bundle.certPem),
      ]);
      assert.ok(verified.ok, verified.stderr);
      assert.equal((await minter.keyPoolStats())?.taken, 1);
    } finally {
      await minter.close();
    }
  });

  test('every bundle opens with its passphrase, typed or chosen by the minter, and holds its own key, pooled (2048) or made on the spot (3072)', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const caFile = scratch.file('ca.crt', ca.certPem);
    const minter = createMinter(ca, { keyPoolSize: 2 });
    minter.start();
    try {
      // The pool fills after its warm-up delay.
      await until(async () => (await minter.keyPoolStats())?.available === 2, 'the pool did not fill');
      // mint() takes its pooled key synchronously: two 2048 requests get the two pooled keys, the third
      // finds the pool empty and its thread makes one, the 3072 one never asks the pool.
      // Without a typed passphrase the minter chooses one: a pooled key's own (its key shrouded
      // ahead), or a new one.
      const generated = (username: string, keyBits: number) => ({
        ...request(username, keyBits),
        passphrase: undefined,
      });
      const bundles = await Promise.all([
        minter.mint(generated('a', 2048)),
        minter.mint(request('b', 2048)),
        minter.mint(generated('c', 2048)),
        minter.mint(generated('d', 3072)),
      ]);
      assert.equal(bundles[1].passphrase, 'minter-test-pass', 'the typed passphrase');
      const chosen = [0, 2, 3].map((i) => bundles[i]!.passphrase);
      assert.equal(new Set(chosen).size, 3, 'each chosen passphrase its own');
      for (const passphrase of chosen) assert.match(passphrase, /^[a-z0-9-]{16,}$/i);
      const moduli = new Set<string>();
      for (const [i, bundle] of bundles.entries()) {
        const p12 = scratch.file(`b${i}.p12`, Buffer.from(bundle.pkcs12));
        const opened = await openssl(['pkcs12', '-in', p12, '-passin', `pass:${bundle.passphrase}`, '-nodes']);
        assert.ok(opened.ok, opened.stderr);
        const modulus = await openssl(
          ['rsa', '-noout', '-modulus'].concat(['-in', scratch.file(`k${i}.pem`, opened.stdout)]),
        );
        moduli.add(modulus.stdout);
        const verified = await openssl(['verify', '-CAfile', caFile, scratch.file(`c${i}.pem`, bundle.certPem)]);
        assert.ok(verified.ok, verified.stderr);
      }
      assert.equal(moduli.size, 4, 'four bundles, four keys');
      const stats = await minter.keyPoolStats();
      assert.deepEqual(
        { taken: stats?.taken, missed: stats?.missed },
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
    await until(async () => ((await minter.keyPoolStats())?.available ?? 0) >= 1, 'the pool did not start filling');
    const host = minter.pid!;
    // Every core busy at normal priority, as under a CI run: SCHED_IDLE threads get almost nothing.
    const busy = Array.from({ length: 6 }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      await minter.close();
      const took = performance.now() - started;
      // It took 7-8 s before, past the shutdown's 10 s grace together with the rest under CI load.
      // close() waits 1 s, then kills: the bound tells that from the old wait, with room for a load
      // of six busy loops on top of the CI's own.
      assert.ok(took < 5_000, `close() took ${Math.round(took)} ms`);
    } finally {
      for (const child of busy) child.kill('SIGKILL');
    }
    // Its threads, at idle priority, end as soon as they get a core (the kernel runs each one's exit).
    await until(() => !alive(host), 'the minting process is still there');
  });

  test('a process that stops while a key is being made on a busy machine exits at once', async () => {
    // close() returning is not enough: Node's exit joins every worker thread, and a thread inside
    // OpenSSL's key generation cannot be interrupted. At idle priority under CI load that held a
    // stopping portal past its grace (upgrade.int, 15 s and more).
    const {
      child: portal,
      exited,
      printed,
    } = portalScript(`
      const minter = createMinter(ca, { keyPoolSize: 50 }); // keeps refilling: a key is always under way
      minter.start();
      while (((await minter.keyPoolStats())?.available ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 20));
      process.once('SIGTERM', () => minter.close().then(() => process.exit(0)));
      setInterval(() => {}, 1_000); // a portal listens: only the stop ends it
      process.stdout.write('filling\\n');`);
    const busy: ReturnType<typeof spawn>[] = [];
    try {
      await printed('filling');
      // Every core busy at normal priority, as under a CI run: SCHED_IDLE work gets almost nothing.
      for (let i = 0; i < 6; i++) busy.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(portal.exitCode, null, 'still running before the stop');
      const started = performance.now();
      portal.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000, 'still running'))]);
      const took = performance.now() - started;
      assert.equal(code, 0, 'it exits, cleanly');
      // It took 15 s and more before; the bound leaves room for the exit's own work under this load
      // (under coverage the child writes its report as it exits).
      assert.ok(took < 9_000, `it took ${Math.round(took)} ms to exit`);
    } finally {
      for (const child of busy) child.kill('SIGKILL');
      portal.kill('SIGKILL');
    }
  });
  test('a portal killed without a stop takes its minting process with it', async () => {
    const { child: portal, printed } = portalScript(`
      const minter = createMinter(ca, { keyPoolSize: 1 });
      await mint(minter, 'orphan');
      process.stdout.write('host ' + minter.pid + '\\n');
      setInterval(() => {}, 1_000);`);
    try {
      const host = Number(/host (\d+)/.exec(await printed('\n'))![1]);
      assert.ok(alive(host), 'the minting process runs');
      portal.kill('SIGKILL');
      await until(() => !alive(host), 'the minting process outlived the portal');
    } finally {
      portal.kill('SIGKILL');
    }
  });

  test('a minting process that dies fails the mints it held, is reported, and the next mint starts another', async () => {
    const { ca } = await testCa();
    const errors: string[] = [];
    const minter = createMinter(ca, { keyPoolSize: 1, onError: (error) => errors.push(String(error)) });
    try {
      await minter.mint(request('first', 2048));
      const first = minter.pid!;
      const held = minter.mint(request('held', 4096)); // long enough to be under way when the process dies
      process.kill(first, 'SIGKILL');
      await assert.rejects(held, /the minting process ended \(SIGKILL\)/);
      assert.deepEqual(errors, ['Error: the minting process ended (SIGKILL)']);
      const bundle = await minter.mint(request('after', 2048));
      assert.ok(bundle.pkcs12.length > 0, 'a bundle after the restart');
      assert.ok(minter.pid !== undefined && minter.pid !== first, 'from a new process');
    } finally {
      await minter.close();
    }
  });
  test('a minting process that replaces one that died after the start warms up too', async () => {
    const { ca } = await testCa();
    const minter = createMinter(ca, { keyPoolSize: 1, onError: () => undefined });
    minter.start();
    try {
      await until(async () => (await minter.warmUpMints()) === 20, 'the first process did not warm up');
      process.kill(minter.pid!, 'SIGKILL');
      await until(() => minter.pid === undefined, 'the death was not noticed');
      await minter.mint(request('after', 2048)); // starts the next process
      await until(async () => (await minter.warmUpMints()) === 20, 'the next process did not warm up');
      await until(async () => (await minter.keyPoolStats())?.available === 1, "the next process's pool did not fill");
    } finally {
      await minter.close();
    }
  });
  test('a fork that fails fails the mint with a clear error, reported, and the next mint starts a process', async () => {
    const { ca } = await testCa();
    const errors: string[] = [];
    const minter = createMinter(ca, { keyPoolSize: 1, onError: (error) => errors.push(String(error)) });
    const node = process.execPath;
    try {
      process.execPath = '/nonexistent/node'; // as when the program is gone, or no process is left
      await assert.rejects(minter.mint(request('nothing', 2048)), /the minting process failed: spawn .*ENOENT/);
      await assert.rejects(minter.mint(request('again', 2048)), /the minting process failed/, 'each mint tries anew');
      process.execPath = node;
      assert.equal(errors.length, 2);
      const bundle = await minter.mint(request('after', 2048));
      assert.ok(bundle.pkcs12.length > 0);
    } finally {
      process.execPath = node;
      await minter.close();
    }
  });

  test('an idle minting process does not keep a portal alive that has nothing else to do, run from anywhere', async () => {
    // Minted from another folder than the project's (tsx found by its file), then nothing left to do.
    const { exited, printed } = portalScript(
      `const minter = createMinter(ca, { keyPoolSize: 1 });
      await mint(minter, 'idle');
      process.stdout.write('minted\\n');`,
      { cwd: tmpdir() },
    );
    await printed('minted');
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000, 'still running'))]);
    assert.equal(code, 0, 'it ends on its own');
  });

  for (const signal of ['SIGINT', 'SIGQUIT'] as const)
    test(`a ${signal} to the portal's process group leaves a mint under way to finish while the portal stops`, async () => {
      // Ctrl-C or Ctrl-\\ in a terminal, or a service manager's stop, reaches every process of the group.
      const {
        child: portal,
        exited,
        printed,
      } = portalScript(
        `const minter = createMinter(ca, { keyPoolSize: 1 });
      await mint(minter, 'warm');
      const held = mint(minter, 'held', 4096);
      process.once('${signal}', async () => {
        try {
          await held;
          process.stdout.write('minted\\n');
        } catch (error) {
          process.stdout.write('failed: ' + error.message + '\\n');
        }
        await minter.close();
        process.exit(0);
      });
      process.stdout.write('minting\\n');`,
        { detached: true },
      );
      try {
        await printed('minting');
        process.kill(-portal.pid!, signal);
        assert.equal(await exited, 0);
        assert.match(await printed('\n'), /^minted$/m);
      } finally {
        portal.kill('SIGKILL');
      }
    });
});
