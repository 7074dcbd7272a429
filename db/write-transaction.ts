// Write transactions, group-committed: the callers of one event-loop turn share one transaction and one commit.
//
// Why: with synchronous=FULL every SQLite commit waits for an fsync, and a request that is its own transaction
// pays a BEGIN, a COMMIT and that wait alone: a proposal cost 2 ms of CPU and ≈ 300 per second (issue 24).
// Here writeTransaction's callers queue in db/group-commit.ts (one batcher per database); a batch is ONE
// transaction that holds the write lock from its start, its callers' `fn` one after another:
//   - a caller whose fn throws gets the error alone, and nothing it wrote stays. On SQLite a batch runs first
//     without savepoints, which a caller that failed before changing a row needs none of; one that failed after
//     changing rows has its error, and the batch is rolled back and runs again without it, each caller in a
//     SAVEPOINT of its own (runBatch);
//   - every caller is answered after the COMMIT that holds its work, never before;
//   - a batch that cannot begin or commit (the database is gone, the disk is full) fails every caller in it
//     with that error, which the kernel answers as a catalogue 503 as before; nothing of the batch is kept.
// Bookkeeping writes that a crash may lose (groupedWrite: the outbox relay's claims and deletes) join the batches
// too, and a batch of nothing else commits without an fsync (see groupedWrite).
// Postgres: a transaction per call, as before (see the note at writeTransaction for the measurement that decided it).
import { CompiledQuery, type Kysely } from 'kysely';
import { beforeClose, dialectOf, writeProbes, type WriteProbe } from './database.ts';
import { createGroupCommit, type GroupCommit } from './group-commit.ts';
import { dbTracing, inSpan } from './trace-hooks.ts';
import { assertNotNested, inTransaction } from './transaction-guard.ts';

/** A caller's body, handed the batch's connection: what it may do is what it may do in a transaction (no nested one). */
type Work = (trx: Kysely<unknown>) => Promise<unknown>;
interface Job {
  fn: Work;
  /** False for groupedWrite's: a crash may lose it. */
  durable: boolean;
  /** The caller's context (db/trace-hooks.ts): its work runs in it, a span of the caller's trace, not of the batch's. */
  context: unknown;
}
/** `after`: what the caller's work asked to run once its commit is done (onCommit). */
type Answer = { ok: true; value: unknown; after: Array<() => void> } | { ok: false; error: unknown };

/** Most callers in one transaction: large enough for a 200-connection burst, small enough to hold the lock briefly. */
const MAX_BATCH = 256;

// Compiled once: a statement of the batch loop costs no query building.
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');
const SAVEPOINT = CompiledQuery.raw('savepoint write_transaction');
const RELEASE = CompiledQuery.raw('release savepoint write_transaction');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint write_transaction');
const SYNCHRONOUS = CompiledQuery.raw('pragma synchronous');
const SYNCHRONOUS_NORMAL = CompiledQuery.raw('pragma synchronous = normal');

/**
 * Whether Postgres batches too (off: see writeTransaction). CANTONS_PG_GROUP_COMMIT=1 turns it on, for measuring it
 * again; the tests turn it on to hold Postgres to the same behaviour. Read when a write starts.
 */
export const writeBatching = { postgres: process.env.CANTONS_PG_GROUP_COMMIT === '1' };

const committers = new WeakMap<Kysely<unknown>, GroupCommit<Job, Answer>>();

/** The after-commit lists of the write transactions' callers running now, by the connection their `fn` was handed. */
const afterCommits = new WeakMap<object, Array<() => void>>();

/**
 * Runs `fn` once the write transaction that handed out `trx` has committed the caller's work (never when it rolled
 * back); false, and nothing registered, when `trx` is not the connection of a running writeTransaction's `fn`.
 */
export function onCommit(trx: object, fn: () => void): boolean {
  const list = afterCommits.get(trx);
  if (!list) return false;
  list.push(fn);
  return true;
}

/** `fn` on `trx`, with onCommit open on it while `fn` runs; its answer carries what was registered. */
async function withAfterCommit(trx: object, fn: () => Promise<unknown>): Promise<Answer> {
  const after: Array<() => void> = [];
  afterCommits.set(trx, after);
  try {
    return { ok: true, value: await fn(), after };
  } catch (error) {
    return { ok: false, error };
  } finally {
    afterCommits.delete(trx);
  }
}

/** Each function of a committed answer, on its own (one that throws does not stop the others). */
function runAfterCommit(answer: Answer): void {
  if (answer.ok) for (const fn of answer.after) queueMicrotask(fn);
}

/**
 * Runs `fn` in a transaction that holds the write lock from its first statement, shared with the other calls of
 * this event-loop turn and answered after its commit (see the top of the file). SQLite: BEGIN IMMEDIATE, so a
 * read-then-write transaction never fails with SQLITE_BUSY_SNAPSHOT when another process (a split role, a relay)
 * committed meanwhile; busy_timeout makes it wait instead. `fn` must not call writeTransaction itself (it would
 * wait for the batch it is part of) and must not leave work running after it settles. It may run more than once, as
 * a retried transaction does (a batch another caller spoiled runs again): what it does outside the database belongs
 * after the commit (onCommit).
 *
 * Postgres: a transaction of its own (the caller locks the rows it reads with FOR UPDATE). Postgres already shares
 * WAL flushes between concurrent commits, and one batch at a time on one connection would serialize what the pool
 * runs side by side: measured on the proposal path (docs/benchmarks.md, issue 24), batching there was slower.
 */
export async function writeTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  assertNotNested('writeTransaction');
  if (!writeBatching.postgres && dialectOf(db) === 'postgres') {
    let answer: Answer | undefined;
    await db.transaction().execute(async (trx) => {
      answer = await withAfterCommit(trx, () => fn(trx));
      if (!answer.ok) throw answer.error;
    });
    runAfterCommit(answer!);
    return answered(answer!);
  }
  return answered(await committerOf(db as Kysely<unknown>).submit({ fn: fn as Work, durable: true, context: dbTracing.hooks?.active() }));
}

/**
 * A write whose loss in a crash the caller allows, because it is redone after one: the outbox relay's lease and its
 * delete of delivered rows (a lost delete redelivers, and consumers' inboxes drop the duplicate). SQLite: it joins
 * the group commit, and a batch made only of such writes commits with synchronous=NORMAL, without an fsync: WAL keeps
 * commits in order, so the next durable commit makes it durable too, and a crash loses at most such writes made since.
 * An autocommitted statement instead would pay an fsync of its own, on the event loop (better-sqlite3 is synchronous).
 * Postgres: autocommitted, as it was.
 */
export async function groupedWrite<DB, T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (!writeBatching.postgres && dialectOf(db) === 'postgres') return fn(db);
  return answered(await committerOf(db as Kysely<unknown>).submit({ fn: fn as Work, durable: false, context: dbTracing.hooks?.active() }));
}

function answered<T>(answer: Answer): T {
  if (!answer.ok) throw answer.error;
  return answer.value as T;
}

/** Resolves once every write of `db` submitted so far has committed or failed (tests, shutdown). */
export function drainWrites<DB>(db: Kysely<DB>): Promise<void> {
  return committers.get(db as Kysely<unknown>)?.drain() ?? Promise.resolve();
}

function committerOf(db: Kysely<unknown>): GroupCommit<Job, Answer> {
  let committer = committers.get(db);
  if (!committer) {
    // The database's own setting (FULL as db/database.ts opens it), read at the first batch, restored after each relaxed one.
    let synchronous: CompiledQuery | undefined;
    const begin = dialectOf(db) === 'postgres' ? BEGIN : BEGIN_IMMEDIATE;
    // SQLite only: a failed Postgres statement aborts the transaction, so there each caller needs its savepoint.
    const probe = writeProbes.get(db);
    // A failed batch is never retried in halves: a caller's own failure is already its alone (see runBatch), so
    // what fails a whole batch (BEGIN, COMMIT, a broken connection) is no caller's fault and is everyone's answer.
    committer = createGroupCommit<Job, Answer>(
      // The batch is group-commit's span (its own trace, linked to each caller); each caller's work is a
      // `db transaction` span in the caller's trace (see attempt), so what it publishes carries the caller's trace.
      (jobs) =>
        db.connection().execute(async (conn) => {
          if (begin === BEGIN || jobs.some((j) => j.durable)) return runBatch(conn, begin, jobs, probe);
          if (!synchronous) {
            const level = Object.values((await conn.executeQuery<Record<string, number>>(SYNCHRONOUS)).rows[0] ?? {})[0];
            synchronous = CompiledQuery.raw(`pragma synchronous = ${Number(level) || 2}`);
          }
          await conn.executeQuery(SYNCHRONOUS_NORMAL);
          try {
            return await runBatch(conn, begin, jobs, probe);
          } finally {
            await conn.executeQuery(synchronous);
          }
        }),
      { maxBatch: MAX_BATCH, isolate: () => false },
    );
    committers.set(db, committer);
    // The database closes after the writes already queued have committed (or failed), never under them.
    beforeClose.set(db, () => committer!.close());
  }
  return committer;
}

/** A batch running without savepoints, and whether a failure it could not undo spoiled it. */
interface Unguarded {
  probe: WriteProbe;
  spoiled: boolean;
}
/** The unguarded batch running now, by its connection: nestedWork spoils it when work it could not undo failed. */
const unguarded = new WeakMap<object, Unguarded>();

/**
 * One batch. On SQLite first without savepoints (runUnguarded); on Postgres, or run again when a caller spoiled
 * that, with a savepoint per caller (runGuarded).
 */
async function runBatch(conn: Kysely<unknown>, begin: CompiledQuery, jobs: Job[], probe: WriteProbe | undefined): Promise<Answer[]> {
  if (!probe) return runGuarded(conn, begin, jobs);
  const run = await runUnguarded(conn, begin, jobs, probe);
  if ('answers' in run) return run.answers;
  // A caller that failed on its own has its answer (the rollback took back what it wrote) and does not run again; the
  // others do, and so does one whose nested work spoiled the batch.
  if (run.answer.ok || run.answer.error === SPOILED) return runGuarded(conn, begin, jobs);
  const answers = await runGuarded(
    conn,
    begin,
    jobs.filter((_, i) => i !== run.spoiler),
  );
  answers.splice(run.spoiler, 0, run.answer);
  return answers;
}

/**
 * The callers one after another in one transaction, no savepoints: a savepoint costs a caller two statements and a
 * copy of each page it changes into the statement journal. A caller's failure is still its alone when it failed
 * before changing a row, the usual failure (a name taken, a row not found): SQLite undoes a failed statement by
 * itself. A failure after rows changed (total_changes moved), or one that ended the transaction, spoils the batch:
 * it is rolled back whole, and the spoiler returned for runBatch to run the batch again, guarded.
 */
async function runUnguarded(
  conn: Kysely<unknown>,
  begin: CompiledQuery,
  jobs: Job[],
  probe: WriteProbe,
): Promise<{ answers: Answer[] } | { spoiler: number; answer: Answer }> {
  const batch: Unguarded = { probe, spoiled: false };
  await conn.executeQuery(begin);
  unguarded.set(conn, batch);
  const answers: Answer[] = [];
  try {
    for (let i = 0; i < jobs.length; i++) {
      const before = probe.changes();
      const answer = await attempt(conn, jobs[i]);
      if (!answer.ok) spoilIfChanged(batch, before);
      if (batch.spoiled) {
        await conn.executeQuery(ROLLBACK).catch(() => undefined);
        return { spoiler: i, answer };
      }
      answers.push(answer);
    }
    await conn.executeQuery(COMMIT);
  } catch (err) {
    await conn.executeQuery(ROLLBACK).catch(() => undefined);
    throw err;
  } finally {
    unguarded.delete(conn);
  }
  for (const answer of answers) runAfterCommit(answer);
  return { answers };
}

function spoilIfChanged(batch: Unguarded, changesBefore: number): void {
  // Out of its transaction: SQLite rolled it back on the failure (an I/O error, a full disk).
  if (batch.probe.changes() !== changesBefore || !batch.probe.inTransaction()) batch.spoiled = true;
}

/** What nestedWork throws into its caller's work once it spoiled the batch: that work is rolled back and runs again. */
const SPOILED = new Error('the batch runs again, each caller in a savepoint');

const NESTED = CompiledQuery.raw('savepoint nested_work');
const NESTED_RELEASE = CompiledQuery.raw('release savepoint nested_work');
const NESTED_ROLLBACK = CompiledQuery.raw('rollback to savepoint nested_work');

/**
 * `fn` inside a write transaction's work such that, when it fails, nothing it wrote stays and the work around it goes
 * on (the bus applying an event in its publisher's transaction): its error is returned, not thrown. In a savepoint;
 * in an unguarded batch without one: when `fn` fails after it changed rows, the batch is spoiled and the work around
 * it stopped (SPOILED is thrown), to run again in a savepoint.
 */
export async function nestedWork<T>(trx: Kysely<unknown>, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  const batch = unguarded.get(trx);
  if (batch) {
    const before = batch.probe.changes();
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      spoilIfChanged(batch, before);
      if (batch.spoiled) throw SPOILED;
      return { ok: false, error };
    }
  }
  await trx.executeQuery(NESTED);
  // Released either way, never left open: open ones stack up (a caller may publish many events, a guarded batch of
  // one has no caller's savepoint to end them), and SQLite checks every open savepoint for each page a statement
  // changes. On Postgres the release travels with the next statement (db/pg-client.ts).
  try {
    const value = await fn();
    await trx.executeQuery(NESTED_RELEASE);
    return { ok: true, value };
  } catch (error) {
    await trx.executeQuery(NESTED_ROLLBACK);
    await trx.executeQuery(NESTED_RELEASE);
    return { ok: false, error };
  }
}

async function runGuarded(conn: Kysely<unknown>, begin: CompiledQuery, jobs: Job[]): Promise<Answer[]> {
  if (jobs.length === 0) return [];
  await conn.executeQuery(begin);
  try {
    if (jobs.length === 1) {
      // One caller: no savepoint; its failure rolls back the transaction it alone is in.
      const answer = await attempt(conn, jobs[0]);
      if (answer.ok) await conn.executeQuery(COMMIT);
      else await conn.executeQuery(ROLLBACK).catch(() => undefined);
      runAfterCommit(answer);
      return [answer];
    }
    const answers: Answer[] = [];
    for (const job of jobs) {
      await conn.executeQuery(SAVEPOINT);
      const answer = await attempt(conn, job);
      // When the rollback fails too, the transaction is broken (SQLite rolled it back on an I/O error): the catch
      // below rolls back and every caller of the batch gets that error.
      if (!answer.ok) await conn.executeQuery(ROLLBACK_TO);
      await conn.executeQuery(RELEASE);
      answers.push(answer);
    }
    await conn.executeQuery(COMMIT);
    for (const answer of answers) runAfterCommit(answer);
    return answers;
  } catch (err) {
    await conn.executeQuery(ROLLBACK).catch(() => undefined);
    throw err;
  }
}

/** One caller's work on the batch's connection; only a durable write's may register work after its commit. */
async function attempt(conn: Kysely<unknown>, job: Job): Promise<Answer> {
  const work = () => inSpan('db transaction', () => inTransaction(() => job.fn(conn)));
  const traced = () => (dbTracing.hooks ? dbTracing.hooks.within(job.context, work) : work());
  if (job.durable) return withAfterCommit(conn, traced);
  try {
    return { ok: true, value: await traced(), after: [] };
  } catch (error) {
    return { ok: false, error };
  }
}
