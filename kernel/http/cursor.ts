// Opaque page cursors for every module's list routes: base64url(JSON) out, one strict query field in.
import { z } from 'zod';

/**
 * Room for the longest cursor a list hands out: a 512-byte cache key of quotes or backslashes
 * doubles in JSON and encodes to 1368 characters. Anything longer is not one of ours.
 */
export const CURSOR_MAX_LENGTH = 2000;

export const NOT_A_CURSOR = 'not a cursor returned by this API; pass next_cursor from the previous page unchanged';

const ALPHABET = /^[A-Za-z0-9_-]+$/;

/** The cursor for the page after `value` (the last row's key): base64url of its JSON. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A list's `next_cursor`: the cursor after the page's last key, or null when that page was the last. */
export function nextCursor(last: unknown): string | null {
  return last === undefined ? null : encodeCursor(last);
}

/** The JSON value inside `raw` (already within the alphabet), or undefined when `raw` is not exactly what encodeCursor would produce. */
function decode(raw: string): { value: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  // One value, one cursor: other paddings, whitespace, escapes or broken UTF-8 would decode too.
  return encodeCursor(value) === raw ? { value } : undefined;
}

/**
 * An optional query field holding a cursor whose decoded value `schema` accepts; the handler gets
 * that value. Anything else fails route validation (400 VALIDATION_ERROR naming the field).
 */
export function cursorField<T>(schema: z.ZodType<T>) {
  // Length and alphabet as checks so /openapi.json shows them; abort so a bad cursor makes one issue.
  return z
    .string({ error: NOT_A_CURSOR })
    .max(CURSOR_MAX_LENGTH, { message: NOT_A_CURSOR, abort: true })
    .regex(ALPHABET, { message: NOT_A_CURSOR, abort: true })
    .transform((raw, ctx): T => {
      const decoded = decode(raw);
      const parsed = decoded && schema.safeParse(decoded.value);
      if (!parsed?.success) {
        ctx.addIssue({ code: 'custom', message: NOT_A_CURSOR });
        return z.NEVER;
      }
      return parsed.data;
    })
    .optional();
}
