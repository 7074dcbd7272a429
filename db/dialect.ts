// Which engine is under a Kysely instance (its own file: db/database.ts and db/read.ts both need it).
import { PostgresAdapter, type Kysely } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** The dialect under a Kysely instance, for SQL that differs between the two (migrations get only `db`). */
export const dialectOf = <DB>(db: Kysely<DB>): Dialect => (db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite');
