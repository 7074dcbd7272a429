// Benchmarks and their documents in the module's SQL database; every state change is a conditional update, so replays change nothing.
import { type ExpressionBuilder, type Selectable, sql } from 'kysely';
import type { StartBody } from '../contract.ts';
import type { BenchmarkDatabase, BenchmarkDB, BenchmarkStatus, BenchmarksTable } from '../db.ts';
import type { DocTimes } from './summary.ts';

export type Status = BenchmarkStatus;

export interface Options {
  documents: { count: number; size_bytes: number } | null;
  notify: string[] | null;
  timeout_seconds: number;
  thresholds: StartBody['thresholds'] | null;
  baseline_id: string | null;
}

/** A benchmark as the store hands it out: its row with the options parsed (the step lease is the flow's business). */
export type StoredBenchmark = Omit<Selectable<BenchmarksTable>, 'options' | 'step_lease_ms'> & { options: Options };

export interface NewDocument {
  position: number;
  name: string;
  size_bytes: number;
}

/** No process holds the benchmark's target steps: no lease, or an expired one. */
const stepsFree = (nowMs: number) => (eb: ExpressionBuilder<BenchmarkDB, 'benchmarks'>) =>
  eb.or([eb('step_lease_ms', 'is', null), eb('step_lease_ms', '<', nowMs)]);

function toBenchmark(row: Selectable<BenchmarksTable>): StoredBenchmark {
  return { ...row, options: JSON.parse(row.options) as Options };
}

export function createStore(db: BenchmarkDatabase) {
  const on = (trx?: BenchmarkDatabase) => trx ?? db;
  return {
    async insert(trx: BenchmarkDatabase, b: Omit<StoredBenchmark, 'options'> & { options: Options }, docs: NewDocument[]): Promise<void> {
      await trx
        .insertInto('benchmarks')
        .values({ ...b, options: JSON.stringify(b.options) })
        .execute();
      await trx.insertInto('open_documents').values({ benchmark_id: b.id, remaining: docs.length }).execute();
      // Chunks keep each INSERT under SQLite's bound-parameter limit.
      for (let i = 0; i < docs.length; i += 200) {
        await trx
          .insertInto('documents')
          .values(docs.slice(i, i + 200).map((d) => ({ benchmark_id: b.id, ...d })))
          .execute();
      }
    },

    async get(id: string, trx?: BenchmarkDatabase): Promise<StoredBenchmark | undefined> {
      const row = await on(trx).selectFrom('benchmarks').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toBenchmark(row) : undefined;
    },

    async documents(id: string, trx?: BenchmarkDatabase): Promise<Array<DocTimes & { size_bytes: number; position: number }>> {
      const rows = await on(trx)
        .selectFrom('documents')
        .select(['name', 'position', 'size_bytes', 'start_time', 'end_time'])
        .where('benchmark_id', '=', id)
        .orderBy('position')
        .execute();
      return rows;
    },

    /** Documents still missing a start or an end time: one indexed range count, not the rows. */
    async unfinished(id: string, trx?: BenchmarkDatabase): Promise<{ unfinished: number; total: number }> {
      const row = await on(trx)
        .selectFrom('documents')
        .select((eb) => [
          eb.fn.countAll().as('total'),
          eb.fn
            .count(
              eb
                .case()
                .when(eb.or([eb('start_time', 'is', null), eb('end_time', 'is', null)]))
                .then(1)
                .end(),
            )
            .as('unfinished'),
        ])
        .where('benchmark_id', '=', id)
        .executeTakeFirstOrThrow();
      return { unfinished: Number(row.unfinished), total: Number(row.total) };
    },

    /** Counts `n` more of the benchmark's documents as done; how many it has left without both times. */
    async closeDocuments(trx: BenchmarkDatabase, id: string, n: number): Promise<number> {
      const row = await trx
        .updateTable('open_documents')
        .set({ remaining: sql`remaining - ${n}` })
        .where('benchmark_id', '=', id)
        .returning('remaining')
        .executeTakeFirstOrThrow();
      return row.remaining;
    },

    /** Newest first; `after` is the [created_at, id] of the previous page's last row. */
    async list(limit: number, status?: Status, after?: [string, string]): Promise<{ items: StoredBenchmark[]; last?: [string, string] }> {
      let q = on()
        .selectFrom('benchmarks')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (status) q = q.where('status', '=', status);
      if (after) q = q.where((eb) => eb.or([eb('created_at', '<', after[0]), eb.and([eb('created_at', '=', after[0]), eb('id', '<', after[1])])]));
      const rows = (await q.execute()).map(toBenchmark);
      const items = rows.slice(0, limit);
      const lastRow = items[items.length - 1];
      return { items, last: rows.length > limit ? [lastRow.created_at, lastRow.id] : undefined };
    },

    async progress(ids: string[]): Promise<Map<string, { done: number; total: number }>> {
      const out = new Map(ids.map((id) => [id, { done: 0, total: 0 }]));
      if (!ids.length) return out;
      const rows = await on()
        .selectFrom('documents')
        .select((eb) => [
          'benchmark_id',
          eb.fn.countAll().as('total'),
          eb.fn
            .count(
              eb
                .case()
                .when(eb.and([eb('start_time', 'is not', null), eb('end_time', 'is not', null)]))
                .then(1)
                .end(),
            )
            .as('done'),
        ])
        .where('benchmark_id', 'in', ids)
        .groupBy('benchmark_id')
        .execute();
      for (const r of rows) out.set(r.benchmark_id, { done: Number(r.done), total: Number(r.total) });
      return out;
    },

    /**
     * Benchmarks whose target, project and document match a callback, newest first, with their status.
     * On Postgres the rows are locked: callbacks of one benchmark in two processes' batches then count its
     * unfinished documents one after the other, so the batch that finishes it always sees every other.
     */
    async match(trx: BenchmarkDatabase, host: string, projectId: string, documentName: string, lock: boolean) {
      const q = trx
        .selectFrom('benchmarks as b')
        .innerJoin('documents as d', 'd.benchmark_id', 'b.id')
        .select(['b.id', 'b.status', 'b.closing', 'd.start_time', 'd.end_time'])
        .where('b.target_host', '=', host)
        .where('b.project_id', '=', projectId)
        .where('d.name', '=', documentName)
        .orderBy('b.created_at', 'desc')
        .orderBy('b.id', 'desc');
      const rows = await (lock ? q.forUpdate('b') : q).execute();
      return rows;
    },

    /**
     * Sets start/end only where still unset (a replayed callback writes nothing), in one statement.
     * Undefined when nothing was written; else the document's times after the write.
     */
    async recordTimes(trx: BenchmarkDatabase, id: string, name: string, docId: string, start: number | null, end: number | null) {
      const row = await trx
        .updateTable('documents')
        .set({
          eigen_document_id: docId,
          ...(start !== null && { start_time: sql<number>`coalesce(start_time, ${start})` }),
          ...(end !== null && { end_time: sql<number>`coalesce(end_time, ${end})` }),
        })
        .where('benchmark_id', '=', id)
        .where('name', '=', name)
        .where((eb) => eb.or([...(start !== null ? [eb('start_time', 'is', null)] : []), ...(end !== null ? [eb('end_time', 'is', null)] : [])]))
        .returning(['start_time', 'end_time'])
        .executeTakeFirst();
      return row;
    },

    async setUploaded(trx: BenchmarkDatabase, id: string, at: string): Promise<void> {
      await trx.updateTable('benchmarks').set({ uploaded_at: at }).where('id', '=', id).where('uploaded_at', 'is', null).execute();
    },

    async setProject(trx: BenchmarkDatabase, id: string, projectId: string): Promise<boolean> {
      const res = await trx.updateTable('benchmarks').set({ project_id: projectId }).where('id', '=', id).where('project_id', 'is', null).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** The one transition to an end: first caller wins, the password is erased in the same statement. */
    async close(trx: BenchmarkDatabase, id: string, outcome: 'completed' | 'failed', error: string | null): Promise<boolean> {
      const res = await trx
        .updateTable('benchmarks')
        .set({ closing: outcome, error, password_enc: null })
        .where('id', '=', id)
        .where('closing', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async finish(trx: BenchmarkDatabase, id: string, status: 'completed' | 'failed', at: string): Promise<void> {
      await trx.updateTable('benchmarks').set({ status, finished_at: at }).where('id', '=', id).where('status', '=', 'running').execute();
    },

    /**
     * Takes the target steps of a running benchmark for `leaseMs` (one process at a time takes them); `renew`
     * extends a lease this process holds. False when another process holds it or the benchmark has ended.
     */
    async claimSteps(id: string, nowMs: number, leaseMs: number, renew = false): Promise<boolean> {
      let q = on()
        .updateTable('benchmarks')
        .set({ step_lease_ms: nowMs + leaseMs })
        .where('id', '=', id)
        .where('closing', 'is', null);
      if (!renew) q = q.where(stepsFree(nowMs));
      return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
    },

    async releaseSteps(id: string): Promise<void> {
      await on().updateTable('benchmarks').set({ step_lease_ms: null }).where('id', '=', id).execute();
    },

    /** Running benchmarks with a target step to take (no project, or no upload yet) that no process is taking. */
    async pendingSteps(nowMs: number, limit = 100): Promise<string[]> {
      const rows = await on()
        .selectFrom('benchmarks')
        .select('id')
        .where('status', '=', 'running')
        .where('closing', 'is', null)
        .where((eb) => eb.or([eb('project_id', 'is', null), eb('uploaded_at', 'is', null)]))
        .where(stepsFree(nowMs))
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    async overdue(nowMs: number, limit = 100): Promise<string[]> {
      const rows = await on()
        .selectFrom('benchmarks')
        .select('id')
        .where('status', '=', 'running')
        .where('closing', 'is', null)
        .where('deadline_ms', '<', nowMs)
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    /** Inserts the report unless one exists (the primary key): true for the one insert that made it. */
    async insertReport(trx: BenchmarkDatabase, id: string, r: { csv: string; json: string; html: string }, at: string): Promise<boolean> {
      const res = await trx
        .insertInto('reports')
        .values({ benchmark_id: id, ...r, created_at: at })
        .onConflict((oc) => oc.column('benchmark_id').doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async report(id: string, trx?: BenchmarkDatabase): Promise<{ csv: string; json: string; html: string } | undefined> {
      return on(trx).selectFrom('reports').select(['csv', 'json', 'html']).where('benchmark_id', '=', id).executeTakeFirst();
    },
  };
}

export type Store = ReturnType<typeof createStore>;
