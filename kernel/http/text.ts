// The one check of client text: no NUL, no lone surrogate, in any string or key of a body, path or query,
// and JSON no deeper than MAX_JSON_DEPTH — so no store, serialiser or recursive walk downstream sees either.
//
// Postgres refuses NUL in text (a 500, and in a group-commit batch it failed other clients' rows too); a
// lone surrogate is not valid UTF-8, so it cannot be stored or sent on faithfully. Checking here, once,
// covers every field of every schema, including `z.unknown()` values and routes that read their own body.
import { errors } from '../errors.ts';

/** Deepest JSON nesting a body may have: far beyond any schema here, far below what recursion can bear. */
export const MAX_JSON_DEPTH = 64;

const isClean = (s: string) => !s.includes('\0') && (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Throws VALIDATION_ERROR (bad text) or BAD_REQUEST (too deep); iterative, so any depth is safe to look at. */
export function checkText(value: unknown, where: 'body' | 'query' | 'path', maxDepth = MAX_JSON_DEPTH): void {
  if (typeof value === 'string') {
    if (!isClean(value)) throw refuse(where, where);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  // Pairs of (value, depth) on one flat stack: no recursion, no per-level allocation but the push.
  const stack: unknown[] = [value, 1];
  while (stack.length) {
    const depth = stack.pop() as number;
    const v = stack.pop();
    if (depth > maxDepth) throw errors.BAD_REQUEST(`Request ${where} is nested deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item === 'string') {
          if (!isClean(item)) throw refuse(where, pathOf(value, item));
        } else if (item !== null && typeof item === 'object') stack.push(item, depth + 1);
      }
    } else {
      for (const key in v as Record<string, unknown>) {
        if (!isClean(key)) throw refuse(where, pathOf(value, key, true));
        const item = (v as Record<string, unknown>)[key];
        if (typeof item === 'string') {
          if (!isClean(item)) throw refuse(where, pathOf(value, item));
        } else if (item !== null && typeof item === 'object') stack.push(item, depth + 1);
      }
    }
  }
}

function refuse(where: string, field: string) {
  const message = 'must not contain NUL characters or unpaired UTF-16 surrogates';
  return errors.VALIDATION_ERROR(`Invalid ${where}: ${field}: ${message}`, [{ field, message }]);
}

/** The dotted path to the first bad string (or key) — found again only on failure, so the clean path pays nothing. */
function pathOf(root: unknown, bad: string, isKey = false): string {
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v as object);
    for (const [k, item] of entries) {
      const here = path ? `${path}.${k}` : k;
      if (isKey && k === bad) return here;
      if (!isKey && item === bad) return here;
      if (item !== null && typeof item === 'object') stack.push([item, here]);
    }
  }
  return '';
}
