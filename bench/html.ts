// A stored result as one self-contained HTML page: its runs as a table, its charts inline (bench/charts.ts), ratios, checks, notes.
import { bySetup, resultCharts } from './charts.ts';
import { esc, num } from '../kernel/svg-charts.ts';
import { targetVerdict, type StoredResult } from './scenario.ts';

const cell = (v: string | number | null | undefined) =>
  `<td>${v === null || v === undefined ? '-' : esc(typeof v === 'number' && !Number.isInteger(v) ? num(v) : String(v))}</td>`;

export function renderHtml(result: StoredResult): string {
  const charts = resultCharts(result);
  const svg = (id: string) => charts.find((c) => c.id === id)?.svg ?? '';
  const scale = charts.filter((c) => c.group === 'scale');
  const o = result.options;
  const head = ['run', 'conns', 'rps', 'ok/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', '5xx', 'srv µs/ok', 'gen µs/req', 'other cpu %', 'load avg'];
  const rows = result.runs.map(
    (r) =>
      `<tr>${[
        r.label,
        r.connections,
        r.rps,
        r.okRps,
        r.latency.p50,
        r.latency.p90,
        r.latency.p99,
        r.latency.max,
        r.errors.total,
        r.errors.status5xx,
        r.serverCpuUsPerOk,
        r.loadgenCpuUsPerRequest,
        r.otherCpuPercent,
        r.loadAverage,
      ]
        .map(cell)
        .join('')}</tr>`,
  );
  const list = (title: string, items: string[]) => (items.length ? `<h2>${title}</h2>\n<ul>${items.map((i) => `<li>${i}</li>`).join('\n')}</ul>` : '');
  const body = [
    `<h1>bench ${esc(result.scenario)}</h1>`,
    `<p>${esc(result.startedAt)} · ${o.connections} connections, ${o.durationSec} s per run, ${o.warmupSec} s warm-up` +
      `${
        Object.keys(o.flags).length
          ? ` · ${esc(
              Object.entries(o.flags)
                .map(([k, v]) => `--${k} ${v}`)
                .join(' '),
            )}`
          : ''
      }` +
      ` · ${esc(result.machine.node)} on ${esc(result.machine.platform)}, ${result.machine.cpus} cores</p>`,
    '<h2>Runs</h2>',
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${rows.join('\n')}</table>`,
    result.ratios?.length
      ? `<h2>Ratios</h2>\n${svg('ratios')}\n<ul>${result.ratios.map((r) => `<li>${esc(r.name)} = ${r.value}${r.target === undefined ? '' : ` (${targetVerdict(r)})`} — ${esc(r.detail)}</li>`).join('\n')}</ul>`
      : '',
    list(
      'Checks',
      (result.checks ?? []).map((c) => `${c.pass ? 'PASS' : '<b>FAIL</b>'} ${esc(c.name)} (${esc(c.detail)})`),
    ),
    svg('rounds') && `<h2>Rounds</h2>\n${svg('rounds')}`,
    scale.length ? `<h2>Scale: each measure by stored size</h2>\n<div class="row">${scale.map((c) => c.svg).join('\n')}</div>` : '',
    '<h2>Over time, per setup</h2>',
    ...[...bySetup(result.runs).keys()].map(
      (setup) =>
        `<h3>${esc(setup)}</h3>\n<div class="row">${charts
          .filter((c) => c.setup === setup)
          .map((c) => c.svg)
          .join('\n')}</div>`,
    ),
    list('Notes', (result.notes ?? []).map(esc)),
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>bench ${esc(result.scenario)} ${esc(result.startedAt)}</title>`,
    '<style>body{font-family:sans-serif;margin:1.5em;max-width:1200px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}.row{display:flex;flex-wrap:wrap;gap:8px}</style>',
    '</head>',
    '<body>',
    ...body.filter(Boolean),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
