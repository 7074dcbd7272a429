// The HTML report: one self-contained page (inline CSS and SVG, nothing fetched) with the summary and three charts.
import { color, columnChart, esc } from '../../../kernel/svg-charts.ts';
import type { ReportJson } from '../report-json.ts';

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));

/** Upload seconds per document, in upload order; a document without a time is a grey tick on the axis. */
function perDocument(r: ReportJson): string {
  return columnChart({
    title: 'Upload time per document',
    xLabel: 'document, in upload order',
    yLabel: 'seconds',
    categories: r.documents.map((d) => d.name),
    series: [{ name: 'upload time (grey: no time)', color: color(0), values: r.documents.map((d) => d.upload_seconds) }],
  });
}

/** A histogram of upload times in up to 20 equal bins. */
function distribution(r: ReportJson): string {
  const times = r.documents.map((d) => d.upload_seconds).filter((t): t is number => t !== null);
  const lo = times.length ? Math.min(...times) : 0;
  const hi = times.length ? Math.max(...times) : 0;
  const bins = Math.min(20, Math.max(1, times.length));
  const width = (hi - lo) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (const t of times) counts[Math.min(bins - 1, Math.floor((t - lo) / width))]++;
  return columnChart({
    title: `Distribution of upload times, ${fmt(lo)}–${fmt(hi)} s`,
    xLabel: 'upload seconds (bin start)',
    yLabel: 'documents',
    categories: counts.map((_, i) => fmt(lo + i * width)),
    series: [{ name: 'documents per bin', color: color(2), values: times.length ? counts : [] }],
  });
}

/** p50, p90, p95, p99 and max of this run next to the baseline's. */
function versusBaseline(r: ReportJson, base: ReportJson): string {
  const keys = ['p50', 'p90', 'p95', 'p99', 'max'] as const;
  return columnChart({
    title: `This run against baseline ${base.name}`,
    xLabel: 'percentile',
    yLabel: 'seconds',
    categories: [...keys],
    series: [
      { name: `baseline ${base.name}`, color: '#999', values: keys.map((k) => base.summary[k] ?? null) },
      { name: 'this run', color: color(0), values: keys.map((k) => r.summary[k] ?? null) },
    ],
  });
}

export function renderHtml(r: ReportJson, baseline?: ReportJson): string {
  const s = r.summary;
  const rows = (['count', 'completed', 'failed', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'max', 'throughput_per_second', 'wall_seconds'] as const)
    .map(
      (k) =>
        `<tr><th>${k}</th><td>${typeof s[k] === 'number' && !Number.isInteger(s[k]) ? fmt(s[k]) : esc(s[k] ?? '–')}</td>${baseline ? `<td>${esc(baseline.summary[k] ?? '–')}</td>` : ''}</tr>`,
    )
    .join('');
  const docs = r.documents
    .map((d) => `<tr><td>${esc(d.name)}</td><td>${esc(d.started_at ?? '–')}</td><td>${esc(d.ended_at ?? '–')}</td><td>${fmt(d.upload_seconds)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Benchmark Report: ${esc(r.name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}figure,svg{display:block;margin:1.5em 0}.passed{color:#2a7a2a}.failed{color:#b22}</style></head><body>
<h1>Benchmark Report: ${esc(r.name)}</h1>
<p>${esc(r.benchmark_type)} on ${esc(r.target_infra)}, Eigen ${esc(r.target_eigen_platform_version)} — status <b>${esc(r.status)}</b>${r.error ? ` (${esc(r.error)})` : ''}, thresholds <b class="${r.thresholds}">${r.thresholds}</b>. Started ${esc(r.created_at)}.</p>
<table><tr><th></th><th>this run</th>${baseline ? `<th>baseline ${esc(baseline.name)}</th>` : ''}</tr>${rows}</table>
${perDocument(r)}${distribution(r)}${baseline ? versusBaseline(r, baseline) : ''}
<h2>Documents</h2><table><tr><th>name</th><th>started</th><th>ended</th><th>upload seconds</th></tr>${docs}</table>
</body></html>
`;
}
