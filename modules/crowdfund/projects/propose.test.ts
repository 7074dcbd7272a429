// Propose is atomic: a failed outbox write leaves no project and no tags; concurrent proposals of one name make one project.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { ModuleDatabase } from '../../../db/database.ts';
import { migrateUp } from '../../../db/migrator.ts';
import type { Publisher } from '../../../kernel/bus/types.ts';
import type { Facade } from '../../../kernel/contract.ts';
import { asBusTables } from '../../../kernel/bus/tables.ts';
import { busMigrations } from '../../../kernel/bus/migrations.ts';
import { ENGINES, gate } from '../../../kernel/testing/index.ts';
import type { threadsContract } from '../contract.ts';
import { migrations } from '../migrations/index.ts';
import { createProjectService } from './service.ts';
import { createProjectStore } from './store.ts';

const log = pino({ level: 'silent' });
const proposal = (name: string) => ({ project_name: name, tagline: 't', tags: ['a', 'b'], problems: ['p'], solutions: ['s'] });
const count = async (mdb: ModuleDatabase, table: string) => (await mdb.db.selectFrom(table).select('project_id').execute()).length;

for (const engine of ENGINES) {
  describe(`propose (${engine.name})`, await gate(...engine.needs), () => {
    it('a publish that fails rolls back the project and its tags; 10 concurrent proposals of one name make one project', async () => {
      const { mdb, drop } = await engine.open('crowdfund', log);
      try {
        await migrateUp(mdb, { ...busMigrations, ...migrations });
        let failing = true;
        const bus: Pick<Publisher, 'publish'> = {
          async publish(trx, topic, payload) {
            // The real publisher's write: a row in this transaction's outbox (then, here, a failure after it).
            await asBusTables(trx)
              .insertInto('outbox')
              .values({
                id: crypto.randomUUID(),
                topic: topic.name,
                payload: JSON.stringify(payload),
                created_at: new Date().toISOString(),
                source: 'crowdfund',
              })
              .execute();
            if (failing) throw new Error('outbox write failed');
            return 'id';
          },
        };
        const service = createProjectService({
          db: mdb.db,
          store: createProjectStore(mdb.db),
          bus,
          log,
          now: () => new Date(),
          maxTags: 100,
          idempotencyTtlMs: 60_000,
          threads: {} as Facade<typeof threadsContract>,
        });
        await assert.rejects(service.propose(proposal('Atomic'), 'k'), /outbox write failed/);
        assert.equal((await mdb.db.selectFrom('projects').select('id').execute()).length, 0);
        assert.equal(await count(mdb, 'tags'), 0);
        assert.equal(await count(mdb, 'idempotency_keys'), 0);
        assert.equal((await mdb.db.selectFrom('outbox').select('id').execute()).length, 0);

        failing = false;
        const answers = await Promise.allSettled(Array.from({ length: 10 }, () => service.propose(proposal('Atomic'))));
        assert.equal(answers.filter((a) => a.status === 'fulfilled').length, 1);
        for (const a of answers) if (a.status === 'rejected') assert.equal((a.reason as { code: string }).code, 'PROJECT_NAME_TAKEN');
        assert.equal((await mdb.db.selectFrom('outbox').select('id').execute()).length, 1, 'one event for the one project');
        assert.equal(await count(mdb, 'tags'), 2);
      } finally {
        await mdb.close();
        await drop();
      }
    });
  });
}
