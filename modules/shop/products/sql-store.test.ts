// The products store contract on SQL: SQLite (a fresh file) and Postgres (a fresh database per run).
import { test } from 'node:test';
import { openModuleDatabase, type ModuleDatabase } from '../../../db/database.ts';
import { migrateDown, migrateUp } from '../../../db/migrator.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { createTestDatabase, needService, tempDir } from '../../../kernel/testing.ts';
import { migrations } from '../migrations/index.ts';
import { createSqlStore } from './sql-store.ts';
import { runStoreContract } from './store-contract.ts';

const log = createLogger('silent');
const connect = { attempts: 1, baseMs: 10, maxMs: 10 };

async function contractOn(t: import('node:test').TestContext, mdb: ModuleDatabase): Promise<void> {
  await migrateUp(mdb, migrations);
  const store = createSqlStore(mdb.db);
  await runStoreContract(t, {
    store,
    apply: (rid, lines) => mdb.db.transaction().execute((trx) => store.applyOrderCreated(rid, lines, trx)),
  });
  // The migration reverts cleanly too (npm run migrate -- down shop).
  await migrateDown(mdb, migrations);
}

test('SQL products store on SQLite', async (t) => {
  const mdb = await openModuleDatabase('shop', { dataDir: tempDir(), connect, log });
  try {
    await contractOn(t, mdb);
  } finally {
    await mdb.close();
  }
});

test('SQL products store on Postgres', async (t) => {
  if (!(await needService(t, 'postgres'))) return;
  const database = await createTestDatabase('shop_store');
  const mdb = await openModuleDatabase('shop', { dataDir: tempDir(), databaseUrl: database.url, connect, log });
  try {
    await contractOn(t, mdb);
  } finally {
    await mdb.close();
    await database.drop();
  }
});
