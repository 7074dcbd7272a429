// The products store contract on SQL: SQLite (a fresh file) and Postgres (a fresh database per run).
import { test, type TestContext } from 'node:test';
import { openModuleDatabase, type ModuleDatabase } from '../../../db/database.ts';
import { migrateDown, migrateUp } from '../../../db/migrator.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { createTestDatabase, gate, tempDir } from '../../../kernel/testing/index.ts';
import { migrations } from '../migrations/index.ts';
import { sqlTraces } from '../testing/index.ts';
import { runStoreContract } from '../testing/store-contract.ts';
import { createSqlStore } from './sql-store.ts';

const log = createLogger('silent');

async function contractOn(t: TestContext, mdb: ModuleDatabase): Promise<void> {
  await migrateUp(mdb, migrations);
  const store = createSqlStore(mdb.db, () => new Date(), mdb.read, mdb.sqlite);
  await runStoreContract(t, {
    store,
    apply: (rid, lines) => mdb.db.transaction().execute((trx) => store.applyOrderCreated(rid, lines, trx)),
    traces: (id) => sqlTraces(mdb.db, id),
    storeOrder: async (rid) => {
      await mdb.db.insertInto('orders').values({ reservation_id: rid, created_at: new Date().toISOString() }).execute();
    },
  });
  // The migration reverts cleanly too (npm run migrate -- down shop).
  await migrateDown(mdb, migrations);
}

test('SQL products store on SQLite', async (t) => {
  const mdb = await openModuleDatabase('shop', { dataDir: tempDir(), log });
  try {
    await contractOn(t, mdb);
  } finally {
    await mdb.close();
  }
});

test('SQL products store on Postgres', await gate('postgres'), async (t) => {
  const database = await createTestDatabase('shop_store');
  const mdb = await openModuleDatabase('shop', { dataDir: tempDir(), databaseUrl: database.url, log });
  try {
    await contractOn(t, mdb);
  } finally {
    await mdb.close();
    await database.drop();
  }
});
