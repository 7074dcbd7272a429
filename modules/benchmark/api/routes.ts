// The original's REST API (/api/v1/benchmarks…) plus status, list and the three report formats; routes as data.
import { z } from 'zod';
import { cursorField, nextCursor } from '../../../kernel/http/cursor.ts';
import { EXAMPLE_ORIGIN, route, type RouteSpec } from '../../../kernel/http/route.ts';
import { benchmarkViewSchema, callbackBodySchema, COMMANDS, EVENTS, startBodySchemaFor } from '../contract.ts';
import { benchmarkErrors } from '../errors.ts';
import type { Commands } from './commands.ts';
import { documentViews } from './report.ts';
import type { Status, Store, StoredBenchmark } from './store.ts';
import { summarise, verdict } from './summary.ts';

const BASE = '/api/v1/benchmarks';
const tags = ['benchmark'];
const idParams = z.object({ id: z.string().min(1).max(100) });
// Benchmark ids are made when one starts; the examples of the routes taking one therefore find none (404).
const EXAMPLE_ID = '00000000-0000-7000-8000-000000000000';
// The shared component of /openapi.json for one benchmark.
const benchmarkView = benchmarkViewSchema.meta({ id: 'Benchmark', description: 'a benchmark with its progress, documents, summary and verdict' });
const listItem = benchmarkViewSchema.omit({ documents: true, summary: true, thresholds: true });
const listQuery = z.object({
  status: z.enum(['running', 'completed', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  // [created_at, id] of the previous page's last benchmark.
  cursor: cursorField(z.tuple([z.string().max(40), z.string().max(100)])),
});

const FORMATS = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
} as const;

function head(b: StoredBenchmark, progress: { done: number; total: number }) {
  return {
    benchmark_id: b.id,
    name: b.name,
    benchmark_type: b.benchmark_type,
    target_infra: b.target_infra,
    target_url: b.target_url,
    target_eigen_platform_version: b.eigen_version,
    project_id: b.project_id,
    uploaded_at: b.uploaded_at,
    status: b.status,
    error: b.error,
    created_at: b.created_at,
    finished_at: b.finished_at,
    progress,
  };
}

/** `maxDocuments`: BENCHMARK_MAX_DOCUMENTS, the start body's most documents. */
export function benchmarkRoutes(store: Store, commands: Commands, maxDocuments: number): RouteSpec[] {
  async function existing(id: string): Promise<StoredBenchmark> {
    const b = await store.get(id);
    if (!b) throw benchmarkErrors.BENCHMARK_NOT_FOUND(`Benchmark ${id} not found`);
    return b;
  }

  const reportRoutes = (Object.keys(FORMATS) as Array<keyof typeof FORMATS>).map((ext) =>
    route({
      method: 'get',
      path: `${BASE}/:id/report.${ext}`,
      operationId: `getBenchmarkReport${ext[0].toUpperCase()}${ext.slice(1)}`,
      summary: `The ${ext.toUpperCase()} report of an ended benchmark (409 REPORT_NOT_READY while it runs)`,
      description: 'The id is the benchmark_id POST /api/v1/benchmarks/start answered; the report is written once the benchmark ends.',
      tags,
      params: idParams,
      responses: { 200: { description: `The report, as ${ext.toUpperCase()}`, schema: z.string(), contentType: FORMATS[ext].split(';')[0] } },
      errors: ['BENCHMARK_NOT_FOUND', 'REPORT_NOT_READY'],
      example: { params: { id: EXAMPLE_ID }, status: 404 },
      async handler({ params }) {
        const b = await existing(params.id);
        const report = await store.report(b.id);
        if (!report) throw benchmarkErrors.REPORT_NOT_READY(`Benchmark ${b.id} is still ${b.status}; its report is not written yet`);
        return { body: report[ext], headers: { 'content-type': FORMATS[ext], 'content-disposition': `inline; filename="benchmark-${b.id}.${ext}"` } };
      },
    }),
  );

  // The target's callback: 202 whenever it parses, as the original answered (its target and tests read nothing else);
  // the body says what it did. A field that fails validation is 422, the original's FastAPI status.
  const callback = route({
    method: 'post',
    path: `${BASE}/documents/`,
    operationId: 'updateBenchmarkDocument',
    summary: "UpdateDocument: the target's callback with a document's start or end time (202; 409 when its benchmark has ended)",
    description:
      'Sent by the target, not by people; also at the path without the trailing slash. `status` is `applied` (a time written), `duplicate` (nothing was unset: a replay) or `unmatched` (no benchmark has the document: the example).',
    tags,
    body: callbackBodySchema,
    validationStatus: 422,
    responses: {
      202: {
        description: 'Recorded, a duplicate of a recorded callback, or matching no benchmark',
        schema: z.object({ status: z.enum(['applied', 'duplicate', 'unmatched']) }),
      },
    },
    errors: ['BENCHMARK_FINISHED'],
    example: {
      body: {
        document_name: 'doc-1.txt',
        eigen_document_id: '1001-1',
        eigen_project_id: '1001',
        benchmark_host_name: '127.0.0.1:8080',
        start_time: 1767225600,
      },
    },
    async handler({ body }) {
      return { status: 202, body: { status: await commands.UpdateDocument(body) } };
    },
  });

  return [
    route({
      method: 'get',
      path: '/api/v1/health',
      operationId: 'getBenchmarkApiHealth',
      summary: 'The original health check',
      description: 'Always `{"status": "ok"}` while the process serves; /readyz says whether it is ready.',
      tags,
      responses: { 200: { description: 'Serving', schema: z.object({ status: z.literal('ok') }) } },
      handler: () => ({ body: { status: 'ok' } }),
    }),
    route({
      method: 'get',
      path: `${BASE}/channels`,
      operationId: 'listBenchmarkChannels',
      summary: 'The command and event names (the original listed its Redis channels)',
      description: "The names a benchmark's flow uses on the event bus.",
      tags,
      responses: { 200: z.object({ channels: z.array(z.string()), commands: z.record(z.string(), z.string()), events: z.record(z.string(), z.string()) }) },
      handler: () => ({
        body: {
          // In the original's order: the events' channels alphabetically, then the commands'.
          channels: [
            ...Object.values(EVENTS)
              .map((topic) => topic.name.replace(/^benchmark\./, ''))
              .sort(),
            ...Object.values(COMMANDS),
          ],
          commands: COMMANDS,
          events: Object.fromEntries(Object.entries(EVENTS).map(([name, topic]) => [name, topic.name])),
        },
      }),
    }),
    route({
      method: 'post',
      path: `${BASE}/start`,
      operationId: 'startBenchmark',
      summary: 'CreateBenchmark: validated and stored before the 202; the flow then runs on the event bus',
      description:
        "The example benchmarks the built-in target of this process (at `npm start`'s address in /openapi.json, at the page's own origin on /docs). Follow status_url for progress. A field that fails validation is 422 (the original's FastAPI status).",
      tags,
      body: startBodySchemaFor(maxDocuments),
      validationStatus: 422,
      responses: { 202: { description: 'Started: its id and where to follow it', schema: z.object({ benchmark_id: z.string(), status_url: z.string() }) } },
      example: {
        body: {
          name: 'example run',
          benchmark_type: 'latency',
          target_infra: 'local',
          target_url: `${EXAMPLE_ORIGIN}/target`,
          target_eigen_platform_version: '1.0',
          username: 'bench',
          password: 'bench',
          documents: { count: 3, size_bytes: 1024 },
        },
      },
      async handler({ body }) {
        const { benchmark_id } = await commands.CreateBenchmark(body);
        return { status: 202, body: { benchmark_id, status_url: `${BASE}/${benchmark_id}` } };
      },
    }),
    callback,
    // slowking's own tests post without the slash (FastAPI redirected them to it with a 307).
    { ...callback, path: `${BASE}/documents`, operationId: 'updateBenchmarkDocumentWithoutSlash' },
    route({
      method: 'get',
      path: BASE,
      operationId: 'listBenchmarks',
      summary: 'Benchmarks, newest first, optionally by status',
      description: 'Pass `next_cursor` back as `cursor` for the next page; it is null on the last page.',
      tags,
      query: listQuery,
      example: { query: { limit: 50 } },
      responses: { 200: z.object({ items: z.array(listItem), next_cursor: z.string().nullable() }) },
      async handler({ query }) {
        const page = await store.list(query.limit, query.status as Status | undefined, query.cursor as [string, string] | undefined);
        const progress = await store.progress(page.items.map((b) => b.id));
        return { body: { items: page.items.map((b) => head(b, progress.get(b.id)!)), next_cursor: nextCursor(page.last) } };
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/:id`,
      operationId: 'getBenchmark',
      summary: 'One benchmark: status, progress, every document, the summary so far and the threshold verdict',
      description: 'The id is the benchmark_id POST /api/v1/benchmarks/start answered.',
      tags,
      params: idParams,
      responses: { 200: { description: 'The benchmark', schema: benchmarkView } },
      errors: ['BENCHMARK_NOT_FOUND'],
      example: { params: { id: EXAMPLE_ID }, status: 404 },
      async handler({ params }) {
        const b = await existing(params.id);
        const docs = await store.documents(b.id);
        const done = docs.filter((d) => d.start_time !== null && d.end_time !== null).length;
        const summary = summarise(docs);
        return {
          body: {
            ...head(b, { done, total: docs.length }),
            documents: documentViews(docs),
            summary,
            thresholds: b.status === 'running' ? null : verdict(summary, b.options.thresholds ?? undefined),
          },
        };
      },
    }),
    ...reportRoutes,
  ];
}
