// Spans at db/'s own seams — every transaction, every group-commit batch — without db/ knowing the kernel.
//
// Why: a request's time goes into these, yet db/ may import nothing of the kernel. The kernel's tracing
// (kernel/tracing/) installs the hooks when tracing is on, before any database opens; until then each seam
// costs one branch, and a database opened without hooks is not even wrapped.
import { aroundTransactions } from './transaction-guard.ts';

export interface DbTraceHooks {
  /** The caller's trace context, kept with a queued item so that its batch's span can link to it. */
  capture(): unknown;
  /** Runs `fn` in a span named `name`; with `links`, a span of its own trace linked to each captured context. */
  span<T>(name: string, fn: () => Promise<T>, links?: unknown[]): Promise<T>;
  /** The active context itself, for `within`: a queued caller's work then runs in its caller's trace. */
  active(): unknown;
  /** Runs `fn` in a context `active()` returned. */
  within<T>(context: unknown, fn: () => Promise<T>): Promise<T>;
}

export const dbTracing: { hooks?: DbTraceHooks } = {};

/** `fn` in a span of its own when tracing is on, else `fn` alone. */
export const inSpan = <T>(name: string, fn: () => Promise<T>, links?: unknown[]): Promise<T> =>
  dbTracing.hooks ? dbTracing.hooks.span(name, fn, links) : fn();

/** Every `db.transaction().execute(…)` of `db` in a span `db transaction`, when tracing was on as it opened. */
export function traceTransactions<D extends Parameters<typeof aroundTransactions>[0]>(db: D): D {
  if (!dbTracing.hooks) return db;
  return aroundTransactions(db, (execute, fn) => inSpan('db transaction', () => execute(fn)));
}
