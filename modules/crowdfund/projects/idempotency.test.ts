// Idempotency keys over time, on the store itself: a key answers its first answer until it expires, then is swept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { migrateUp } from '../../../db/migrator.ts';
import type { Facade } from '../../../kernel/contract.ts';
import { busMigrations } from '../../../kernel/bus/migrations.ts';
import { ENGINES, gate } from '../../../kernel/testing/index.ts';
import type { threadsContract } from '../contract.ts';
import { migrations } from '../migrations/index.ts';
import { createProjectService } from './service.ts';
import { createProjectStore } from './store.ts';

const log = pino({ level: 'silent' });
const HOUR = 3_600_000;

for (const engine of ENGINES) {
  describe(`idempotency keys (${engine.name})`, await gate(...engine.needs), () => {
    it('a retry within the TTL gets the first project; after it, a new one; the sweep drops only expired keys', async () => {
      const { mdb, drop } = await engine.open('crowdfund', log);
      try {
        await migrateUp(mdb, { ...busMigrations, ...migrations });
        let now = Date.parse('2026-01-01T00:00:00Z');
        const published: unknown[] = [];
        const store = createProjectStore(mdb.db);
        const service = createProjectService({
          db: mdb.db,
          store,
          log,
          now: () => new Date(now),
          maxTags: 100,
          idempotencyTtlMs: 24 * HOUR,
          threads: {} as Facade<typeof threadsContract>,
          bus: {
            publish: async (_trx, _topic, payload) => {
              published.push(payload);
              return 'id';
            },
          },
        });
        const p = (name: string) => ({ project_name: name, tagline: 't', tags: [], problems: ['p'], solutions: ['s'] });

        const first = await service.propose(p('A'), 'key-1');
        now += 23 * HOUR;
        assert.equal(await service.propose(p('A'), 'key-1'), first);
        assert.equal(published.length, 1, 'the retry published nothing');
        now += 2 * HOUR;
        // Expired: the key is free again; the same name is now simply taken.
        await assert.rejects(service.propose(p('A'), 'key-1'), { code: 'PROJECT_NAME_TAKEN' });
        const second = await service.propose(p('B'), 'key-1');
        assert.notEqual(second, first);
        now += 12 * HOUR;
        await service.propose(p('C'), 'key-2');

        // 24 h after key-1 was last recorded, 12 h after key-2.
        now += 12 * HOUR + 1;
        assert.equal(await store.pruneKeys(new Date(now - 24 * HOUR).toISOString()), 1);
        const left = await mdb.db.selectFrom('idempotency_keys').select('key').execute();
        assert.deepEqual(
          left.map((r) => r.key),
          ['key-2'],
        );
      } finally {
        await mdb.close();
        await drop();
      }
    });
  });
}
