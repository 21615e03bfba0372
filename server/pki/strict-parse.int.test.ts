// Every kind of certificate the portal makes, and its CRL, through a strict X.509 parser (Go's
// crypto/x509, see testing/x509-strict/main.go): OpenSSL and Mosquitto read a CN such as `j_smith`
// encoded as a PrintableString, which forbids `_`, but strict parsers (Python's cryptography since
// its Rust parser, Go) refuse the whole certificate. Names are UTF8String.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../paths.js';
import { Scratch, openssl } from '../testing/openssl.js';
import { TEST_CA_KEY_BITS, makeTestCa } from '../testing/pki.js';
import { createCa, loadCa } from './ca.js';
import { buildCrlPem } from './crl.js';
import { issueClientCertificate, issueServerCertificate } from './issue.js';
import { generateRsaKeyPair } from './keys.js';

const execFileAsync = promisify(execFile);
const PARSER = path.join(projectRoot, 'server/testing/x509-strict/main.go');

async function strictlyParsed(files: Record<string, string>): Promise<Record<string, string>> {
  const { stdout } = await execFileAsync('go', ['run', PARSER, ...Object.values(files)], { timeout: 120_000 });
  const byFile = new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string]),
  );
  return Object.fromEntries(Object.entries(files).map(([kind, file]) => [kind, byFile.get(file) ?? 'not parsed']));
}

test('a strict parser reads every certificate the portal makes, with a username that has an underscore', async () => {
  const now = new Date();
  const scratch = new Scratch();
  const constrainedMade = await createCa('Strict Test CA', now, TEST_CA_KEY_BITS, {
    hosts: ['mqtt.example.org'],
    ips: ['192.0.2.10'],
  });
  const constrained = loadCa(constrainedMade.certPem, constrainedMade.keyPem, undefined, now);
  const { ca: unconstrained } = await makeTestCa('Strict Unconstrained CA');
  const keys = await generateRsaKeyPair(2048);
  const client = (ca: typeof constrained) =>
    issueClientCertificate({ ca, username: 'j_smith', publicKeyPem: keys.publicKeyPem, days: 30, now }).pem;
  const server = issueServerCertificate({
    ca: constrained,
    hosts: ['mqtt.example.org'],
    ips: ['192.0.2.10'],
    publicKeyPem: keys.publicKeyPem,
    days: 825,
    now,
  });
  const crl = buildCrlPem({
    ca: constrained,
    entries: [{ serial: server.serial, revokedAt: now, reason: 'superseded' }],
    crlNumber: 7n,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 86400_000),
  });
  const files = {
    'constrained CA': scratch.file('ca.crt', constrainedMade.certPem),
    'unconstrained CA': scratch.file('ca-old.crt', unconstrained.certPem),
    'client under the constrained CA (name constraints, SAN)': scratch.file('client.crt', client(constrained)),
    'client under an unconstrained CA': scratch.file('client-old.crt', client(unconstrained)),
    'broker server certificate': scratch.file('server.crt', server.pem),
    CRL: scratch.file('crl.pem', crl),
  };
  const results = await strictlyParsed(files);
  assert.deepEqual(results, Object.fromEntries(Object.keys(files).map((kind) => [kind, 'ok'])));

  // The CN is a UTF8String, and OpenSSL still chains the client to its CA.
  const parsed = await openssl(['asn1parse', '-in', files['client under the constrained CA (name constraints, SAN)']]);
  assert.match(parsed.stdout, /UTF8STRING\s*:j_smith/);
  const verified = await openssl([
    'verify',
    '-CAfile',
    files['constrained CA'],
    files['client under the constrained CA (name constraints, SAN)'],
  ]);
  assert.ok(verified.ok, verified.stderr + verified.stdout);
});
