// The event handlers of the flow up to the report: BenchmarkCreated → ProjectCreated → (callbacks) DocumentUpdated →
// AllDocumentsUploaded | ErrorOccurred → ReportCompleted (the notifier role takes it from there). Each runs in the kernel's inbox transaction `trx` and
// reads and writes only through it; each checks the state it acts on, so a replayed event changes nothing.
import type { Kysely } from 'kysely';
import type { EventHandler, Publisher } from '../../../kernel/bus/types.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { EVENTS, MAX_UPLOAD_REQUEST_BYTES, benchmarkEventSchema } from '../contract.ts';
import { documentContent, uploadBatches } from './documents.ts';
import { buildReports, type ReportJson } from './report.ts';
import { writeReportFiles } from './report-files.ts';
import type { SecretBox } from './secrets.ts';
import type { Store, StoredBenchmark } from './store.ts';
import { createTargetClient, TargetError, type TargetClient } from './target-client.ts';

export interface FlowDeps {
  store: Store;
  bus: Publisher;
  box: SecretBox;
  log: Logger;
  now(): Date;
  reportsDir: string;
  http: { timeoutMs: number; retries: number; uploadBatch: number };
  /** The API key to send to a target at this base URL, if any (api-keys.ts). */
  targetApiKey(base: string): string | undefined;
}

export function createFlow(deps: FlowDeps) {
  const { store, bus, log } = deps;
  // One client (one session cookie) per running benchmark across its handlers; after a restart it logs in again.
  const clients = new Map<string, TargetClient>();

  function clientFor(b: StoredBenchmark): TargetClient {
    let client = clients.get(b.id);
    if (!client) {
      if (!b.password_enc) throw new TargetError('the target password was already erased');
      client = createTargetClient({
        baseUrl: b.target_base,
        username: b.username,
        password: deps.box.open(b.password_enc, b.id),
        apiKey: deps.targetApiKey(b.target_base),
        ...deps.http,
      });
      clients.set(b.id, client);
    }
    return client;
  }

  /** Ends a running benchmark as failed, once: the first failure wins and publishes ErrorOccurred. */
  async function fail(trx: Kysely<any>, id: string, reason: string): Promise<void> {
    clients.delete(id);
    if (await store.close(trx, id, 'failed', reason)) {
      log.warn({ benchmark: id, reason }, 'benchmark failed');
      await bus.publish(trx, EVENTS.ErrorOccurred, { benchmark_id: id, reason });
    }
  }

  /** A target failure ends the benchmark; anything else (the database) throws, and the bus retries the event. */
  async function againstTarget(trx: Kysely<any>, id: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      await fail(trx, id, err.message);
    }
  }

  /** The report of an ended benchmark: inserted once (its primary key), files written, ReportCompleted published. */
  async function report(trx: Kysely<any>, id: string, status: 'completed' | 'failed'): Promise<void> {
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

  const handlers: Record<string, EventHandler<unknown>> = {
    async [EVENTS.BenchmarkCreated](event, trx) {
      const { benchmark_id: id } = benchmarkEventSchema.parse(event.payload);
      const b = await store.get(id, trx);
      if (!b || b.closing || b.project_id) return;
      await againstTarget(trx, id, async () => {
        // The original's project name: "<UTC date, time> - <benchmark name>", the type as description.
        const stamp = b.created_at.slice(0, 19).replace('T', ', ');
        const projectId = await clientFor(b).createProject(`${stamp} - ${b.name}`, b.benchmark_type);
        await store.setProject(trx, id, projectId);
        await bus.publish(trx, EVENTS.ProjectCreated, { benchmark_id: id });
      });
    },

    async [EVENTS.ProjectCreated](event, trx) {
      const { benchmark_id: id } = benchmarkEventSchema.parse(event.payload);
      const b = await store.get(id, trx);
      if (!b || b.closing || !b.project_id) return;
      const docs = await store.documents(id, trx);
      await againstTarget(trx, id, async () => {
        const client = clientFor(b);
        for (const batch of uploadBatches(docs, deps.http.uploadBatch, MAX_UPLOAD_REQUEST_BYTES)) {
          await client.upload(
            b.project_id!,
            batch.map((d) => ({ name: d.name, content: documentContent(d) })),
          );
        }
        await store.setUploaded(trx, id, deps.now().toISOString());
        log.info({ benchmark: id, documents: docs.length }, 'documents uploaded');
      });
    },

    async [EVENTS.DocumentUpdated](event, trx) {
      const { benchmark_id: id } = benchmarkEventSchema.parse(event.payload);
      const { unfinished, total } = await store.unfinished(id, trx);
      if (total === 0 || unfinished > 0) return;
      clients.delete(id);
      if (await store.close(trx, id, 'completed', null)) await bus.publish(trx, EVENTS.AllDocumentsUploaded, { benchmark_id: id });
    },

    async [EVENTS.AllDocumentsUploaded](event, trx) {
      await report(trx, benchmarkEventSchema.parse(event.payload).benchmark_id, 'completed');
    },

    async [EVENTS.ErrorOccurred](event, trx) {
      await report(trx, benchmarkEventSchema.parse(event.payload).benchmark_id, 'failed');
    },
  };

  return {
    handlers,
    fail,
    forget: (id: string) => clients.delete(id),
  };
}

export type Flow = ReturnType<typeof createFlow>;
