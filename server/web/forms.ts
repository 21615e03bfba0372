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

/** A local path to return to after sign-in; anything else (other hosts, `//x`) goes home. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/certificates';
}
