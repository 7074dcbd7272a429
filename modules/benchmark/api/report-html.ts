// The HTML report: one self-contained page (inline CSS and SVG, nothing fetched) with the summary and three charts.
import type { ReportJson } from './report.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));

const W = 720;
const H = 220;
const PAD = 40;

/** Bars of upload seconds per document, in upload order; a document without a time is a grey tick. */
function perDocument(r: ReportJson): string {
  const docs = r.documents;
  const max = Math.max(1e-9, ...docs.map((d) => d.upload_seconds ?? 0));
  const bw = (W - 2 * PAD) / Math.max(1, docs.length);
  const bars = docs.map((d, i) => {
    const x = PAD + i * bw;
    if (d.upload_seconds === null)
      return `<rect x="${x.toFixed(1)}" y="${H - PAD - 2}" width="${Math.max(1, bw - 1).toFixed(1)}" height="2" fill="#bbb"><title>${esc(d.name)}: no time</title></rect>`;
    const h = ((H - 2 * PAD) * d.upload_seconds) / max;
    return `<rect x="${x.toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#3b7dd8"><title>${esc(d.name)}: ${fmt(d.upload_seconds)} s</title></rect>`;
  });
  return svg('Upload time per document (s)', max, bars.join(''));
}

/** A histogram of upload times in up to 20 equal bins. */
function distribution(r: ReportJson): string {
  const times = r.documents.map((d) => d.upload_seconds).filter((t): t is number => t !== null);
  if (times.length === 0) return svg('Distribution', 1, '');
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  const bins = Math.min(20, Math.max(1, times.length));
  const width = (hi - lo) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (const t of times) counts[Math.min(bins - 1, Math.floor((t - lo) / width))]++;
  const top = Math.max(...counts);
  const bw = (W - 2 * PAD) / bins;
  const bars = counts.map((c, i) => {
    const h = ((H - 2 * PAD) * c) / top;
    const from = lo + i * width;
    return `<rect x="${(PAD + i * bw).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#5aa469"><title>${fmt(from)}–${fmt(from + width)} s: ${c}</title></rect>`;
  });
  return svg(`Distribution (documents per bin, ${fmt(lo)}–${fmt(hi)} s)`, top, bars.join(''));
}

/** p50, p90, p95, p99 and max of this run next to the baseline's. */
function versusBaseline(r: ReportJson, base: ReportJson): string {
  const keys = ['p50', 'p90', 'p95', 'p99', 'max'] as const;
  const max = Math.max(1e-9, ...keys.flatMap((k) => [r.summary[k] ?? 0, base.summary[k] ?? 0]));
  const gw = (W - 2 * PAD) / keys.length;
  const bars = keys.map((k, i) => {
    const pair = [
      [base.summary[k], '#999', `baseline ${k}`],
      [r.summary[k], '#3b7dd8', `this run ${k}`],
    ] as const;
    return `${pair
      .map(([v, color, label], j) => {
        const h = ((H - 2 * PAD) * (v ?? 0)) / max;
        const x = PAD + i * gw + 8 + j * (gw / 2 - 8);
        return `<rect x="${x.toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${(gw / 2 - 10).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${label}: ${fmt(v)} s</title></rect>`;
      })
      .join('')}<text x="${(PAD + i * gw + gw / 2).toFixed(1)}" y="${H - PAD + 14}" font-size="11" text-anchor="middle">${k}</text>`;
  });
  return svg(`This run (blue) against baseline ${esc(base.name)} (grey), seconds`, max, bars.join(''));
}

function svg(title: string, max: number, body: string): string {
  return (
    `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">` +
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#333"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="#333"/>` +
    `<text x="${PAD - 4}" y="${PAD + 4}" font-size="11" text-anchor="end">${esc(fmt(max))}</text><text x="${PAD - 4}" y="${H - PAD}" font-size="11" text-anchor="end">0</text>` +
    `${body}</svg></figure>`
  );
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
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}figure{margin:1.5em 0}.passed{color:#2a7a2a}.failed{color:#b22}</style></head><body>
<h1>Benchmark Report: ${esc(r.name)}</h1>
<p>${esc(r.benchmark_type)} on ${esc(r.target_infra)}, Eigen ${esc(r.target_eigen_platform_version)} — status <b>${esc(r.status)}</b>${r.error ? ` (${esc(r.error)})` : ''}, thresholds <b class="${r.thresholds}">${r.thresholds}</b>. Started ${esc(r.created_at)}.</p>
<table><tr><th></th><th>this run</th>${baseline ? `<th>baseline ${esc(baseline.name)}</th>` : ''}</tr>${rows}</table>
${perDocument(r)}${distribution(r)}${baseline ? versusBaseline(r, baseline) : ''}
<h2>Documents</h2><table><tr><th>name</th><th>started</th><th>ended</th><th>upload seconds</th></tr>${docs}</table>
</body></html>
`;
}
