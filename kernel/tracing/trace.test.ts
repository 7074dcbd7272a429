// One trace through every hop, exported to a real OTLP/HTTP receiver: a public POST /orders through the reserve call
// in the products process and its order_created handler there (over Redis Streams), POST /events/snow-reports from
// the receiver into the storage process and its group commit, and the same span trees when everything runs in one process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../testing/otlp-receiver.ts';
import { deleteRedisKeys, gate, REDIS_URL, spawnApp, tempDir, uniqueName, type SpawnedApp } from '../testing/index.ts';

let receiver: OtlpReceiver;
const started: SpawnedApp[] = [];
const prefix = uniqueName('cantons-test-trace');

before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await Promise.all(started.map((a) => a.stop()));
  await deleteRedisKeys(prefix);
  await receiver.close();
});

async function spawn(env: Record<string, string>): Promise<SpawnedApp> {
  const app = await spawnApp({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    BUS_POLL_MS: '50',
    ...env,
  });
  started.push(app);
  return app;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${url}: ${res.status} ${text}`);
  // traceresponse: 00-<trace id>-<span id>-<flags>, the server span of this request.
  const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(res.headers.get('traceresponse') ?? '') ?? [];
  assert.ok(traceId, `${url} answered without a traceresponse header`);
  return { traceId, spanId, body: JSON.parse(text) };
}

/** A span tree as names, kinds, children and the names of linked spans — what must look the same in every topology. */
interface Node {
  name: string;
  kind: string;
  links: string[];
  children: Node[];
}

/**
 * The tree under `root`. A client span whose one child is the server span of the same call (a process boundary)
 * reads as the internal span of that call in one process.
 */
function shape(all: ReceivedSpan[], root: ReceivedSpan): Node {
  const childrenOf = (s: ReceivedSpan) => all.filter((c) => c.parentSpanId === s.spanId && c.traceId === s.traceId);
  const linked = (s: ReceivedSpan) => s.links.map((l) => all.find((t) => t.spanId === l.spanId && t.traceId === l.traceId)?.name ?? '(not received)').sort();
  let kids = childrenOf(root);
  let kind = root.kind;
  if (root.kind === 'client' && kids.length === 1 && kids[0].kind === 'server' && kids[0].name === root.name) {
    kids = childrenOf(kids[0]);
    kind = 'internal';
  }
  const children = kids.map((k) => shape(all, k)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { name: root.name, kind, links: linked(root), children };
}

const listed = (spans: ReceivedSpan[]) => JSON.stringify(spans.map((s) => `${s.service} ${s.kind} ${s.name}`));
const byTrace = (traceId: string) => receiver.trace(traceId);
const one = (spans: ReceivedSpan[], name: string, kind?: string) => {
  const found = spans.filter((s) => s.name === name && (!kind || s.kind === kind));
  assert.equal(found.length, 1, `one ${kind ?? ''} span ${name} in ${listed(spans)}`);
  return found[0];
};

const product = (id: string) => ({ id, title: 'Traced', passenger_capacity: 1, maximum_speed: 1, in_stock: 10 });
const order = (id: string) => ({ order_details: [{ product_id: id, price: '1.00', quantity: 1 }] });
const snow = { device_id: 'd', resort_id: 'r', depth: 80, timestamp: '2024-03-01T07:00:00Z' };

/** The shapes of the flows, recorded split and compared in one process. */
const split: Record<string, Node> = {};

/** POST /orders; its trace once the order_created handler's span (and its transaction) arrived. */
async function orderFlow(products: string, orders: string, requestId: string) {
  await post(`${products}/products`, product('traced'));
  const placed = await post(`${orders}/orders`, order('traced'), { 'x-request-id': requestId });
  await receiver
    .until('the order_created handler span and its transaction', () => {
      const spans = byTrace(placed.traceId);
      const handler = spans.find((s) => s.name === 'process shop.order_created');
      // Each process exports on its own: the caller's request span may come after the callee's spans.
      return Boolean(handler && spans.some((s) => s.parentSpanId === handler.spanId) && spans.some((s) => s.name === 'POST /orders'));
    })
    .catch((err: Error) => {
      throw new Error(`${err.message}; the trace holds ${listed(byTrace(placed.traceId))}`);
    });
  return placed;
}

/** POST /events/snow-reports; its trace and the group commit that stored it. */
async function snowFlow(receiverUrl: string) {
  const posted = await post(`${receiverUrl}/events/snow-reports`, snow, { 'x-trace-id': uniqueName('snow') });
  let batch: ReceivedSpan | undefined;
  await receiver.until('the group commit span linked to the request', () => {
    batch = receiver.spans.find((s) => s.name === 'group commit' && s.links.some((l) => l.traceId === posted.traceId));
    const spans = byTrace(posted.traceId);
    return Boolean(
      batch && spans.some((s) => s.name === 'events.storage/store' && s.kind !== 'client') && spans.some((s) => s.name === 'POST /events/snow-reports'),
    );
  });
  return { ...posted, batch: batch! };
}

describe('tracing across processes', await gate('redis'), () => {
  it('one trace from POST /orders through reserve in the products process and order_created there, over Redis Streams', async () => {
    const shared = { DATA_DIR: tempDir(), EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix };
    const products = await spawn({ ...shared, MODULES: 'shop.products', LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    const orders = await spawn({ ...shared, MODULES: 'shop.orders', SHOP_PRODUCTS_URL: products.url });

    const placed = await orderFlow(products.url, orders.url, 'trace-test-order-1');
    const spans = byTrace(placed.traceId);
    const root = one(spans, 'POST /orders', 'server');
    assert.equal(root.spanId, placed.spanId, 'traceresponse names the request span');
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.service, 'cantons:shop.orders');
    // The role call: a client span in orders, its server span in products, one trace.
    const client = one(spans, 'shop.products/reserve', 'client');
    const server = one(spans, 'shop.products/reserve', 'server');
    assert.equal(client.parentSpanId, root.spanId);
    assert.equal(server.parentSpanId, client.spanId);
    assert.equal(server.service, 'cantons:shop.products');
    // publish → outbox row → relay → XADD → the handler in products: a child of the publishing span.
    const publish = one(spans, 'publish shop.order_created', 'producer');
    const handler = one(spans, 'process shop.order_created', 'consumer');
    assert.equal(handler.parentSpanId, publish.spanId);
    assert.equal(handler.service, 'cantons:shop.products');
    // The relay's batch and its XADD: a trace of their own, linked to the publishing span.
    await receiver.until('the relay span linked to the publish', () =>
      receiver.spans.some((s) => s.name === 'relay shop' && s.links.some((l) => l.spanId === publish.spanId)),
    );
    const relay = receiver.spans.find((s) => s.name === 'relay shop' && s.links.some((l) => l.spanId === publish.spanId))!;
    assert.ok(receiver.trace(relay.traceId).some((s) => s.name === 'XADD' && s.parentSpanId === relay.spanId));

    // Logs line up: the products process logged the reserve call under the caller's request id, in this trace.
    const lines = products
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const access = lines.find((l) => l.msg === 'request' && l.route === '/rpc/shop.products/reserve');
    assert.ok(access, `no access line for the reserve call in:\n${products.output()}`);
    assert.equal(access.reqId, 'trace-test-order-1');
    assert.equal(access.trace_id, placed.traceId);
    assert.equal(access.span_id, server.spanId);

    split.order = shape(receiver.spans, root);
  });

  it('one trace from POST /events/snow-reports on the receiver to the storage process; the group commit links to it', async () => {
    const storage = await spawn({ MODULES: 'events.storage' });
    const events = await spawn({ MODULES: 'events.receiver', EVENTS_STORAGE_URL: storage.url });

    const posted = await snowFlow(events.url);
    const spans = byTrace(posted.traceId);
    const root = one(spans, 'POST /events/snow-reports', 'server');
    const client = one(spans, 'events.storage/store', 'client');
    const server = one(spans, 'events.storage/store', 'server');
    assert.equal(client.parentSpanId, root.spanId);
    assert.equal(server.parentSpanId, client.spanId);
    assert.equal(server.service, 'cantons:events.storage');
    // The batch: a span of its own trace, linked to the store call it carried.
    assert.notEqual(posted.batch.traceId, posted.traceId);
    assert.equal(posted.batch.parentSpanId, undefined);
    assert.ok(posted.batch.links.some((l) => l.traceId === posted.traceId && l.spanId === server.spanId));

    split.snow = shape(receiver.spans, root);
    split.batch = shape(receiver.spans, posted.batch);
  });

  it('the same span trees in one process, apart from the client/server pairs of the process boundary', async () => {
    assert.ok(split.order && split.snow, 'the split tests ran first');
    const app = await spawn({ MODULES: 'shop,events' });
    const placed = await orderFlow(app.url, app.url, 'trace-test-order-2');
    const posted = await snowFlow(app.url);

    const order = shape(receiver.spans, one(byTrace(placed.traceId), 'POST /orders', 'server'));
    assert.deepEqual(order, split.order);
    assert.deepEqual(shape(receiver.spans, one(byTrace(posted.traceId), 'POST /events/snow-reports', 'server')), split.snow);
    assert.deepEqual(shape(receiver.spans, posted.batch), split.batch);
    // Not trivially equal: the trees hold the call, the transaction and the handler.
    assert.ok(JSON.stringify(order).includes('process shop.order_created'));
    assert.ok(JSON.stringify(order).includes('shop.products/reserve'));
  });
});
