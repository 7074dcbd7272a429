// The nameko-devex perf loop (create product, get it, order it, get the order) and a list loop (a title filter, a plain page)
// at catalogues of 100, 10k and 100k products, SQL and Redis stores.
import { seedModule } from '../../kernel/module-database.ts';
import { shop } from '../../modules/shop/index.ts';
import type { VirtualUser } from '../load.ts';
import {
  check,
  defineScenario,
  roundsFlag,
  measure,
  median,
  type BenchIO,
  type BenchOptions,
  type CheckResult,
  type MeasureLoad,
  type RatioResult,
  type RunRecord,
} from '../scenario.ts';
import { spawnCantons, stopServers, tempDir } from '../servers.ts';

const PARTS = { loop: ['create-product', 'get-product', 'create-order', 'get-order'], list: ['list-title', 'list-page'] } as const;
type Part = keyof typeof PARTS;
const STORES = ['sql', 'redis'] as const;
const DEFAULT_SIZES = [100, 10_000, 100_000];
const TARGET = 1.2;

/** One pass of the original Taurus plan (test/nex-bzt.yml): every pass adds a product, so the catalogue grows. */
const perfLoop: MeasureLoad = {
  step: async (vu: VirtualUser) => {
    const id = `bench-${vu.random.uuid()}`;
    await vu.client.post(
      '/products',
      { id, title: 'The Odyssey', passenger_capacity: 101, maximum_speed: 5, in_stock: 1_000_000 },
      { step: 'create-product', expect: 200 },
    );
    await vu.client.get(`/products/${id}`, { step: 'get-product', expect: 200 });
    const order = await vu.client.post(
      '/orders',
      { order_details: [{ product_id: id, price: '100000.99', quantity: 1 }] },
      { step: 'create-order', expect: 200 },
    );
    const got = await vu.client.get(`/orders/${order.body.id}`, { step: 'get-order', expect: 200 });
    if (got.body?.order_details?.[0]?.product?.id !== id) throw new Error(`order ${order.body.id} rendered without its product`);
  },
};

/**
 * Reading the catalogue: a title filter (the seed titles every 7th product "Zeppelin …") and a plain first page.
 * A title page reads a bounded window of the id index, so it may be short or even empty while next_cursor is
 * set (docs/shop.md); what it returns must match, and it must say where to go on.
 */
const listLoop: MeasureLoad = {
  step: async (vu: VirtualUser) => {
    const found = await vu.client.get('/products?title=zeppelin&limit=20', { step: 'list-title', expect: 200 });
    const items = found.body?.items as { title: string }[] | undefined;
    if (!Array.isArray(items) || items.some((p) => !/zeppelin/i.test(p.title)))
      throw new Error(`title filter answered ${JSON.stringify(found.body)?.slice(0, 80)}`);
    const page = await vu.client.get('/products?limit=20', { step: 'list-page', expect: 200 });
    if (page.body?.items?.length !== 20 || typeof page.body.total !== 'number')
      throw new Error(`a plain page of ${page.body?.items?.length} products, total ${page.body?.total}`);
  },
};

function list(flag: string | boolean | undefined, fallback: readonly string[]): string[] {
  return typeof flag === 'string'
    ? flag
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...fallback];
}

async function run(opts: BenchOptions, io: BenchIO) {
  const redisUrl = typeof opts.flags['redis-url'] === 'string' ? opts.flags['redis-url'] : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const stores = list(opts.flags.stores, STORES);
  const sizes = list(opts.flags.sizes, DEFAULT_SIZES.map(String)).map(Number);
  const bad = stores.filter((s) => !(STORES as readonly string[]).includes(s));
  if (bad.length || sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--stores sql,redis and --sizes 100,10000,100000 (got ${stores} / ${sizes})`);

  const parts = list(opts.flags.parts, Object.keys(PARTS)) as Part[];
  if (parts.some((p) => !(p in PARTS))) throw new Error(`--parts loop,list (got ${parts})`);

  const runs: RunRecord[] = [];
  const checks: CheckResult[] = [];
  const ratios: RatioResult[] = [];
  const notes: string[] = [
    'each loop pass creates a product, so every catalogue grows during its run by the number of create-product requests (same growth at every size); the list loop runs after it on the same server',
    `ratio = step latency at ${Math.max(...sizes)} products ÷ at ${Math.min(...sizes)}; target ≤ ${TARGET} (cost independent of catalogue size)`,
  ];
  const rounds = roundsFlag(opts);
  // `${store} ${part}` → size → one run per round. Rounds alternate the sizes, so a noisy minute hits them alike.
  const series = new Map<string, Map<number, RunRecord[]>>();
  const add = (key: string, size: number, r: RunRecord) => {
    if (!series.has(key)) series.set(key, new Map(sizes.map((n) => [n, []])));
    series.get(key)!.get(size)!.push(r);
  };
  // One Redis prefix for the whole run: the seed hook wipes it before each catalogue, and count 0 at the end.
  const redisEnv = { SHOP_PRODUCTS_STORE: 'redis', REDIS_URL: redisUrl, SHOP_REDIS_PREFIX: `cantons-bench-shop-${process.pid}:` };

  try {
    for (let round = 1; round <= rounds; round++) {
      for (const store of stores) {
        for (const size of sizes) {
          const env: Record<string, string> = { MODULES: 'shop', DATA_DIR: tempDir('cantons-bench-shop-'), ...(store === 'redis' ? redisEnv : {}) };
          const label = `${store} store, ${size.toLocaleString('en')} products${rounds > 1 ? ` #${round}` : ''}`;
          const t0 = performance.now();
          await seedModule(shop, env, size);
          io.log(`${label}: seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s; starting the server …`);
          const server = await spawnCantons(env, { name: `cantons shop (${store})`, readyTimeoutMs: 120_000 });
          try {
            const before = await fetch(`${server.url}/products?limit=1`).then((r) => r.json() as Promise<{ total: number }>);
            checks.push(check(`${label}: catalogue seeded`, before.total === size, `GET /products total = ${before.total}`));
            for (const part of parts) {
              const record = await measure(part === 'loop' ? label : `${label}, list`, [server], part === 'loop' ? perfLoop : listLoop, opts, io);
              runs.push(record);
              add(`${store} ${part}`, size, record);
              checks.push(check(`${record.label}: zero 5xx`, record.errors.status5xx === 0, `${record.errors.status5xx} of ${record.requests}`));
              checks.push(check(`${record.label}: every step answered as expected`, record.errors.total === 0, `${record.errors.total} errors`));
            }
            const after = await fetch(`${server.url}/products?limit=1`).then((r) => r.json() as Promise<{ total: number }>);
            notes.push(`${label}: catalogue ${size} → ${after.total} during warm-up and measurement`);
          } finally {
            await stopServers(server);
          }
        }
      }
    }
  } finally {
    if (stores.includes('redis')) await seedModule(shop, { MODULES: 'shop', DATA_DIR: tempDir('cantons-bench-shop-'), ...redisEnv }, 0).catch(() => {});
  }

  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  if (small !== large) {
    for (const [key, records] of series) {
      const [store, part] = key.split(' ') as [string, Part];
      const as = records.get(large)!;
      const bs = records.get(small)!;
      for (const step of PARTS[part]) {
        for (const p of ['p50', 'p99'] as const) {
          const each = as.map((a, i) => (a.steps[step]?.latency[p] ?? NaN) / (bs[i]?.steps[step]?.latency[p] ?? NaN));
          if (each.length === 0 || each.some((v) => !Number.isFinite(v))) continue;
          const value = Math.round(median(each) * 100) / 100;
          const verdict = value <= TARGET ? 'MET' : 'NOT MET';
          const detail =
            each.length === 1
              ? `${as[0].steps[step].latency[p].toFixed(2)} ms ÷ ${bs[0].steps[step].latency[p].toFixed(2)} ms`
              : `median of ${each.length} rounds: ${each.map((v) => v.toFixed(2)).join(', ')}`;
          ratios.push({ name: `${store} ${step} ${p} ${large}÷${small}`, value, detail: `${detail}; target ≤ ${TARGET}: ${verdict}` });
        }
      }
      const cpu = as.map((a, i) => (a.serverCpuUsPerOk ?? NaN) / (bs[i]?.serverCpuUsPerOk ?? NaN));
      if (cpu.length && cpu.every(Number.isFinite)) {
        ratios.push({
          name: `${store} ${part} server CPU per request ${large}÷${small}`,
          value: Math.round(median(cpu) * 100) / 100,
          detail: `per round ${cpu.map((v) => v.toFixed(2)).join(', ')}`,
        });
      }
    }
  }
  for (const r of runs)
    if (r.loadgenCpuPercent >= 85) notes.push(`${r.label}: load generator used ${r.loadgenCpuPercent}% of a core — latency may include client queueing`);
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'shop',
  description:
    'nameko-devex perf loop and a list loop (title filter, plain page) at 100 / 10k / 100k pre-seeded products on the SQL and Redis stores; --stores sql,redis --sizes 100,10000,100000 --parts loop,list --rounds N (default 3; ratios are medians)',
  defaults: { connections: 8, durationSec: 10 },
  flags: {
    stores: { type: 'string', description: 'stores, of sql,redis (default both)' },
    sizes: { type: 'string', description: 'catalogue sizes (default 100,10000,100000)' },
    parts: { type: 'string', description: 'loops, of loop,list (default both)' },
    rounds: { type: 'string', description: 'N rounds; ratios are their medians', default: '3' },
    'redis-url': { type: 'string', description: 'Redis for the redis store (default REDIS_URL, else redis://127.0.0.1:6379)' },
  },
  run,
});
