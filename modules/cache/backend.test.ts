// Runs the backend contract against the in-memory backend and against the etcd backend on a real etcd.
import { after } from 'node:test';
import { gate } from '../../kernel/testing/index.ts';
import { createLogger } from '../../kernel/logger.ts';
import { createEtcdClient } from './etcd-client.ts';
import { etcdBackend } from './etcd-backend.ts';
import { memoryBackend } from './memory-backend.ts';
import { backendContract } from './testing/backend-contract.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';

backendContract('memory', async () => {
  const b = memoryBackend();
  await b.start();
  return b;
});

const withEtcd = await gate('etcd');
let etcd: Promise<EtcdServer> | undefined;
let n = 0;
after(async () => (await etcd)?.close());

backendContract(
  'etcd',
  async () => {
    etcd ??= startEtcd();
    const { url } = await etcd;
    const b = etcdBackend({
      client: createEtcdClient({ ETCD_URL: [url], CACHE_ETCD_TIMEOUT_MS: 2000 }),
      prefix: `contract-${++n}/`,
      log: createLogger('silent'),
      resync: { baseMs: 20, maxMs: 200 },
      ownsClient: true,
    });
    await b.start();
    return b;
  },
  withEtcd,
);
