// The three report formats of one benchmark: the original's CSV, a JSON summary with every document, and HTML.
import { stringify } from 'csv-stringify/sync';
import type { ReportJson } from '../report-json.ts';
import { renderHtml } from './report-html.ts';
import { shownSeconds, summarise, verdict, type DocTimes } from './summary.ts';
import type { StoredBenchmark } from './store.ts';

/** Exactly the original's header (slowking's LatencyReport), one row per document. */
export const CSV_COLUMNS = ['Benchmark Name', 'Benchmark Type', 'Infra', 'Eigen Version', 'Doc Name', 'Upload Time (seconds)'];

export interface Reports {
  csv: string;
  json: ReportJson;
  html: string;
}

const iso = (epochSeconds: number | null) => (epochSeconds === null ? null : new Date(epochSeconds * 1000).toISOString());

export function documentViews(docs: DocTimes[]) {
  return docs.map((d) => ({ name: d.name, started_at: iso(d.start_time), ended_at: iso(d.end_time), upload_seconds: shownSeconds(d) }));
}

export function buildReports(b: StoredBenchmark, docs: DocTimes[], status: 'completed' | 'failed', baseline?: ReportJson): Reports {
  const summary = summarise(docs);
  const rows = docs.map((d) => [b.name, b.benchmark_type, b.target_infra, b.eigen_version, d.name, shownSeconds(d) ?? '']);
  // CRLF as Python's csv module wrote it, so the original's consumers read the same bytes.
  const csv = stringify([CSV_COLUMNS, ...rows], { record_delimiter: 'windows' });
  const json: ReportJson = {
    benchmark_id: b.id,
    name: b.name,
    benchmark_type: b.benchmark_type,
    target_infra: b.target_infra,
    target_eigen_platform_version: b.eigen_version,
    status,
    error: b.error,
    created_at: b.created_at,
    summary,
    thresholds: verdict(summary, b.options.thresholds ?? undefined),
    documents: documentViews(docs),
  };
  return { csv, json, html: renderHtml(json, baseline) };
}
