// Range bounds and page cursors: both compared with the fixed-width date_created text, so both are normalized first.
import { z } from 'zod';
import { cursorField, encodeCursor } from '../../../../kernel/http/cursor.ts';
import { validate } from '../../../../kernel/http/route.ts';
import type { EventKind } from '../../contract.ts';
import { eventErrors } from '../../errors.ts';

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

/** Opaque to clients: the last row of a page, plus the kind so a cursor cannot be replayed on the other list. */
export const cursorSchema = (kind: EventKind) => z.tuple([z.literal(kind), z.string().regex(FIXED), z.int().min(0)]);
export type EventCursor = readonly [kind: EventKind, dateCreated: string, idx: number];

/** The `cursor` query field of the `kind` list: a bad cursor fails validation (400 VALIDATION_ERROR). */
export const listCursor = (kind: EventKind) => cursorField(cursorSchema(kind));

export const encodeListCursor = (kind: EventKind, dateCreated: string, idx: number) => encodeCursor([kind, dateCreated, idx] satisfies EventCursor);

/** A cursor that reached the facade as text (an in-process or RPC call) read as the route reads it. */
export function readCursor(kind: EventKind, cursor: string | undefined): EventCursor | undefined {
  return validate(z.object({ cursor: listCursor(kind) }), { cursor }, 'body').cursor;
}
