// Issue 15, "Words in one place": a view holds markup and catalog look-ups, not English. This test
// strips eta code (keeping the text it quotes), HTML tags and whitespace from each view, mail
// templates included, and fails when prose is left, so a page that grows literal text is caught
// before a translation has to hunt for it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const views = fileURLToPath(new URL('../../views/', import.meta.url));

/** Left-over text that is allowed to stay in a view, each with why. */
const ALLOWED = new Set<string>([
  // broker.eta: a line of Mosquitto's ACL file, shown to be copied as it is; it is configuration, not words.
  'pattern readwrite owntracks',
]);

/** The prose left once eta comments and code, HTML comments, tags and entities are removed: runs of three or more words. */
function proseIn(source: string): string[] {
  const withoutComments = source.replace(/<%\/\*[\s\S]*?\*\/-?%>/g, ' ');
  // Quoted text inside eta code (a label or hint passed to a partial) counts as well.
  const quoted = (withoutComments.match(/<%[\s\S]*?%>/g) ?? []).flatMap((code) =>
    (code.match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`/g) ?? []).map((literal) => literal.slice(1, -1)),
  );
  const text = [withoutComments.replace(/<%[\s\S]*?%>/g, ' '), ...quoted]
    .join('\n')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    // What a <code> element holds is a name or a command to type as it is (`SMTP_URL`, `crl.pem`), not words.
    .replace(/<code\b[^>]*>[\s\S]*?<\/code>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z#0-9]+;/gi, ' ');
  const runs = text.match(/[A-Za-z][A-Za-z'’,.:;()-]*(?:[ \t]+[A-Za-z][A-Za-z'’,.:;()-]*){2,}/g) ?? [];
  return runs.map((run) => run.trim()).filter((run) => !ALLOWED.has(run));
}

const files = (readdirSync(views, { recursive: true }) as string[])
  .filter((file) => file.endsWith('.eta'))
  .map((file) => file.split('\\').join('/'))
  .sort();

test('views hold no literal prose: their words come from the catalog', () => {
  const offenders: Record<string, string[]> = {};
  for (const file of files) {
    const prose = proseIn(readFileSync(join(views, file), 'utf8'));
    if (prose.length) offenders[file] = prose;
  }
  assert.deepEqual(offenders, {});
});

test('the prose check sees text between tags and ignores eta code', () => {
  assert.deepEqual(proseIn('<p>These people have two</p>'), ['These people have two']);
  assert.deepEqual(proseIn('<p><%= it.words.admin.layout.skip %></p>'), []);
  assert.deepEqual(proseIn('<a title="x">Sign out</a>'), []);
  assert.deepEqual(proseIn('<p><%= w.before %> <code>kill -HUP $(pidof mosquitto)</code> <code>ca.crt</code></p>'), []);
  assert.deepEqual(proseIn('<p><code>x</code> and then some</p>'), ['and then some']);
  assert.deepEqual(proseIn('<%/* a comment with `-%>` inside */-%>'), []);
  assert.deepEqual(proseIn("<%~ include('/partials/field', { hint: 'At least twelve characters.' }) %>"), [
    'At least twelve characters.',
  ]);
});
