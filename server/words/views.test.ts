// Issue 15, "Words in one place": a view holds markup and catalog look-ups, not English. This test
// strips eta code (keeping the text it quotes), HTML tags and whitespace from each view, mail
// templates included, and fails when prose is left, so a page that grows literal text is caught
// before a translation has to hunt for it.
// It also reads each view as eta parses it and fails on raw output (`<%~ %>`) of anything but a
// partial or the few values listed below: catalog words are printed escaped, with the markup around
// them in the view, so no catalog entry is ever HTML and a word with `<` or `&` in it stays text.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { en } from './index.js';

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

/** Values a view may print raw (`<%~ %>`), by view, each with why; none of them is catalog words. */
const RAW_ALLOWED: Record<string, Record<string, string>> = {
  'layout.eta': { 'it.body': 'the page eta has just rendered from its view, every value in it already escaped' },
};

/**
 * A partial prints what it is given escaped, and is itself a view this test reads: `include('/partials/…', …)`
 * and nothing after the call's closing parenthesis (so `include(…) + it.words.x` is not a partial).
 */
function isPartial(value: string): boolean {
  if (!/^include\(\s*'\/partials\/[\w/-]+'/.test(value)) return false;
  let depth = 0;
  let quote = '';
  for (let i = 'include'.length; i < value.length; i++) {
    const c = value[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === value.length - 1;
  }
  return false;
}

/** The raw outputs of one view that are neither a partial nor allowed for that view. */
function rawOutputsIn(source: string, allowed: Record<string, string> = {}): string[] {
  return new Eta()
    .parse(source)
    .flatMap((node) => (typeof node === 'object' && node.t === 'r' ? [node.val.trim()] : []))
    .filter((value) => !isPartial(value) && !Object.hasOwn(allowed, value));
}

test('views print catalog words escaped: raw output is only a partial or a value allowed with its reason', () => {
  const offenders: Record<string, string[]> = {};
  for (const file of files) {
    const raw = rawOutputsIn(readFileSync(join(views, file), 'utf8'), RAW_ALLOWED[file]);
    if (raw.length) offenders[file] = raw;
  }
  assert.deepEqual(offenders, {});
});

test('the raw-output check catches catalog words however they are reached', () => {
  assert.deepEqual(rawOutputsIn('<p><%~ it.words.admin.broker.aclHtml %></p>'), ['it.words.admin.broker.aclHtml']);
  assert.deepEqual(rawOutputsIn('<% const w = it.words.pickup %><%-~ w.hintHtml -%>'), ['w.hintHtml']);
  assert.deepEqual(rawOutputsIn('<%~ it.qr %>'), ['it.qr'], 'allowed only in the views listed');
  assert.deepEqual(rawOutputsIn('<%~ it.body %>', RAW_ALLOWED['layout.eta']), []);
  assert.deepEqual(rawOutputsIn("<%~ include('/partials/field', { label: it.words.admin.login.username }) %>"), []);
  assert.deepEqual(rawOutputsIn("<%~ include('/partials/field', { hint: 'a (b)' }) + it.words.x %>"), [
    "include('/partials/field', { hint: 'a (b)' }) + it.words.x",
  ]);
  assert.deepEqual(rawOutputsIn('<%~ constructor %>'), ['constructor']);
  assert.deepEqual(rawOutputsIn('<p><%= it.words.admin.broker.acl.before %> <code>x</code></p>'), []);
});

test('no catalog entry holds markup: a tag or an entity in the words would show as text', () => {
  const marked: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (/<\/?[a-z][^>]*>|&[a-z#0-9]+;/i.test(value)) marked.push(path);
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
    }
  };
  walk(en, 'en');
  assert.deepEqual(marked, []);
});

test('no catalog entry writes a plural as "(s)": counts say "1 change", "2 changes"', () => {
  const careless: string[] = [];
  const walk = (value: unknown, path: string): void => {
    // A function's source holds its template literals; a string is checked as it stands.
    const text = typeof value === 'function' ? value.toString() : typeof value === 'string' ? value : undefined;
    if (text !== undefined && /\w\((s|es)\)/.test(text)) careless.push(path);
    if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
  };
  walk(en, 'en');
  assert.deepEqual(careless, []);
  assert.equal(en.admin.broker.changes(1), '1 change');
  assert.equal(en.admin.broker.changes(3), '3 changes');
  assert.equal(en.broker.page.reconcileDone(1), 'Reconciled: 1 change.');
  assert.equal(en.broker.page.reconcileDone(2), 'Reconciled: 2 changes.');
  assert.equal(en.pages.count(1, 'entry', 'entries'), '1 entry');
  assert.equal(en.pages.count(2, 'entry', 'entries'), '2 entries');
});

test('form rules in the code take their messages from the catalog, not from string literals', () => {
  const server = fileURLToPath(new URL('../', import.meta.url));
  // config.ts: the environment's errors, for the operator's terminal at start-up, not pages or mail.
  const skipped = (file: string) =>
    /\.test\.ts$|^testing\/|^words\//.test(file) || file === 'config.ts' || !file.endsWith('.ts');
  const literal = /\.(?:min|max|length|regex|refine|superRefine)\((?:[^()]|\([^()]*\))*?,\s*['"`][A-Za-z]/g;
  const offenders: string[] = [];
  for (const file of (readdirSync(server, { recursive: true }) as string[]).map((f) => f.split('\\').join('/'))) {
    if (skipped(file)) continue;
    const source = readFileSync(join(server, file), 'utf8');
    for (const match of source.matchAll(literal)) offenders.push(`${file}: ${match[0]}`);
  }
  assert.deepEqual(offenders, []);
});
