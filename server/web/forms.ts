// Turns a failed zod body validation into messages shown beside the form's fields.
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

export type FieldErrors = Record<string, string>;

interface ValidationFailure {
  validation?: FastifySchemaValidationError[];
}

/** A submitted form field as the text it was, or '' when it is missing or not text. */
export function formValue(body: unknown, field: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value : '';
}

export function fieldErrors(error: ValidationFailure | undefined): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error?.validation ?? []) {
    const field = issue.instancePath.replace(/^\//, '').split('/')[0] || 'form';
    errors[field] ??= issue.message ?? 'Invalid value';
  }
  return errors;
}

const HOME = '/certificates';
const ORIGIN = 'http://portal.invalid';
/** Control characters (C0, DEL, C1), the line and paragraph separators, and backslashes. */
// eslint-disable-next-line no-control-regex -- control characters are what this rejects
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/;
/** Half of a surrogate pair on its own: not text, and URL parsers replace it. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** `text` decoded until it stops changing (a few rounds), or undefined when it does not decode. */
function decodedForms(text: string): string[] | undefined {
  const forms = [text];
  for (let round = 0; round < 4; round++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(forms.at(-1)!);
    } catch {
      return undefined;
    }
    if (decoded === forms.at(-1)) return forms;
    forms.push(decoded);
  }
  return undefined; // still changing after four rounds: nobody writes that by accident
}

/**
 * A local path to return to after sign-in, or the certificate list. Browsers drop tabs and
 * newlines from URLs and read `\` as `/`, so `/\t/evil.example` or `/\evil.example` would leave
 * for another host: no control character or backslash may appear before or after decoding, no
 * form may start with `//`, and the URL, parsed against the portal, must stay on the portal.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/')) return HOME;
  const forms = decodedForms(next);
  if (!forms) return HOME;
  for (const form of forms) {
    if (FORBIDDEN.test(form) || LONE_SURROGATE.test(form) || form.startsWith('//')) return HOME;
  }
  let url: URL;
  try {
    url = new URL(next, ORIGIN);
  } catch {
    return HOME;
  }
  if (url.origin !== ORIGIN) return HOME;
  const path = url.pathname + url.search + url.hash;
  return path.startsWith('/') && !path.startsWith('//') ? path : HOME;
}
