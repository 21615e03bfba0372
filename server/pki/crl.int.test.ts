// CRLs as openssl reads them: signature, version, number, key identifier, reasons and dates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scratch, openssl } from '../testing/openssl.js';
import { clientFiles, testCa } from '../testing/pki.js';
import { buildCrlPem, REVOCATION_REASONS, type RevocationReason } from './crl.js';
import { randomSerial } from './serial.js';

const DAY = 86400_000;

describe('CRLs', () => {
  test('openssl verifies the CRL, rejects the revoked certificate and accepts the other', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const caFile = scratch.file('ca.crt', ca.certPem);
    const revoked = await clientFiles(scratch, ca, 'phone');
    const kept = await clientFiles(scratch, ca, 'tablet');
    const now = new Date();
    const crl = buildCrlPem({
      ca,
      entries: [{ serial: revoked.cert.serial, revokedAt: now, reason: 'keyCompromise' }],
      crlNumber: 7n,
      thisUpdate: new Date(now.getTime() - 5 * 60_000),
      nextUpdate: new Date(now.getTime() + 30 * DAY),
    });
    const crlFile = scratch.file('crl.pem', crl);

    const checked = await openssl(['crl', '-in', crlFile, '-CAfile', caFile, '-noout', '-text']);
    assert.ok(checked.ok, checked.stderr);
    assert.match(checked.stderr + checked.stdout, /verify OK/);
    assert.match(checked.stdout, /Version 2/);
    assert.match(checked.stdout, /X509v3 CRL Number: \n\s+7\n/);
    assert.match(
      checked.stdout,
      new RegExp(
        `Authority Key Identifier: \\n\\s+(keyid:)?${ca.keyId.toString('hex').toUpperCase().match(/../g)!.join(':')}`,
      ),
    );
    assert.match(
      checked.stdout,
      new RegExp(`Serial Number: ${revoked.cert.serial.toUpperCase()}\\n[\\s\\S]*Key Compromise`),
    );

    const refused = await openssl(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crlFile, revoked.certFile]);
    assert.equal(refused.ok, false);
    assert.match(refused.stdout + refused.stderr, /certificate revoked/);
    const accepted = await openssl(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crlFile, kept.certFile]);
    assert.ok(accepted.ok, accepted.stderr);
  });

  test('an empty CRL leaves revokedCertificates out and still verifies', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const kept = await clientFiles(scratch, ca, 'someone');
    const now = new Date();
    const crlFile = scratch.file(
      'crl.pem',
      buildCrlPem({ ca, entries: [], crlNumber: 1n, thisUpdate: now, nextUpdate: new Date(now.getTime() + DAY) }),
    );
    const text = await openssl([
      'crl',
      '-in',
      crlFile,
      '-CAfile',
      scratch.file('ca.crt', ca.certPem),
      '-noout',
      '-text',
    ]);
    assert.match(text.stderr + text.stdout, /verify OK/);
    assert.match(text.stdout, /No Revoked Certificates/);
    const accepted = await openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      scratch.path('ca.crt'),
      '-CRLfile',
      crlFile,
      kept.certFile,
    ]);
    assert.ok(accepted.ok, accepted.stderr);
  });

  test('each reason is written as RFC 5280 says (unspecified: no reasonCode)', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const reasons = Object.keys(REVOCATION_REASONS) as RevocationReason[];
    const entries = reasons.map((reason) => ({ serial: randomSerial(), revokedAt: new Date(), reason }));
    const crlFile = scratch.file(
      'crl.pem',
      buildCrlPem({ ca, entries, crlNumber: 2n, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY) }),
    );
    const text = (await openssl(['crl', '-in', crlFile, '-noout', '-text'])).stdout;
    const blocks = text.split('Serial Number: ').slice(1);
    assert.equal(blocks.length, reasons.length);
    const expected: Record<RevocationReason, RegExp> = {
      unspecified: /^(?![\s\S]*Reason Code)/,
      keyCompromise: /Key Compromise/,
      affiliationChanged: /Affiliation Changed/,
      superseded: /Superseded/,
      cessationOfOperation: /Cessation Of Operation/,
    };
    reasons.forEach((reason, i) => assert.match(blocks[i]!.split('Signature Algorithm')[0]!, expected[reason], reason));
  });

  test('dates from 2050 on are GeneralizedTime', async () => {
    const { ca } = await testCa();
    const scratch = new Scratch();
    const crlFile = scratch.file(
      'crl.pem',
      buildCrlPem({
        ca,
        entries: [{ serial: randomSerial(), revokedAt: new Date('2049-12-31T23:59:59Z'), reason: 'superseded' }],
        crlNumber: 3n,
        thisUpdate: new Date('2049-12-31T23:59:59Z'),
        nextUpdate: new Date('2050-01-30T00:00:00Z'),
      }),
    );
    const asn1 = (await openssl(['asn1parse', '-in', crlFile])).stdout;
    assert.match(asn1, /UTCTIME\s+:491231235959Z/);
    assert.match(asn1, /GENERALIZEDTIME\s+:20500130000000Z/);
  });
});
