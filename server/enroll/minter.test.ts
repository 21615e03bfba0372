// The minter against the operating system and openssl: its threads yield to the event loop, and
// every bundle it mints holds a fresh key whose certificate the CA signed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { testCa } from '../testing/pki.js';
import { createMinter } from './minter.js';

/** The nice value of each thread of this process (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nice;
}

const request = (username: string, keyBits: number) => ({ username, device: null, days: 30, keyBits, format: 'compatible' as const, passphrase: 'minter-test-pass', now: new Date() });

describe('the minter', () => {
  test('mints on threads that run at a lower priority than the event loop, key making lowest', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const { ca } = await testCa();
    const before = new Set(threadNiceValues().keys());
    const minter = createMinter(ca, { keyPoolSize: 1 });
    try {
      await minter.mint(request('nice', 2048)); // starts the minting threads; the key pool follows
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      const threads = threadNiceValues();
      const added = [...threads].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
      assert.equal(threads.get(process.pid), 0, 'the event loop keeps its priority');
      assert.ok(added.includes(5), `a minting thread at nice 5 among ${added.join(', ')}`);
      assert.ok(added.includes(19), `a key-making thread at nice 19 among ${added.join(', ')}`);
    } finally {
      await minter.close();
    }
  });

  test('every bundle opens with its passphrase and holds its own key, pooled (2048) or made on the spot (3072)', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const caFile = scratch.file('ca.crt', ca.certPem);
    const minter = createMinter(ca, { keyPoolSize: 2 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // let the pool make its keys
      const bundles = await Promise.all([minter.mint(request('a', 2048)), minter.mint(request('b', 2048)), minter.mint(request('c', 2048)), minter.mint(request('d', 3072))]);
      const moduli = new Set<string>();
      for (const [i, bundle] of bundles.entries()) {
        const p12 = scratch.file(`b${i}.p12`, Buffer.from(bundle.pkcs12));
        const opened = await openssl(['pkcs12', '-in', p12, '-passin', 'pass:minter-test-pass', '-nodes']);
        assert.ok(opened.ok, opened.stderr);
        const modulus = await openssl(['rsa', '-noout', '-modulus'].concat(['-in', scratch.file(`k${i}.pem`, opened.stdout)]));
        moduli.add(modulus.stdout);
        const verified = await openssl(['verify', '-CAfile', caFile, scratch.file(`c${i}.pem`, bundle.certPem)]);
        assert.ok(verified.ok, verified.stderr);
      }
      assert.equal(moduli.size, 4, 'four bundles, four keys');
      const bits = await openssl(['x509', '-noout', '-text', '-in', scratch.path('c3.pem')]);
      assert.match(bits.stdout, /Public-Key: \(3072 bit\)/);
    } finally {
      await minter.close();
    }
  });
});
