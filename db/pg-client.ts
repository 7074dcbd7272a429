// What a pool client does beyond pg's defaults, for the round trips of a write transaction (issue 24):
//   - the hot texts (db/read.ts numbers them) run as named prepared statements, parsed and planned once per connection;
//   - a transaction's `begin`, a `savepoint` and its release go out with the statement after them, in one round trip.
// Kysely's driver sends every query unnamed and waits for each answer before the next, so Postgres parsed and planned
// every statement, and a proposal (begin, its insert, a savepoint, the threads' insert, commit) took five round trips.
import type pg from 'pg';

/** Most texts kept prepared per connection; texts beyond run unnamed, parsed on every call. */
const MAX_NAMED = 1000;
const names = new Map<string, string>();

/**
 * `text` (with `$n` markers) runs as a named prepared statement on every client that `tunePgClient` set up. For the
 * hot texts only (db/read.ts: one per statement and count, so few). Queries Kysely builds stay unnamed: their texts
 * vary without bound, and each would stay prepared for the connection's life.
 */
export function prepareText(text: string): void {
  if (names.size < MAX_NAMED && !names.has(text)) names.set(text, `cantons_${names.size + 1}`);
}

/**
 * Statements whose answer nobody reads and that cannot fail on their own (Kysely's transaction start, the write
 * transactions' and nested work's savepoints, and their release): held back and sent with the next statement.
 * Should one fail after all (a connection lost), the statement sent with it fails too, and its error is the caller's.
 */
const OPENER = /^(begin|savepoint [a-z_]+|release savepoint [a-z_]+)$/;

type Query = (...args: unknown[]) => Promise<unknown> | undefined;

/**
 * Called for every new client of a pool opened with `pipeline: true` (pg sends a query without waiting for the answer
 * to the one before; Kysely still waits for each, so only the openers held back here travel with another statement).
 * pg records a statement name only once its parse succeeded, so a text that failed (a table not made yet) is parsed
 * again at its next call.
 */
export function tunePgClient(client: pg.ClientBase): void {
  const query = client.query as Query;
  let held: string[] = [];
  client.query = function (this: pg.ClientBase, config: unknown, values?: unknown, callback?: unknown) {
    const promised = callback === undefined && typeof values !== 'function';
    if (promised && typeof config === 'string' && OPENER.test(config) && (values === undefined || (Array.isArray(values) && values.length === 0))) {
      held.push(config);
      return Promise.resolve({ command: config.split(' ')[0].toUpperCase(), rowCount: null, rows: [], fields: [] });
    }
    const name = typeof config === 'string' && Array.isArray(values) ? names.get(config) : undefined;
    const args = name === undefined ? [config, values, callback] : [{ name, text: config, values }, callback];
    if (held.length === 0) return query.apply(this, args);
    // pg sends each at once (pipeline mode): the statement does not wait for the openers' answers.
    const openers = held.map((text) => query.call(this, text) as Promise<unknown>);
    held = [];
    // An opener's failure is the statement's too (a lost connection); never left unhandled, whatever happens below.
    for (const p of openers) p.catch(() => undefined);
    const result = query.apply(this, args);
    return promised ? Promise.all([...openers, result]).then((all) => all[all.length - 1]) : result;
  } as typeof client.query;
}
