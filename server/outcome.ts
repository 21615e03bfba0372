// The one way a use case reports what happened. An expected failure (a rule said no, a peer was
// away) is a value the caller must look at: `{ ok: false, reason, ...details }`. Exceptions are
// left for bugs and for start-up problems that stop the process (StartupError).
export type Ok<T extends object = object> = { ok: true } & T;
export type Failed<R extends string, T extends object = object> = { ok: false; reason: R } & T;

export function ok(): Ok;
export function ok<T extends object>(value: T): Ok<T>;
export function ok(value: object = {}) {
  return { ok: true, ...value };
}

export function failed<R extends string>(reason: R): Failed<R>;
export function failed<R extends string, T extends object>(reason: R, details: T): Failed<R, T>;
export function failed(reason: string, details: object = {}) {
  return { ok: false, reason, ...details };
}

/** Field messages of an input that broke a rule, keyed by field name (`form` for the whole). */
export type FieldIssues = Record<string, string>;
export type Invalid = Failed<'invalid', { issues: FieldIssues }>;

/** Turns zod issues into one message per field, the first one winning. */
export function fieldIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): FieldIssues {
  const result: FieldIssues = {};
  for (const issue of issues) {
    const field = issue.path.length ? String(issue.path[0]) : 'form';
    result[field] ??= issue.message;
  }
  return result;
}
