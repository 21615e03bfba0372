// dependency-cruiser: the direction of the arrows in DESIGN.md, checked on every `npm run lint`.
// web → enroll/accounts/backup → pki/db/mail/broker; pki depends on nothing of ours; routes reach
// data only through use cases. Tests (*.test.ts, which includes the *.int.test.ts tier) may reach
// into any layer to set up their case, so the layer rules do not apply to them. Type-only imports
// count: a route that names a db row type is already coupled to the table.
const test = '\\.test\\.ts$';

/** A layer rule: nothing in `from` (tests aside) imports anything in `to`. */
function forbid(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: from, pathNot: test }, to: { path: to } };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid(
      'web-not-to-data',
      'Routes and plugins reach the database, the CA, mail and the broker only through the use cases (enroll/, accounts/, backup/).',
      '^server/web/',
      '^server/(db|pki|mail|broker)/',
    ),
    forbid('enroll-not-to-web', 'The use cases know nothing of HTTP.', '^server/enroll/', '^server/web/'),
    forbid(
      'broker-not-to-enroll-or-web',
      'The broker link is used by the use cases, never the other way round.',
      '^server/broker/',
      '^server/(enroll|web)/',
    ),
    forbid(
      'mail-not-to-db',
      'Mail builds and sends messages; what to record is the use case’s business.',
      '^server/mail/',
      '^server/db/',
    ),
    forbid(
      'db-not-to-enroll-or-web',
      'Repositories know nothing of the use cases or of HTTP.',
      '^server/db/',
      '^server/(enroll|web)/',
    ),
    {
      name: 'pki-is-pure',
      comment:
        'pki/ is pure functions over node-forge and node:crypto: nothing of ours outside pki/ (no errors.ts, no config).',
      severity: 'error',
      from: { path: '^server/pki/', pathNot: test },
      to: { path: '^(server|e2e|bench)/', pathNot: '^server/pki/' },
    },
    {
      name: 'words-are-leaves',
      comment: 'The catalog of user-facing words (server/words/) is plain data: it imports nothing of ours.',
      severity: 'error',
      from: { path: '^server/words/', pathNot: test },
      to: { path: '^(server|e2e|bench)/', pathNot: '^server/words/' },
    },
    {
      name: 'testing-only-from-tests',
      comment: 'server/testing/ holds fixtures for tests, benchmarks and e2e; the portal itself never loads them.',
      severity: 'error',
      from: { pathNot: [test, '^server/testing/', '^bench/', '^e2e/'] },
      to: { path: '^server/testing/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes both modules one layer; cut it by moving the shared part down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment:
        'A module nothing imports and that imports nothing is dead or misplaced (tests and entry scripts aside).',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          test,
          '\\.d\\.ts$',
          '(^|/)[^/]+\\.config\\.(js|cjs|mjs|ts)$',
          // Started by path as a child process (bench/run.ts), importing only packages.
          '^bench/smtp-sink\\.ts$',
        ],
      },
      to: {},
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'The image installs with --omit=dev: the portal must not load a devDependency (tests, testing/, bench/ and e2e/ may).',
      severity: 'error',
      from: { path: '^server/', pathNot: [test, '^server/testing/'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|data|test-results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
