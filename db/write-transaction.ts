// Write transactions, group-committed: the callers of one event-loop turn share one transaction and one commit.
//
// Why: with synchronous=FULL every SQLite commit waits for an fsync, and a request that is its own transaction
// pays a BEGIN, a COMMIT and that wait alone: a proposal cost 2 ms of CPU and ≈ 300 per second (issue 24).
// Here writeTransaction's callers queue in db/group-commit.ts (one batcher per database); a batch is ONE
// transaction that holds the write lock from its start, each caller's `fn` in a SAVEPOINT of its own:
//   - a caller whose fn throws is rolled back to its savepoint, and only it gets the error;
//   - every caller is answered after the COMMIT that holds its work, never before;
//   - a batch that cannot begin or commit (the database is gone, the disk is full) fails every caller in it
//     with that error, which the kernel answers as a catalogue 503 as before; nothing of the batch is kept.
// A batch of one runs without a savepoint: at low load a write costs what it cost before.
// Bookkeeping writes that a crash may lose (groupedWrite: the outbox relay's claims and deletes) join the batches
// too, and a batch of nothing else commits without an fsync (see groupedWrite).
// Postgres: a transaction per call, as before (see the note at writeTransaction for the measurement that decided it).
import { CompiledQuery, type Kysely } from 'kysely';
import { beforeClose, dialectOf } from './database.ts';
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
 * wait for the batch it is part of) and must not leave work running after it settles.
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
    // A failed batch is never retried in halves: a caller's own failure is already its alone (its savepoint), so
    // what fails a whole batch (BEGIN, COMMIT, a broken connection) is no caller's fault and is everyone's answer.
    committer = createGroupCommit<Job, Answer>(
      // The batch is group-commit's span (its own trace, linked to each caller); each caller's work is a
      // `db transaction` span in the caller's trace (see attempt), so what it publishes carries the caller's trace.
      (jobs) =>
        db.connection().execute(async (conn) => {
          if (begin === BEGIN || jobs.some((j) => j.durable)) return runBatch(conn, begin, jobs);
          if (!synchronous) {
            const level = Object.values((await conn.executeQuery<Record<string, number>>(SYNCHRONOUS)).rows[0] ?? {})[0];
            synchronous = CompiledQuery.raw(`pragma synchronous = ${Number(level) || 2}`);
          }
          await conn.executeQuery(SYNCHRONOUS_NORMAL);
          try {
            return await runBatch(conn, begin, jobs);
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

async function runBatch(conn: Kysely<unknown>, begin: CompiledQuery, jobs: Job[]): Promise<Answer[]> {
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
