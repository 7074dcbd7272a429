// Measures how far the order_created consumer trails an order burst: the app as a real process, a Redis of its own (AOF).
//
//   node --import tsx modules/shop/testing/consumer-lag.ts [--connections 20] [--seconds 5] [--bus redis|in-process]
//        [--store sql|redis] [--database-url postgres://…]
//
// Prints orders accepted per second, events applied during the burst, the largest backlog (accepted − applied),
// how long after the burst the backlog took to reach 0, and the consumer lag histogram's p50/p99 (publish → applied).
import { parseArgs } from 'node:util';
import { spawnApp } from '../../../kernel/spawn-app.ts';
import { startRedisServer } from '../../../kernel/testing/bus-redis.ts';
import { deleteRedisKeys, REDIS_URL, uniqueName } from '../../../kernel/testing/index.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '5' },
    bus: { type: 'string', default: 'redis' },
    store: { type: 'string', default: 'sql' },
    'database-url': { type: 'string' },
  },
});
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const STOCK = 1_000_000_000;

/** A quantile of a Prometheus histogram (upper bound of the bucket holding it). */
function quantile(metrics: string, name: string, q: number): string {
  const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)`, 'gm'))].map((m) => [m[1], Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return 'n/a';
  const hit = buckets.find(([, n]) => n >= q * total);
  return hit ? `≤ ${hit[0]} s` : 'n/a';
}

const bus = values.bus === 'redis' ? await startRedisServer({ appendonly: true }) : undefined;
const prefix = `${uniqueName('cantons-lag')}:`;
// The Redis goes with the script even when the app never becomes ready.
const app = await spawnApp(
  {
    MODULES: 'shop',
    LOG_LEVEL: 'error',
    ...(bus ? { EVENT_BUS_URL: bus.url, BUS_EPHEMERAL_REDIS: 'refuse' } : {}),
    ...(values.store === 'redis' ? { SHOP_PRODUCTS_STORE: 'redis', REDIS_URL, SHOP_REDIS_PREFIX: prefix } : {}),
    ...(values['database-url'] ? { DATABASE_URL: values['database-url'] } : {}),
  },
  { readyTimeoutMs: 90_000 },
).catch(async (err) => {
  await bus?.close();
  throw err;
});
try {
  const post = (path: string, body: unknown) =>
    fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const id = `lag-${Date.now()}`;
  const created = await post('/products', { id, title: 'Lag', passenger_capacity: 1, maximum_speed: 1, in_stock: STOCK });
  if (!created.ok) throw new Error(`create product: ${created.status} ${await created.text()}`);
  const applied = async () => STOCK - ((await (await fetch(`${app.url}/products/${id}`)).json()) as { in_stock: number }).in_stock;

  let accepted = 0;
  let failed = 0;
  let maxBacklog = 0;
  let appliedDuringBurst = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const workers = Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const res = await post('/orders', { order_details: [{ product_id: id, price: '1.00', quantity: 1 }] });
      await res.arrayBuffer();
      if (res.ok) accepted++;
      else failed++;
    }
  });
  let bursting = true;
  const sampler = (async () => {
    while (bursting) {
      // Accepted before the read: every order counted here committed before the stock was read.
      const before = accepted;
      const a = await applied();
      appliedDuringBurst = a;
      maxBacklog = Math.max(maxBacklog, before - a);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.all(workers);
  const burstMs = performance.now() - started;
  bursting = false;
  await sampler;
  const burstEnd = performance.now();
  let drainedMs = -1;
  while (performance.now() - burstEnd < 60_000) {
    if ((await applied()) >= accepted) {
      drainedMs = performance.now() - burstEnd;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  console.log(
    JSON.stringify({
      bus: values.bus,
      store: values.store,
      database: values['database-url'] ? 'postgres' : 'sqlite',
      connections,
      seconds,
      accepted,
      failed,
      orders_per_s: Math.round(accepted / (burstMs / 1000)),
      applied_during_burst: appliedDuringBurst,
      max_backlog: maxBacklog,
      drained_ms_after_burst: Math.round(drainedMs),
      lag_p50: quantile(metrics, 'cantons_bus_lag_seconds', 0.5),
      lag_p99: quantile(metrics, 'cantons_bus_lag_seconds', 0.99),
    }),
  );
} finally {
  await app.stop();
  await bus?.close();
  if (values.store === 'redis') await deleteRedisKeys(prefix);
}
