// The check of whether phones trust the broker without the portal's CA, against real Mosquitto
// 2.0.11 set up as the phones meet it (require_certificate, the portal's CA as cafile): a server
// certificate from a root the check trusts ("public") drops the CA step; one from the portal's CA,
// or with another name, does not; a listener that offers only TLS 1.2 (a Node server that requires a
// client certificate as Mosquitto does; Mosquitto 2's tls_version is a minimum, so it always offers
// TLS 1.3), a closed port or a silent one give no answer.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import tls from 'node:tls';
import { issueServerCertificate } from '../pki/issue.js';
import { freePort, Mosquitto } from '../testing/mosquitto.js';
import { Scratch } from '../testing/openssl.js';
import { makeTestCa, sharedKeyPair, testCa } from '../testing/pki.js';
import { checkServerTrust, ServerTrustMonitor } from './server-trust.js';

const scratch = new Scratch();

type TestCa = Awaited<ReturnType<typeof makeTestCa>>['ca'];

/** A server certificate `issuer` signed for `hosts`/`ips`, and its key. */
async function serverCertificate(issuer: TestCa, names: { hosts: string[]; ips: string[] }) {
  const keys = await sharedKeyPair(2048);
  const cert = issueServerCertificate({
    ca: issuer,
    ...names,
    publicKeyPem: keys.publicKeyPem,
    days: 90,
    now: new Date(),
  });
  return { cert: cert.pem, key: keys.privateKeyPem };
}

/** A broker whose server certificate `issuer` signed for `hosts`/`ips`. */
async function broker(name: string, issuer: TestCa, names: { hosts: string[]; ips: string[] }): Promise<Mosquitto> {
  const { cert, key } = await serverCertificate(issuer, names);
  const clientCa = (await testCa()).ca; // the portal's CA: what the broker checks phones against
  const files = {
    caFile: scratch.file(`${name}-client-ca.crt`, clientCa.certPem),
    crlFile: '',
    serverCert: scratch.file(`${name}-server.crt`, cert),
    serverKey: scratch.file(`${name}-server.key`, key),
  };
  const port = await freePort();
  const conf = scratch.file(
    `${name}.conf`,
    [
      'user root',
      'persistence false',
      'log_dest stderr',
      `listener ${port} 127.0.0.1`,
      `cafile ${files.caFile}`,
      `certfile ${files.serverCert}`,
      `keyfile ${files.serverKey}`,
      'require_certificate true',
      'use_identity_as_username true',
      '',
    ].join('\n'),
  );
  return Mosquitto.run(conf, port, files);
}

describe('whether phones trust the broker without the portal CA', { concurrency: true }, () => {
  let publicRoot: TestCa;
  let portalCa: TestCa;
  let publicBroker: Mosquitto;
  let privateBroker: Mosquitto;
  let otherName: Mosquitto;
  const local = { hosts: ['localhost'], ips: ['127.0.0.1'] };

  before(async () => {
    publicRoot = (await makeTestCa('Test Public Root')).ca;
    portalCa = (await testCa()).ca;
    [publicBroker, privateBroker, otherName] = await Promise.all([
      broker('public', publicRoot, local),
      broker('private', portalCa, local),
      broker('other-name', publicRoot, { hosts: ['mqtt.example.org'], ips: [] }),
    ]);
  });
  after(async () => {
    await Promise.all([publicBroker, privateBroker, otherName].map((b) => b?.stop()));
  });

  test('a certificate from a root the phones trust is "public", by name and by IP address', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const verdict = await checkServerTrust({ host, port: publicBroker.port }, { roots: [publicRoot.certPem] });
      assert.deepEqual(verdict, { verdict: 'public', issuer: 'Test Public Root' }, host);
    }
  });

  test('the same broker against the real public roots, and one signed by the portal CA, are "private"', async () => {
    const real = await checkServerTrust({ host: 'localhost', port: publicBroker.port });
    assert.equal(real.verdict, 'private');
    const portal = await checkServerTrust(
      { host: 'localhost', port: privateBroker.port },
      { roots: [publicRoot.certPem] },
    );
    assert.equal(portal.verdict, 'private');
    assert.match(portal.verdict === 'private' ? portal.reason : '', /issuer|self.signed|verify/i);
  });

  test('a trusted chain for another name is not trusted: phones check the name', async () => {
    const verdict = await checkServerTrust(
      { host: '127.0.0.1', port: otherName.port },
      { roots: [publicRoot.certPem] },
    );
    assert.equal(verdict.verdict, 'private');
    assert.match(verdict.verdict === 'private' ? verdict.reason : '', /127\.0\.0\.1|altname|names/i);
  });

  test('a TLS 1.2-only listener, a closed port and a silent one give no answer', async () => {
    const { cert, key } = await serverCertificate(publicRoot, local);
    const tls12 = tls.createServer({ cert, key, maxVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: true });
    await new Promise<void>((resolve) => tls12.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tls12.address() as { port: number }).port;
      const old = await checkServerTrust({ host: 'localhost', port }, { roots: [publicRoot.certPem] });
      assert.equal(old.verdict, 'unknown');
    } finally {
      tls12.close();
    }
    const closed = await checkServerTrust({ host: '127.0.0.1', port: await freePort() });
    assert.deepEqual(closed, { verdict: 'unknown', reason: 'ECONNREFUSED' });
    const silent = net.createServer(() => undefined); // accepts and never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const started = Date.now();
      const verdict = await checkServerTrust({ host: '127.0.0.1', port }, { timeoutMs: 300 });
      assert.deepEqual(verdict, { verdict: 'unknown', reason: 'no TLS answer within 300 ms' });
      // The check ended on the timeout it was given, not the 5 s default. The bound is that default,
      // not a speed: the other tests in this file run alongside and can hold the event loop a while.
      assert.ok(Date.now() - started < 5_000, 'the given timeout, not the default one');
    } finally {
      silent.close();
    }
  });

  test('the monitor checks the address phones use, and a changed address has no verdict until checked', async () => {
    let address = { host: 'localhost' as string | undefined, port: publicBroker.port };
    const monitor = new ServerTrustMonitor({
      address: () => address,
      now: () => new Date('2026-11-28T10:00:00Z'),
      check: (target, options) => checkServerTrust(target, { ...options, roots: [publicRoot.certPem] }),
    });
    try {
      monitor.start();
      await monitor.refresh();
      assert.deepEqual(monitor.current(), {
        verdict: 'public',
        issuer: 'Test Public Root',
        address: `localhost:${publicBroker.port}`,
        checkedAt: new Date('2026-11-28T10:00:00Z'),
      });
      address = { host: 'localhost', port: privateBroker.port };
      assert.equal(monitor.current(), undefined, 'a verdict for the old address is none');
      await monitor.refresh();
      assert.equal(monitor.current()?.verdict, 'private');
      address = { host: undefined, port: 8883 };
      await monitor.refresh();
      assert.equal(monitor.current(), undefined, 'no address: nothing to check');
    } finally {
      monitor.stop();
    }
  });
});

describe('the check against the public roots, repeated', () => {
  test('reads the roots into one TLS context, not one per check (each held the event loop 5-15 ms)', async () => {
    const { ca } = await testCa();
    const { cert, key } = await serverCertificate(ca, { hosts: ['localhost'], ips: [] });
    const server = tls.createServer({ cert, key, minVersion: 'TLSv1.3' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const made = mock.method(tls, 'createSecureContext');
    try {
      const port = (server.address() as { port: number }).port;
      for (let i = 0; i < 3; i++)
        assert.equal((await checkServerTrust({ host: 'localhost', port })).verdict, 'private');
      const withRoots = made.mock.calls.filter(
        (call) => ((call.arguments[0] as tls.SecureContextOptions)?.ca?.length ?? 0) > 50,
      );
      assert.ok(withRoots.length <= 1, `${withRoots.length} contexts made from the public roots`);
    } finally {
      made.mock.restore();
      server.close();
    }
  });
});
