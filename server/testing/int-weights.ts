// What each file of the integration tier takes, in wall seconds when it runs alone under V8 coverage
// (as in `npm test`), less the time of starting Node's test runner with tsx: the weights int-tier.ts
// deals the files to its three processes by, so that they end at about the same time. Written by
// scripts/test-weights.ts (`node --import tsx scripts/test-weights.ts integration`) on the quiet
// two-core machine: run it again when an integration test file is added or removed
// (unit-tier.test.ts fails until then) or its time changes much.
export const INT_TEST_WEIGHTS: Record<string, number> = {
  'accounts/password.int.test.ts': 4.1,
  'accounts/sign-in-flood.int.test.ts': 8.1,
  'backup/backup.int.test.ts': 15.4,
  'broker/access.int.test.ts': 23.5,
  'broker/groups.int.test.ts': 6.3,
  'broker/link.int.test.ts': 14.4,
  'broker/presence.int.test.ts': 3.7,
  'broker/readme.int.test.ts': 5.0,
  'broker/revocation.int.test.ts': 37.8,
  'broker/server-trust.int.test.ts': 1.3,
  'broker/sharing-link.int.test.ts': 13.2,
  'build-if-changed.int.test.ts': 2.9,
  'cli.int.test.ts': 20.2,
  'config.int.test.ts': 4.5,
  'data-dir.int.test.ts': 3.7,
  'deploy.int.test.ts': 8.7,
  'enroll/minter.int.test.ts': 25.0,
  'enroll/revocation.int.test.ts': 5.3,
  'pki/ca.int.test.ts': 5.7,
  'pki/crl.int.test.ts': 0.6,
  'pki/issue.int.test.ts': 2.6,
  'pki/mosquitto.int.test.ts': 3.4,
  'pki/name-constraints.int.test.ts': 1.4,
  'pki/pkcs12.int.test.ts': 1.1,
  'pki/strict-parse.int.test.ts': 0.9,
  'readme-mosquitto.int.test.ts': 3.0,
  'testing/ports.int.test.ts': 0.2,
  'testing/temp-dir.int.test.ts': 0.4,
  'upgrade.int.test.ts': 8.3,
  'web/http.int.test.ts': 3.6,
  'web/routes/broker.int.test.ts': 3.3,
  'web/routes/issue.int.test.ts': 4.0,
  'web/routes/pickup.int.test.ts': 3.8,
};
