// ESLint for the TypeScript sources, tests, e2e journeys, benchmarks and the pages' scripts. Style
// is Prettier's job (eslint-config-prettier switches off every rule it would fight with); this
// config keeps the rules that catch mistakes tsc does not: promises nobody awaits or that are handed
// to callbacks expecting void, `await` on non-promises, imports used only as types, unused bindings,
// switches that miss a case of a union, needless type assertions and values that would print as
// "[object Object]". Most need type information, so the TypeScript files are linted through the
// project's own tsconfig.json (typescript-eslint's project service), which costs one program build.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'data/',
      'test-results/',
      'playwright-report/',
      'docs/',
      'coverage/',
      '.cache/',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // node:test's test()/describe()/it() return promises that the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // String(x) of a form field that may be an object or array prints "[object Object]".
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Config files in plain JavaScript (this one, .dependency-cruiser.cjs): no type information needed.
    files: ['*.js', '*.cjs', '*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    // The few scripts the pages load (no inline scripts): plain browser JavaScript.
    files: ['public/js/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
  prettier,
);
