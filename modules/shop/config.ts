// The shop's settings, read from the environment with every other problem at start-up.
import { z } from 'zod';
import { envInt, localUrl, type KernelConfig } from '../../kernel/config.ts';

export const shopConfigSchema = z
  .object({
    SHOP_PRODUCTS_STORE: z.enum(['sql', 'redis']).default('sql').describe('where products live: the shop database or Redis'),
    REDIS_URL: z
      .url({ protocol: /^rediss?$/ })
      .optional()
      .describe('Redis for the products store (required with SHOP_PRODUCTS_STORE=redis)'),
    SHOP_REDIS_PREFIX: z.string().min(1).max(100).default('cantons:shop:').describe('prefix of every key the products store writes'),
    PRODUCT_IMAGE_ROOT: z
      .string()
      .min(1)
      .transform((s) => s.replace(/\/+$/, ''))
      .optional()
      .describe("order lines carry image = <root>/<product_id>.jpg; default http://HOST:PORT/images, this process's own port"),
    SHOP_HOLD_TTL_MS: envInt(600_000, 1000).describe('how long a stock hold lives when its order never arrives (a crash between reserve and insert)'),
  })
  .superRefine((c, ctx) => {
    if (c.SHOP_PRODUCTS_STORE === 'redis' && !c.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'required when SHOP_PRODUCTS_STORE=redis' });
    }
  });
export type ShopConfig = z.output<typeof shopConfigSchema>;

/** PRODUCT_IMAGE_ROOT, else this process's own HOST and PORT: a fixed default named port 8080 whatever PORT said. */
export const imageRoot = (config: ShopConfig, kernel: KernelConfig): string => config.PRODUCT_IMAGE_ROOT ?? `${localUrl(kernel.HOST, kernel.PORT)}/images`;
