// Child process for the propagation measurement: N informers, each with its own etcd connection and watch,
// reporting (on the shared monotonic clock) when each applied each event under `prop/`.
import { createLogger } from '../../../kernel/logger.ts';
import { createEtcdClient } from '../etcd-client.ts';
import { Informer } from '../informer.ts';

const url = process.env.ETCD_URL!;
const prefix = process.env.CACHE_KEY_PREFIX!;
const count = Number(process.env.INFORMERS ?? 16);
const first = Number(process.env.FIRST_INFORMER ?? 0);
const log = createLogger('silent');
const now = () => Number(process.hrtime.bigint()) / 1e6;

let batch: Array<[number, string, number]> = [];
const flush = () => {
  if (batch.length) process.send!({ type: 'seen', seen: batch });
  batch = [];
};

const informers = Array.from({ length: count }, (_, i) => {
  const client = createEtcdClient({ endpoints: [url], timeoutMs: 5000 });
  const informer = new Informer({
    client,
    prefix,
    log,
    resync: { baseMs: 50, maxMs: 1000 },
    onEvent: (key, _revision, applied) => {
      if (!applied || !key.startsWith('prop/')) return;
      if (batch.length === 0) setImmediate(flush);
      batch.push([first + i, key, now()]);
    },
  });
  informer.start();
  return { client, informer };
});

const waitLive = async () => {
  while (informers.some(({ informer }) => informer.stale())) await new Promise((r) => setTimeout(r, 20));
  process.send!({ type: 'ready' });
};
void waitLive();

process.on('message', async (msg: { type: string }) => {
  if (msg.type !== 'stop') return;
  flush();
  for (const { informer, client } of informers) {
    await informer.close();
    client.close();
  }
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
