// The shop's settings, read from the environment with every other problem at start-up.
import { z } from 'zod';
import { envInt } from '../../kernel/config.ts';

export const shopConfigSchema = z
  .object({
    SHOP_PRODUCTS_STORE: z.enum(['sql', 'redis']).default('sql').describe('where products live: the shop database or Redis'),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional().describe('Redis for the products store (required with SHOP_PRODUCTS_STORE=redis)'),
    SHOP_REDIS_PREFIX: z.string().min(1).max(100).default('cantons:shop:').describe('prefix of every key the products store writes'),
    PRODUCT_IMAGE_ROOT: z
      .string()
      .min(1)
      .default('http://127.0.0.1:8080/images')
      .transform((s) => s.replace(/\/+$/, ''))
      .describe('order lines carry image = <root>/<product_id>.jpg'),
    SHOP_HOLD_TTL_MS: envInt(600_000, 1000).describe('how long a stock hold lives when its order never arrives (a crash between reserve and insert)'),
  })
  .superRefine((c, ctx) => {
    if (c.SHOP_PRODUCTS_STORE === 'redis' && !c.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'required when SHOP_PRODUCTS_STORE=redis' });
    }
  });
export type ShopConfig = z.output<typeof shopConfigSchema>;
