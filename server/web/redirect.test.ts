// Where sign-in sends the browser afterwards (`next`): only a path on the portal itself, whatever
// was sent. Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\tevil` or `/\evil`
// would leave for another host if they were let through.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Browser, TEST_ADMIN, withPortal } from '../testing/harness.js';
import { safeNext } from './forms.js';

const HOME = '/certificates';
const ORIGIN = 'http://portal.invalid';

/** What a browser does with the Location header: resolve it against the page it came from. */
function staysHome(location: string): boolean {
  const resolved = new URL(location, `${ORIGIN}/login`);
  return resolved.origin === ORIGIN;
}

// [next as sent in the form, where sign-in must go]
const CASES: Array<[string, string]> = [
  ['/certificates/new', '/certificates/new'],
  ['/certificates?status=revoked&q=a%20b', '/certificates?status=revoked&q=a%20b'],
  ['/people/alice', '/people/alice'],
  ['/audit#top', '/audit#top'],
  ['', HOME],
  ['certificates', HOME],
  ['//evil.example', HOME],
  ['///evil.example', HOME],
  ['/\\evil.example', HOME],
  ['\\\\evil.example', HOME],
  ['/\\/evil.example', HOME],
  ['/\t/evil.example', HOME],
  ['/%09/evil.example', HOME],
  ['/%0A/evil.example', HOME],
  ['/%0a/evil.example', HOME],
  ['/%0D%0A/evil.example', HOME],
  ['/\n/evil.example', HOME],
  ['/\r\n/evil.example', HOME],
  ['/ /evil.example', '/ /evil.example'.replace(' ', '%20')],
  ['/%2F/evil.example', HOME],
  ['/%2f%2fevil.example', HOME],
  ['%2F%2Fevil.example', HOME],
  ['/%5Cevil.example', HOME],
  ['/%5cevil.example', HOME],
  ['/%252F%252Fevil.example', HOME],
  ['/%00', HOME],
  ['/\u0000', HOME],
  ['/\u007f', HOME],
  ['/%7F', HOME],
  ['/\u2028evil', HOME],
  ['https://evil.example', HOME],
  ['https:evil.example', HOME],
  ['http:/evil.example', HOME],
  ['javascript:alert(1)', HOME],
  ['JavaScript:alert(1)', HOME],
  ['/javascript:alert(1)', '/javascript:alert(1)'],
  ['data:text/html,hi', HOME],
  [' /certificates', HOME],
  ['\t//evil.example', HOME],
  ['/%', HOME],
  ['/%E0%A4%A', HOME],
  ['/x'.repeat(1000), '/x'.repeat(1000)],
];

describe('safeNext', () => {
  test('keeps local paths and sends everything else home', () => {
    for (const [next, expected] of CASES) assert.equal(safeNext(next), expected, JSON.stringify(next));
    for (const odd of [undefined, null, 42, ['/x'], { toString: () => '/x' }, '/\uD800', '/a\uDC00b'])
      assert.equal(safeNext(odd), HOME);
  });

  test('whatever string is given, the result is home or a path on the portal itself', () => {
    const interesting = fc.constantFrom(
      '/',
      '\\',
      '%',
      '2F',
      '5C',
      '09',
      '0A',
      '\t',
      '\n',
      '.',
      ':',
      '@',
      '?',
      '#',
      'evil.example',
      'https',
      'javascript',
    );
    const arbitrary = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.array(interesting, { maxLength: 12 }).map((parts) => parts.join('')),
      fc
        .array(fc.oneof(interesting, fc.string({ unit: 'grapheme' })), { maxLength: 8 })
        .map((parts) => '/' + parts.join('')),
    );
    fc.assert(
      fc.property(arbitrary, (next) => {
        const result = safeNext(next);
        if (result === HOME) return true;
        return (
          result.startsWith('/') &&
          !result.startsWith('//') &&
          // eslint-disable-next-line no-control-regex -- control characters are what must not pass
          !/[\u0000-\u001f\u007f\\]/.test(result) &&
          staysHome(result) &&
          new URL(result, ORIGIN).pathname.startsWith('/')
        );
      }),
      { numRuns: 5000 },
    );
  });
});

describe('next after sign-in', () => {
  test('every variant is followed only when it stays on the portal, and none is a server error', async () => {
    await withPortal({}, async (portal) => {
      for (const [next, expected] of CASES) {
        const browser = new Browser(portal);
        const response = await browser.submit('/login', '/login', { ...TEST_ADMIN, next });
        assert.equal(response.statusCode, 303, `${JSON.stringify(next)}: ${response.statusCode}`);
        assert.equal(response.headers.location, expected, JSON.stringify(next));
        assert.ok(staysHome(String(response.headers.location)), JSON.stringify(next));
      }
    });
  });

  test('the sign-in page carries next through, and a signed-in visit to it goes there safely', async () => {
    await withPortal({}, async (portal) => {
      const browser = new Browser(portal);
      const page = await browser.get(`/login?next=${encodeURIComponent('/%09/evil.example')}`);
      assert.equal(page.statusCode, 200);
      await browser.signIn();
      for (const next of ['/%09/evil.example', '/%0A/evil.example', '//evil.example', '/\\evil.example']) {
        const response = await browser.get(`/login?next=${encodeURIComponent(next)}`);
        assert.equal(response.statusCode, 303, next);
        assert.equal(response.headers.location, HOME, next);
      }
    });
  });
});
