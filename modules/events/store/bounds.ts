// Range bounds and page cursors: both compared with the fixed-width date_created text, so both are normalized first.
import type { EventKind } from '../contract.ts';
import { eventErrors } from '../errors.ts';

/** `2024-01-31T09:05:00.123Z`: 24 characters, so text order is time order. */
const FIXED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The server's clock as stored in date_created. */
export const isoNow = (ms = Date.now()) => new Date(ms).toISOString();

/**
 * A client timestamp (any offset, any fraction) as stored text. Sub-millisecond digits round UP:
 * date_created has millisecond precision, and `x >= 10:00:00.0005` holds for exactly the stored
 * values `>= 10:00:00.001`, whether the bound is a start (inclusive) or an end (exclusive).
 */
export function normalizeBound(value: string, name: string): string {
  let ms = Date.parse(value);
  if (Number.isNaN(ms)) throw eventErrors.INVALID_RANGE(`${name} is not a timestamp: ${value}`);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  if (/[1-9]/.test(fraction.slice(3))) ms += 1;
  const text = new Date(ms).toISOString();
  if (!FIXED.test(text)) throw eventErrors.INVALID_RANGE(`${name} must fall within the years 0000–9999 UTC: ${value}`);
  return text;
}

export interface CursorPosition {
  dateCreated: string;
  idx: number;
}

/** Opaque to clients: the last row of a page, plus the kind so a cursor cannot be replayed on the other list. */
export function encodeCursor(kind: EventKind, pos: CursorPosition): string {
  return Buffer.from(JSON.stringify([kind, pos.dateCreated, pos.idx])).toString('base64url');
}

export function decodeCursor(kind: EventKind, cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 3 &&
    parsed[0] === kind &&
    typeof parsed[1] === 'string' &&
    FIXED.test(parsed[1]) &&
    Number.isSafeInteger(parsed[2]) &&
    parsed[2] >= 0
  ) {
    return { dateCreated: parsed[1], idx: parsed[2] };
  }
  throw eventErrors.INVALID_CURSOR('cursor is not valid for this list; pass next_cursor from the previous page unchanged');
}
