// Opaque page cursors: base64url of the last key of the previous page (a product id, an order id).
import { z } from 'zod';

export const encodeCursor = (last: string | number) => Buffer.from(String(last), 'utf8').toString('base64url');

/** A query field that decodes a cursor, failing validation (400) when it is not one of ours. */
export function cursorField<T>(check: (decoded: string) => T | undefined) {
  return z
    .string()
    .max(400)
    .transform((raw, ctx) => {
      const decoded = /^[A-Za-z0-9_-]+$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
      const value = decoded ? check(decoded) : undefined;
      if (value === undefined) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor returned by this API' });
        return z.NEVER;
      }
      return value;
    })
    .optional();
}

export const limitField = z.coerce.number().int().min(1).max(100).default(20);
