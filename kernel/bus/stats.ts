// The bus as the console shows it: each outbox's depth and age, each consumer's lag per topic, each inbox's size,
// and what the consumers did since the process started (the counters /metrics exports).
import type { Counter } from 'prom-client';
import type { ModuleDatabase } from '../../db/database.ts';
import type { Subscription } from './consumer.ts';
import type { BusMetrics, StreamSample } from './metrics.ts';
import { outboxStats } from './outbox.ts';
import type { BusStats } from './types.ts';

async function counts(counter: Counter<'consumer' | 'topic'>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await counter.get()).values) out.set(`${v.labels.consumer} ${v.labels.topic}`, v.value);
  return out;
}

/** A database that cannot answer right now leaves its rows out (as on /metrics) rather than failing the page. */
const orNothing = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

export async function busStats(opts: {
  adapter: BusStats['adapter'];
  outboxes: Array<{ module: string; mdb: ModuleDatabase }>;
  subs: Subscription[];
  metrics: BusMetrics;
  streams?: () => Promise<StreamSample[]>;
}): Promise<BusStats> {
  const outboxes = (await Promise.all(opts.outboxes.map(async ({ module, mdb }) => orNothing(outboxStats(mdb).then((s) => ({ module, ...s })))))).filter(
    (s) => s !== undefined,
  );
  // In-process, an event waits only in its publisher's outbox: a consumer's lag is the rows of its topic there.
  const waiting = new Map<string, number>();
  for (const { mdb } of opts.outboxes) {
    const rows = await orNothing(
      mdb.db
        .selectFrom('outbox')
        .select((eb) => ['topic', eb.fn.countAll().as('n')])
        .groupBy('topic')
        .execute(),
    );
    for (const r of rows ?? []) waiting.set(String(r.topic), (waiting.get(String(r.topic)) ?? 0) + Number(r.n));
  }
  const streams = opts.streams ? await opts.streams().catch(() => []) : undefined;
  const [handled, failures, dead] = await Promise.all([counts(opts.metrics.handled), counts(opts.metrics.failures), counts(opts.metrics.deadLetters)]);
  const consumers = opts.subs.map(({ consumer, topic }) => {
    const stream = streams?.find((s) => s.consumer === consumer && s.topic === topic);
    const key = `${consumer} ${topic}`;
    return {
      consumer,
      topic,
      lag: streams ? (stream?.lag ?? null) : (waiting.get(topic) ?? 0),
      pending: streams ? (stream?.pending ?? null) : null,
      handled: handled.get(key) ?? 0,
      failures: failures.get(key) ?? 0,
      deadLettered: dead.get(key) ?? 0,
    };
  });
  const inboxes: BusStats['inboxes'] = [];
  for (const mdb of new Set(opts.subs.map((s) => s.mdb))) {
    const module = opts.subs.find((s) => s.mdb === mdb)!.consumer.split('.')[0];
    const row = await orNothing(
      mdb.db
        .selectFrom('inbox')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst(),
    );
    if (row) inboxes.push({ module, size: Number(row.n) });
  }
  return { adapter: opts.adapter, outboxes, consumers, inboxes };
}
