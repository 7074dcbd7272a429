// The page-size query field shared by GET /products and GET /orders (their cursors are kernel/http/cursor.ts).
import { z } from 'zod';

export const limitField = z.coerce.number().int().min(1).max(100).default(20);
