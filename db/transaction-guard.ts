// The rule "no network call inside a database transaction", checked: transactions mark their async context,
// and every client that talks to another process asks before it calls.
//
// A transaction held across a remote call makes everyone behind it wait for the slowest peer (on SQLite it holds
// the only write lock). The mark costs an AsyncLocalStorage, which on Node 20 turns on promise hooks for the
// whole process, so it is on only where CANTONS_TRANSACTION_GUARD=1 (the test command sets it); elsewhere both
// functions below are a branch on a constant.
import { AsyncLocalStorage } from 'node:async_hooks';

interface Mark {
  open: boolean;
}

const marks = process.env.CANTONS_TRANSACTION_GUARD === '1' ? new AsyncLocalStorage<Mark>() : undefined;

/** Thrown by a client asked to call out while a transaction of its caller is open: a bug, never an input error. */
export class NetworkInTransactionError extends Error {
  constructor(what: string) {
    super(`${what} inside a database transaction: record the intent in the transaction and call after the commit`);
    this.name = 'NetworkInTransactionError';
  }
}

/** Runs `fn` (the body of a transaction) marked as inside a transaction until it settles. */
export async function inTransaction<T>(fn: () => Promise<T>): Promise<T> {
  if (!marks) return fn();
  const mark = { open: true };
  try {
    return await marks.run(mark, fn);
  } finally {
    // Work the body started and left running (a timer, a detached promise) sees the transaction as ended.
    mark.open = false;
  }
}

/**
 * What a violation does besides the throw: a caller may catch the error (a step's catch-all, a bus retry that later
 * succeeds), so by default it also fails the process, loudly, as an uncaught exception. Tests of the guard replace it.
 */
export const violations = {
  report: (err: Error): void =>
    process.nextTick(() => {
      throw err;
    }),
};

/** Throws when the caller's async context has a transaction open; `what` names the call ("an HTTP call to …"). */
export function assertOutsideTransaction(what: string): void {
  if (!marks?.getStore()?.open) return;
  const err = new NetworkInTransactionError(what);
  violations.report(err);
  throw err;
}

/**
 * Throws when the caller's async context has a transaction open: `what` would open a transaction of its own
 * there, which on SQLite waits for the one it is inside (its connection, its batch) for ever. Checked where the
 * guard is on, as the rest of this file.
 */
export function assertNotNested(what: string): void {
  if (!marks?.getStore()?.open) return;
  const err = new Error(`${what} inside a database transaction would wait for that transaction: use the transaction you were handed`);
  violations.report(err);
  throw err;
}

type Builder = { execute<T>(fn: (trx: any) => Promise<T>): Promise<T> };
type Execute = <T>(fn: (trx: any) => Promise<T>) => Promise<T>;

/** Marks every `db.transaction().execute(…)` body of `db` (checked only where the guard is on). */
export function markTransactions<D extends { transaction(): Builder }>(db: D): D {
  if (!marks) return db;
  return aroundTransactions(db, (execute, fn) => execute((trx) => inTransaction(() => fn(trx))));
}

/**
 * `db` whose every `transaction().execute(fn)` runs as `around(execute, fn)`: the one wrapper of Kysely's
 * transaction builder, for the guard's mark (above) and the tracing's span (db/trace-hooks.ts).
 */
export function aroundTransactions<D extends { transaction(): Builder }>(db: D, around: <T>(execute: Execute, fn: (trx: any) => Promise<T>) => Promise<T>): D {
  const wrap = (builder: Builder): Builder =>
    new Proxy(builder, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'execute') return <T>(fn: (trx: any) => Promise<T>) => around((f) => target.execute(f), fn);
        // setIsolationLevel and setAccessMode return a new builder: keep it wrapped.
        return typeof value === 'function'
          ? (...args: unknown[]) => {
              const out = value.apply(target, args);
              return out && typeof out.execute === 'function' ? wrap(out) : out;
            }
          : value;
      },
    });
  const transaction = db.transaction.bind(db);
  db.transaction = () => wrap(transaction());
  return db;
}
