// The benchmark flow: BenchmarkCreated → ProjectCreated → (callbacks) DocumentUpdated → AllDocumentsUploaded | ErrorOccurred
// → ReportCompleted (the notifier role takes it from there). The handlers run in the kernel's inbox transaction `trx` and
// touch only the database; each checks the state it acts on, so a replayed event changes nothing. The calls to the
// target happen after the commit, outside any transaction (`advance`): a benchmark's state says which step is next
// (no project yet: log in and create one; no upload yet: upload), and each step's outcome commits on its own.
import type { Transaction } from 'kysely';
import { on, type Publisher, type Subscription } from '../../../kernel/bus/types.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { EVENTS, MAX_UPLOAD_REQUEST_BYTES } from '../contract.ts';
import type { BenchmarkDatabase, BenchmarkDB } from '../db.ts';
import type { TargetPolicy } from '../target-policy.ts';
import { documentContent, uploadBatches } from './documents.ts';
import type { Limits } from './limits.ts';
import type { ReportJson } from '../report-json.ts';
import { buildReports } from './report.ts';
import { writeReportFiles } from './report-files.ts';
import type { SecretBox } from './secrets.ts';
import type { Store, StoredBenchmark } from './store.ts';
import { createTargetClient, TargetError } from './target-client.ts';

export interface FlowDeps {
  db: BenchmarkDatabase;
  store: Store;
  bus: Publisher;
  box: SecretBox;
  log: Logger;
  now(): Date;
  reportsDir: string;
  http: { timeoutMs: number; retries: number; uploadBatch: number };
  policy: TargetPolicy;
  limits: Limits;
  /** The API key to send to a target, given whether its checked address is this process's own (api-keys.ts). */
  targetApiKey(own: boolean): string | undefined;
}

export function createFlow(deps: FlowDeps) {
  const { db, store, bus, log } = deps;
  // Benchmarks whose steps this process is taking now; the step lease keeps other processes off them.
  const advancing = new Map<string, Promise<void>>();
  // Stopping aborts the requests under way; their steps are left to the next process (the lease expires).
  const stopping = new AbortController();
  // Longer than any one request with its retries; renewed while the steps run.
  const leaseMs = (deps.http.retries + 1) * (deps.http.timeoutMs + 5000) + 10_000;

  /** The target's steps of a running benchmark, outside any transaction, each outcome committed on its own. */
  async function advance(id: string): Promise<void> {
    if (!(await store.claimSteps(id, deps.now().getTime(), leaseMs))) return;
    const renew = setInterval(() => store.claimSteps(id, deps.now().getTime(), leaseMs, true).catch(() => undefined), leaseMs / 3);
    let client: ReturnType<typeof createTargetClient> | undefined;
    try {
      for (;;) {
        const b = await store.get(id);
        if (b?.status !== 'running' || b.closing || !b.password_enc || (b.project_id && b.uploaded_at)) return;
        client ??= createTargetClient({
          baseUrl: b.target_base,
          username: b.username,
          password: deps.box.open(b.password_enc, b.id),
          policy: deps.policy,
          apiKey: deps.targetApiKey,
          limit: (fn) => deps.limits.run(b.target_host, fn),
          signal: stopping.signal,
          ...deps.http,
        });
        if (!b.project_id) {
          // The original's project name: "<UTC date, time> - <benchmark name>", the type as description.
          const projectId = await client.createProject(`${b.created_at.slice(0, 19).replace('T', ', ')} - ${b.name}`, b.benchmark_type);
          await db.transaction().execute(async (trx: BenchmarkDatabase) => {
            if (await store.setProject(trx, id, projectId)) await bus.publish(trx, EVENTS.ProjectCreated, { benchmark_id: id });
          });
        } else {
          await upload(client, b);
          await store.setUploaded(db, id, deps.now().toISOString());
        }
      }
    } catch (err) {
      if (stopping.signal.aborted) return;
      if (!(err instanceof TargetError)) {
        log.warn({ err, benchmark: id }, 'benchmark step failed; the sweep tries it again');
        return;
      }
      log.warn({ benchmark: id, step: err.step, detail: err.detail }, 'benchmark target call failed');
      await db
        .transaction()
        .execute((trx) => fail(trx, id, err.message))
        .catch((e) => log.warn({ err: e, benchmark: id }, 'could not record the failure; the sweep tries again'));
    } finally {
      clearInterval(renew);
      await client?.close();
      await store.releaseSteps(id).catch(() => undefined);
    }
  }

  async function upload(client: ReturnType<typeof createTargetClient>, b: StoredBenchmark): Promise<void> {
    const docs = await store.documents(b.id);
    for (const batch of uploadBatches(docs, deps.http.uploadBatch, MAX_UPLOAD_REQUEST_BYTES)) {
      await client.upload(
        b.project_id!,
        batch.map((d) => ({ name: d.name, content: documentContent(d) })),
      );
    }
    log.info({ benchmark: b.id, documents: docs.length }, 'documents uploaded');
  }

  /** Starts the target's steps of `id` unless this process is already taking them. */
  function kick(id: string): void {
    if (advancing.has(id) || stopping.signal.aborted) return;
    const run = advance(id)
      .catch((err) => log.warn({ err, benchmark: id }, 'benchmark step failed; the sweep tries it again'))
      .finally(() => advancing.delete(id));
    advancing.set(id, run);
  }

  /** Aborts the steps under way and waits for them to let go of their benchmarks. */
  async function stop(): Promise<void> {
    stopping.abort();
    await Promise.all(advancing.values());
  }

  /** Ends a running benchmark as failed, once: the first failure wins and publishes ErrorOccurred. */
  async function fail(trx: BenchmarkDatabase, id: string, reason: string): Promise<void> {
    if (await store.close(trx, id, 'failed', reason)) {
      log.warn({ benchmark: id, reason }, 'benchmark failed');
      await bus.publish(trx, EVENTS.ErrorOccurred, { benchmark_id: id, reason });
    }
  }

  /** Ends a running benchmark as completed once none of its documents lacks a time: AllDocumentsUploaded, once. */
  async function complete(trx: BenchmarkDatabase, id: string): Promise<void> {
    const { unfinished, total } = await store.unfinished(id, trx);
    if (total === 0 || unfinished > 0) return;
    if (await store.close(trx, id, 'completed', null)) await bus.publish(trx, EVENTS.AllDocumentsUploaded, { benchmark_id: id });
  }

  /** The report of an ended benchmark: inserted once (its primary key), files written, ReportCompleted published. */
  async function report(trx: BenchmarkDatabase, id: string, status: 'completed' | 'failed'): Promise<void> {
    const b = await store.get(id, trx);
    if (b?.status !== 'running') return;
    const docs = await store.documents(id, trx);
    const baselineRow = b.options.baseline_id ? await store.report(b.options.baseline_id, trx) : undefined;
    const baseline = baselineRow ? (JSON.parse(baselineRow.json) as ReportJson) : undefined;
    const reports = buildReports(b, docs, status, baseline);
    const files = { csv: reports.csv, json: JSON.stringify(reports.json, null, 2), html: reports.html };
    const at = deps.now().toISOString();
    if (!(await store.insertReport(trx, id, files, at))) return;
    const paths = writeReportFiles(deps.reportsDir, id, files);
    await store.finish(trx, id, status, at);
    await bus.publish(trx, EVENTS.ReportCompleted, { benchmark_id: id });
    log.info({ benchmark: id, status, files: paths }, 'benchmark report written');
  }

  const handlers: Subscription[] = [
    // The next step is the benchmark's state; the events say "look now" (the sweep looks too, after a crash).
    on(EVENTS.BenchmarkCreated, async ({ payload }, _trx, afterCommit) => afterCommit(() => kick(payload.benchmark_id))),
    on(EVENTS.ProjectCreated, async ({ payload }, _trx, afterCommit) => afterCommit(() => kick(payload.benchmark_id))),
    on(EVENTS.DocumentUpdated, ({ payload }, trx: Transaction<BenchmarkDB>) => complete(trx, payload.benchmark_id)),
    on(EVENTS.AllDocumentsUploaded, ({ payload }, trx: Transaction<BenchmarkDB>) => report(trx, payload.benchmark_id, 'completed')),
    on(EVENTS.ErrorOccurred, ({ payload }, trx: Transaction<BenchmarkDB>) => report(trx, payload.benchmark_id, 'failed')),
  ];

  return { handlers, fail, kick, stop };
}

export type Flow = ReturnType<typeof createFlow>;
