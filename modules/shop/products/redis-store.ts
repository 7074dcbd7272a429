// The products store on Redis: a hash per product, a lexicographic index for pages, Lua scripts for every check-and-write.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Product, ProductPatch } from '../contract.ts';
import { shopErrors } from '../errors.ts';
import { mergeLines } from '../stock-lines.ts';
import { APPLY, CREATE, DELETE, RELEASE, RESERVE, TITLES, UPDATE } from './redis-scripts.ts';
import { TITLE_WINDOW, type Hold, type ListQuery, type ProductPage, type ProductStore, type ReserveResult } from './store.ts';

/** How long "this reservation was applied" is remembered; the kernel's inbox covers redeliveries beyond it. */
const APPLIED_TTL_S = 7 * 24 * 3600;
const SEED_BATCH = 1000;
const SCAN_COUNT = 1000;

/** A script defined by defineCommand, answering `Reply` (redis-scripts.ts says what each returns). */
type Script<Reply> = (numKeys: number, ...args: (string | number)[]) => Promise<Reply>;
type WithScripts = Redis & {
  shopCreate: Script<0 | 1>;
  /** The product's fields and values, flat; null when there is no such product. */
  shopUpdate: Script<string[] | null>;
  shopDelete: Script<0 | 1>;
  /** A status, then what it concerns: ok | not_found id | check reservation ids… | out_of_stock id available. */
  shopReserve: Script<string[]>;
  shopRelease: Script<0 | 1>;
  shopApply: Script<0 | 1>;
  /** id, title, id, title, … */
  shopTitles: Script<string[]>;
};

interface RedisStoreOptions {
  url: string;
  prefix: string;
  /**
   * Which of these reservations have a stored order (the orders stay in SQL): their holds must not expire,
   * their order_created may still be on its way. Asked only when a reservation meets expired holds.
   */
  storedReservations(ids: readonly string[]): Promise<Set<string>>;
  /** Called once per connection error (ioredis keeps reconnecting). */
  onError?(err: Error): void;
}

function toProduct(h: Record<string, string>): Product | undefined {
  if (!h || h.id === undefined) return undefined;
  return {
    id: h.id,
    title: h.title,
    passenger_capacity: Number(h.passenger_capacity),
    maximum_speed: Number(h.maximum_speed),
    in_stock: Number(h.in_stock),
  };
}

export function createRedisStore(opts: RedisStoreOptions): ProductStore {
  // Loaded here, not imported: a shop on the SQL store never pays ioredis's start-up.
  const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const redis = new RedisClient(opts.url, { maxRetriesPerRequest: 2, enableAutoPipelining: true }) as WithScripts;
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) opts.onError?.(err);
    lastError = err.message;
  });
  redis.on('ready', () => (lastError = ''));
  const scripts = {
    shopCreate: CREATE,
    shopUpdate: UPDATE,
    shopDelete: DELETE,
    shopReserve: RESERVE,
    shopRelease: RELEASE,
    shopApply: APPLY,
    shopTitles: TITLES,
  };
  for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { lua });

  const k = {
    product: (id: string) => `${opts.prefix}product:${id}`,
    index: `${opts.prefix}products`,
    titles: `${opts.prefix}titles`,
    holds: (id: string) => `${opts.prefix}holds:${id}`,
    expiry: (id: string) => `${opts.prefix}hold-expiry:${id}`,
    reservation: (rid: string) => `${opts.prefix}reservation:${rid}`,
    applied: (rid: string) => `${opts.prefix}applied:${rid}`,
  };

  async function getMany(ids: readonly string[]): Promise<Product[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const pipe = redis.pipeline();
    for (const id of unique) pipe.hgetall(k.product(id));
    const results = (await pipe.exec()) ?? [];
    const out: Product[] = [];
    for (const [err, h] of results) {
      if (err) throw err;
      const p = toProduct(h as Record<string, string>);
      if (p) out.push(p);
    }
    return out;
  }

  /**
   * The ids after `after` whose title contains `needle`, reading at most `window` ids of the index in
   * slices: stops once limit + 1 match (a full page, and proof of more), at the window's end, or at the
   * index's end. `last` is where the next page starts: the page's last item, the window's last id, or none.
   */
  async function idsWithTitle(needle: string, limit: number, after: string | undefined, window: number): Promise<{ ids: string[]; last?: string }> {
    const lower = needle.toLowerCase();
    const ids: string[] = [];
    let min = after === undefined ? '-' : `(${after}`;
    let read = 0;
    let lastRead: string | undefined;
    // Slices start at a few pages' worth and double: a common title fills the page in one call, a rare one
    // reads the window in a few (one call per slice costs far less than a call per id).
    let slice = 8 * (limit + 1);
    while (read < window) {
      const count = Math.min(slice, window - read);
      slice *= 2;
      const flat: string[] = await redis.shopTitles(2, k.index, k.titles, min, count);
      for (let i = 0; i < flat.length; i += 2) {
        lastRead = flat[i];
        if (flat[i + 1].toLowerCase().includes(lower) && ids.push(flat[i]) > limit) return { ids: ids.slice(0, limit), last: ids[limit - 1] };
      }
      read += flat.length / 2;
      if (flat.length / 2 < count) return { ids };
      min = `(${lastRead}`;
    }
    return { ids, last: lastRead };
  }

  const store: ProductStore = {
    kind: 'redis',

    async create(p) {
      const created = await redis.shopCreate(3, k.product(p.id), k.index, k.titles, p.id, p.title, p.passenger_capacity, p.maximum_speed, p.in_stock);
      return created === 1;
    },

    async get(id) {
      return toProduct(await redis.hgetall(k.product(id)));
    },

    getMany,

    async list({ limit, after, title, window = TITLE_WINDOW }: ListQuery): Promise<ProductPage> {
      let ids: string[];
      let total: number | null = null;
      let last: string | undefined;
      if (title) {
        ({ ids, last } = await idsWithTitle(title, limit, after, window));
      } else {
        const [page, card] = await Promise.all([
          redis.zrangebylex(k.index, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, limit + 1),
          redis.zcard(k.index),
        ]);
        ids = page.slice(0, limit);
        total = card;
        last = page.length > limit ? ids[limit - 1] : undefined;
      }
      const byId = new Map((await getMany(ids)).map((p) => [p.id, p]));
      // A product deleted between the index read and the hash read is skipped, never rendered half.
      const items = ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
      return { items, total, last };
    },

    async update(id, patch: ProductPatch) {
      const args = Object.entries(patch)
        .filter(([, v]) => v !== undefined)
        .flat() as (string | number)[];
      const flat: string[] | null = await redis.shopUpdate(2, k.product(id), k.titles, id, ...args);
      if (!flat) return undefined;
      const h: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
      return toProduct(h);
    },

    async delete(id) {
      return (await redis.shopDelete(5, k.product(id), k.index, k.titles, k.holds(id), k.expiry(id), id)) === 1;
    },

    async reserve(reservationId, requested, nowMs, ttlMs): Promise<ReserveResult> {
      const lines = mergeLines(requested);
      const keys = [
        k.reservation(reservationId),
        k.applied(reservationId),
        ...lines.flatMap((l) => [k.product(l.product_id), k.holds(l.product_id), k.expiry(l.product_id)]),
      ];
      const args = [reservationId, nowMs, nowMs + ttlMs, ttlMs, ...lines.flatMap((l) => [l.product_id, l.quantity])];
      let verdicts: string[] = [];
      // Expired holds are judged against the orders table between two runs of the script; a hold that expires
      // in between is met in the next run. Bounded, though one round is the rule and two are rare.
      for (let round = 0; round < 5; round++) {
        const [status, productId, available, ...more] = await redis.shopReserve(keys.length, ...keys, ...args, ...verdicts);
        if (status === 'ok') return { ok: true };
        if (status === 'not_found') return { ok: false, reason: 'not_found', product_id: productId };
        if (status === 'check') {
          const expired = [productId, available, ...more].filter((r) => r !== undefined);
          const stored = await opts.storedReservations(expired);
          verdicts = expired.flatMap((r) => [r, stored.has(r) ? 'keep' : 'drop']);
          continue;
        }
        const requestedQty = lines.find((l) => l.product_id === productId)!.quantity;
        return { ok: false, reason: 'out_of_stock', product_id: productId, available: Number(available), requested: requestedQty };
      }
      throw new Error(`reserve ${reservationId}: expired holds kept appearing; giving up`);
    },

    async release(reservationId) {
      const productIds = await redis.hkeys(k.reservation(reservationId));
      const keys = [k.reservation(reservationId), ...productIds.flatMap((id) => [k.holds(id), k.expiry(id)])];
      return (await redis.shopRelease(keys.length, ...keys, reservationId)) === 1;
    },

    async holds(productIds) {
      const replies = await Promise.all(productIds.map((id) => Promise.all([redis.hgetall(k.holds(id)), redis.zrange(k.expiry(id), 0, -1, 'WITHSCORES')])));
      const found: Hold[] = [];
      for (const [i, [quantities, expiries]] of replies.entries()) {
        for (let j = 0; j < expiries.length; j += 2) {
          const reservation = expiries[j];
          // '+inf' (a stored order's hold) comes back as "inf".
          const expiresAt = /inf/.test(expiries[j + 1]) ? Number.POSITIVE_INFINITY : Number(expiries[j + 1]);
          found.push({ reservation_id: reservation, product_id: productIds[i], quantity: Number(quantities[reservation] ?? 0), expires_at: expiresAt });
        }
      }
      return found.sort((a, b) => a.expires_at - b.expires_at);
    },

    async applyOrderCreated(reservationId, requested) {
      const lines = mergeLines(requested);
      const keys = [
        k.applied(reservationId),
        k.reservation(reservationId),
        ...lines.flatMap((l) => [k.product(l.product_id), k.holds(l.product_id), k.expiry(l.product_id)]),
      ];
      return (await redis.shopApply(keys.length, ...keys, reservationId, APPLIED_TTL_S, ...lines.map((l) => l.quantity))) === 1;
    },

    async seed(products) {
      for (let i = 0; i < products.length; i += SEED_BATCH) {
        const pipe = redis.pipeline();
        for (const p of products.slice(i, i + SEED_BATCH)) {
          pipe.hset(k.product(p.id), {
            id: p.id,
            title: p.title,
            passenger_capacity: p.passenger_capacity,
            maximum_speed: p.maximum_speed,
            in_stock: p.in_stock,
          });
          pipe.zadd(k.index, 0, p.id);
          pipe.hset(k.titles, p.id, p.title);
        }
        for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
      }
    },

    async clear() {
      // Everything under the prefix (products, index, titles, holds, reservations, applied flags): SCAN, never KEYS.
      const match = `${opts.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
        if (keys.length) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    },

    async ping() {
      if (redis.status !== 'ready') return false;
      return (await redis.ping()) === 'PONG';
    },

    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return guarded(store, () => redis.status);
}

// ioredis gives up on a command after maxRetriesPerRequest reconnects; the client then sees 503, not 500.
const CONNECTION_TROUBLE = /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|Stream isn't writeable/;

function guarded(store: ProductStore, status: () => string): ProductStore {
  const wrapped: Record<string, unknown> = { kind: store.kind };
  for (const [name, fn] of Object.entries(store)) {
    if (typeof fn !== 'function' || name === 'close' || name === 'ping') {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        const e = err as Error;
        if (e?.name === 'MaxRetriesPerRequestError' || CONNECTION_TROUBLE.test(e?.message ?? '')) {
          throw shopErrors.PRODUCTS_STORE_UNAVAILABLE(`The products store (Redis) is unavailable (${status()})`);
        }
        throw err;
      }
    };
  }
  return wrapped as unknown as ProductStore;
}
