// The bus migration goes up and down on both dialects, and the inbox prunes by age.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { migrateDown, migrateUp } from '../../db/migrator.ts';
import { pruneInbox } from './consumer.ts';
import { busMigrations } from './migrations.ts';
import { postgresDatabases, sqliteDatabases, testMigrations, type Databases } from '../testing/bus.ts';
import { gate } from '../testing/index.ts';

const pgGate = await gate('postgres');

for (const [name, make, gate] of [
  ['SQLite', async () => sqliteDatabases(), {} as { skip?: string }],
  ['Postgres', postgresDatabases, pgGate],
] as const) {
  describe(`bus tables on ${name}`, { skip: gate.skip }, () => {
    let dbs: Databases | undefined;
    after(async () => dbs?.dispose());

    it('000_kernel_bus creates outbox, inbox and dead_letters (000_kernel_bus_trace their trace column), and down removes them', async () => {
      dbs = await make();
      const mdb = await dbs.open('migr');
      const tables = async () =>
        (await mdb.db.introspection.getTables())
          .map((t) => t.name)
          .filter((t) => ['outbox', 'inbox', 'dead_letters'].includes(t))
          .sort();
      assert.deepEqual(await tables(), ['dead_letters', 'inbox', 'outbox']);
      assert.deepEqual(await migrateDown(mdb, testMigrations), ['001_test', '000_kernel_bus_trace', '000_kernel_bus']);
      assert.deepEqual(await tables(), []);
      assert.deepEqual(await migrateUp(mdb, busMigrations), ['000_kernel_bus', '000_kernel_bus_trace']);
      assert.deepEqual(await tables(), ['dead_letters', 'inbox', 'outbox']);
      const columns = async (table: string) => (await mdb.db.introspection.getTables()).find((t) => t.name === table)?.columns.map((c) => c.name) ?? [];
      assert.ok((await columns('outbox')).includes('trace_context'));
      assert.ok((await columns('dead_letters')).includes('trace_context'));
    });

    it('000_kernel_bus_trace also runs on a database whose module migrations ran before it existed', async () => {
      dbs ??= await make();
      const mdb = await dbs.open('late');
      assert.deepEqual(await migrateDown(mdb, testMigrations), ['001_test', '000_kernel_bus_trace', '000_kernel_bus']);
      const before = Object.fromEntries(Object.entries(testMigrations).filter(([name]) => name !== '000_kernel_bus_trace'));
      assert.deepEqual(await migrateUp(mdb, before), ['000_kernel_bus', '001_test']);
      assert.deepEqual(await migrateUp(mdb, testMigrations), ['000_kernel_bus_trace']);
    });

    it('pruneInbox forgets only entries older than the retention', async () => {
      dbs ??= await make();
      const mdb = await dbs.open('prune');
      const old = new Date(Date.now() - 10 * 86400_000).toISOString();
      const recent = new Date().toISOString();
      await mdb.db
        .insertInto('inbox')
        .values([
          { consumer: 'prune.w', event_id: 'old', handled_at: old },
          { consumer: 'prune.w', event_id: 'new', handled_at: recent },
        ])
        .execute();
      assert.equal(await pruneInbox(mdb, 7 * 86400_000), 1);
      assert.deepEqual(
        (await mdb.db.selectFrom('inbox').select('event_id').execute()).map((r) => r.event_id),
        ['new'],
      );
    });
  });
}
