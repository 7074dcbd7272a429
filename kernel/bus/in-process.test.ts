// The bus contract over the in-process adapter, on SQLite files and on Postgres schemas.
import { busContract } from './bus-contract.ts';
import { postgresDatabases, postgresReachable, skipUnless, sqliteDatabases } from './test-support.ts';

busContract({ name: 'in-process on SQLite', databases: async () => sqliteDatabases() });
busContract({ name: 'in-process on Postgres', databases: postgresDatabases, ...skipUnless(await postgresReachable(), 'Postgres') });
