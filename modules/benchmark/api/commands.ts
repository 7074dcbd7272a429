// The two commands, each handled once and answered to its caller: CreateBenchmark (the start route) and UpdateDocument (the callback).
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Publisher } from '../../../kernel/bus/types.ts';
import { createGroupCommit } from '../../../db/group-commit.ts';
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import { type AppError, errors } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { EVENTS, type CallbackBody, type StartBody } from '../contract.ts';
import type { BenchmarkDatabase } from '../db.ts';
import { benchmarkErrors } from '../errors.ts';
import { kyselyCallbackQueries, sqliteCallbackQueries } from './callback-sql.ts';
import { plannedDocuments } from './documents.ts';
import { callbackMetrics } from './metrics.ts';
import type { TargetPolicy } from '../target-policy.ts';
import type { SecretBox } from './secrets.ts';
import type { Store } from './store.ts';
import { normaliseHost, normaliseTarget } from './target-client.ts';

export interface CommandDeps {
  db: BenchmarkDatabase;
  /** SQLite: the connection under `db`, for the callbacks' two statements. */
  sqlite?: CachedSqlite;
  store: Store;
  bus: Publisher;
  box: SecretBox;
  log: Logger;
  now(): Date;
  defaultTimeoutSeconds: number;
  metrics: Registry;
  policy: TargetPolicy;
}

/** `unmatched`: no benchmark has the document; 202 like the original's, which accepted every callback it could parse. */
export type CallbackOutcome = 'applied' | 'duplicate' | 'unmatched';

const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const compareCallbacks = (a: CallbackBody, b: CallbackBody) =>
  cmp(a.benchmark_host_name, b.benchmark_host_name) || cmp(a.eigen_project_id, b.eigen_project_id) || cmp(a.document_name, b.document_name);

export function createCommands(deps: CommandDeps) {
  const { db, store, bus, box, log } = deps;
  const metrics = callbackMetrics(deps.metrics);
  const queries = deps.sqlite ? sqliteCallbackQueries(deps.sqlite) : kyselyCallbackQueries(store, true);

  /**
   * One callback inside the batch's transaction; a refusal is its result, so it does not fail the others.
   * A document that now has both times is added to `completed` under its benchmark.
   */
  async function applyCallback(trx: BenchmarkDatabase, body: CallbackBody, completed: Map<string, string[]>): Promise<CallbackOutcome | AppError> {
    const host = normaliseHost(body.benchmark_host_name);
    const matches = await queries.match(trx, host, body.eigen_project_id, body.document_name);
    const running = matches.filter((m) => m.status === 'running' && m.closing === null);
    if (running.length === 0) {
      if (!matches.length) return 'unmatched';
      const what = `${body.document_name} of project ${body.eigen_project_id} on ${host}`;
      return benchmarkErrors.BENCHMARK_FINISHED(`Benchmark ${matches[0].id} has already ended; callback for ${what} ignored`);
    }
    if (running.length > 1)
      log.warn(
        { candidates: running.map((m) => m.id), document: body.document_name, project: body.eigen_project_id, host },
        'callback matches several running benchmarks; taking the newest',
      );
    const id = running[0].id;
    const times = await queries.recordTimes(trx, running[0], body.document_name, body.eigen_document_id, body.start_time, body.end_time);
    if (!times) return 'duplicate';
    // A document counts once it has its upload time: a start alone changes no benchmark's completeness.
    if (times.start_time !== null && times.end_time !== null) {
      const names = completed.get(id);
      if (names) names.push(body.document_name);
      else completed.set(id, [body.document_name]);
    }
    return 'applied';
  }

  /** Once the batch has committed: callbacks by outcome, one increment per outcome per batch. */
  function countOutcomes(out: Array<CallbackOutcome | AppError>): void {
    const counts = new Map<string, number>();
    for (const r of out) {
      const outcome = typeof r === 'string' ? r : r.code;
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    for (const [outcome, n] of counts) metrics.outcomes.inc({ outcome }, n);
  }

  const callbacks = createGroupCommit<CallbackBody, CallbackOutcome | AppError>(
    async (items) => {
      const out = await db.transaction().execute(async (trx: BenchmarkDatabase) => {
        const out = new Array<CallbackOutcome | AppError>(items.length);
        const completed = new Map<string, string[]>();
        // Postgres: applied in (host, project, document) order, so two processes' batches lock the benchmark rows
        // they share in the same order, and cannot deadlock on each other. SQLite has one writer: arrival order.
        const order = items.map((_, i) => i);
        if (!deps.sqlite) order.sort((a, b) => compareCallbacks(items[a], items[b]));
        for (const i of order) out[i] = await applyCallback(trx, items[i], completed);
        // DocumentUpdated when the batch left a benchmark without an unfinished document: one event per benchmark,
        // not one per callback (each event is a transaction, and an fsync, in its handler).
        for (const [id, names] of completed) {
          if ((await queries.closeDocuments(trx, id, names.length)) <= 0)
            await bus.publish(trx, EVENTS.DocumentUpdated, { benchmark_id: id, document_names: names });
        }
        return out;
      });
      countOutcomes(out);
      return out;
    },
    {
      maxBatch: 500,
      onFlush: ({ size, ms }) => {
        metrics.batchSize.observe(size);
        metrics.flushSeconds.observe(ms / 1000);
      },
    },
  );

  return {
    /** Everything is checked before anything is written; the benchmark, its documents and BenchmarkCreated commit together. */
    async CreateBenchmark(body: StartBody): Promise<{ benchmark_id: string }> {
      if (body.baseline_id && !(await store.get(body.baseline_id))) {
        throw errors.VALIDATION_ERROR(`Invalid body: baseline_id: no benchmark ${body.baseline_id}`, [{ field: 'baseline_id', message: 'no such benchmark' }]);
      }
      const target = normaliseTarget(body.target_url);
      // Resolved and checked now for a clear answer; checked again on the address each connection goes to.
      if (!(await deps.policy.resolve(new URL(target.base)))) {
        throw benchmarkErrors.TARGET_NOT_ALLOWED(`target_url: ${target.host} is not an allowed benchmark target (BENCHMARK_TARGETS)`);
      }
      const id = randomUUID();
      const now = deps.now();
      const timeout = body.timeout_seconds ?? deps.defaultTimeoutSeconds;
      await db.transaction().execute(async (trx: BenchmarkDatabase) => {
        await store.insert(
          trx,
          {
            id,
            name: body.name,
            benchmark_type: body.benchmark_type,
            target_infra: body.target_infra,
            target_url: body.target_url,
            target_base: target.base,
            target_host: target.host,
            eigen_version: body.target_eigen_platform_version,
            username: body.username,
            password_enc: box.seal(body.password, id),
            project_id: null,
            uploaded_at: null,
            status: 'running',
            closing: null,
            error: null,
            options: {
              documents: body.documents ?? null,
              notify: body.notify ?? null,
              timeout_seconds: timeout,
              thresholds: body.thresholds ?? null,
              baseline_id: body.baseline_id ?? null,
            },
            deadline_ms: now.getTime() + timeout * 1000,
            created_at: now.toISOString(),
            finished_at: null,
          },
          plannedDocuments(body.documents),
        );
        await bus.publish(trx, EVENTS.BenchmarkCreated, { benchmark_id: id });
      });
      log.info({ benchmark: id, name: body.name, target: target.host }, 'benchmark created');
      return { benchmark_id: id };
    },

    /**
     * A callback of the target. Matched by target host, project id and document name among running
     * benchmarks (several: the newest, logged); times are written only where unset, so a replay is a no-op.
     * Callbacks arriving together share one transaction (one commit) through the group commit.
     */
    UpdateDocument: async (body: CallbackBody): Promise<CallbackOutcome> => {
      const result = await callbacks.submit(body);
      if (result instanceof Error) throw result;
      return result;
    },

    /** Waits for the callbacks already queued to commit. */
    close: () => callbacks.close(),
  };
}

export type Commands = ReturnType<typeof createCommands>;
