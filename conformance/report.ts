// The matrix as a person reads it: a text table for the terminal, Markdown for the docs, a page for the browser.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cell, Matrix } from './run.ts';

const modulesOf = (m: Matrix) => [...new Set(m.topologies.flatMap((t) => t.cells.map((c) => c.module)))];
const cellOf = (m: Matrix, topology: number, module: string) => m.topologies.find((t) => t.id === topology)?.cells.find((c) => c.module === module);
const notApplicable = (c: Cell) => c.checks.filter((x) => x.notApplicable).length;
const verdict = (c: Cell | undefined) => (!c ? '-' : !c.ok ? `FAIL ${c.failure}` : notApplicable(c) ? `pass (${notApplicable(c)} n/a)` : 'pass');

export const allPassed = (m: Matrix) => m.topologies.every((t) => t.cells.every((c) => c.ok));

/** Module × topology: pass, or the first failure. */
export function renderText(m: Matrix): string {
  const modules = modulesOf(m);
  const width = Math.max(...modules.map((x) => x.length)) + 2;
  const column = (text: string) => text.padEnd(16);
  const short = (c: Cell | undefined) => (c && !c.ok ? 'FAIL' : verdict(c));
  const lines = [`${''.padEnd(width)}${m.topologies.map((t) => column(`topology ${t.id}`)).join('')}`];
  for (const mod of modules) lines.push(`${mod.padEnd(width)}${m.topologies.map((t) => column(short(cellOf(m, t.id, mod)))).join('')}`);
  for (const t of m.topologies) for (const c of t.cells.filter((x) => !x.ok)) lines.push(`topology ${t.id} ${c.module}: ${c.failure}`);
  lines.push(`${allPassed(m) ? 'every cell passed' : 'some cells failed'} in ${m.seconds.toFixed(0)} s`);
  return lines.join('\n');
}

/** The cost of each topology, a row per module: CPU per request of all its processes, requests/s and p99 of the load phase. */
function costRows(m: Matrix): string[][] {
  return modulesOf(m)
    .filter((mod) => m.topologies.some((t) => cellOf(m, t.id, mod)?.load))
    .map((mod) => [
      mod,
      ...m.topologies.map((t) => {
        const load = cellOf(m, t.id, mod)?.load;
        return load ? `${load.cpuMsPerRequest.toFixed(2)} ms · ${load.rps.toFixed(0)}/s · p99 ${load.p99Ms.toFixed(0)} ms` : '-';
      }),
    ]);
}
const costHead = (m: Matrix) => ['CPU per request · requests/s · p99', ...m.topologies.map((t) => `topology ${t.id}`)];
const TOPOLOGY_HEAD = ['topology', 'processes', 'start s', 'idle CPU % of a core'];
const topologyRows = (m: Matrix) =>
  m.topologies.map((t) => [`${t.id}: ${t.summary}`, String(t.processes), t.startSeconds.toFixed(1), t.idleCpuPercent.toFixed(1)]);

export function renderMarkdown(m: Matrix): string {
  const modules = modulesOf(m);
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    row(['module', ...m.topologies.map((t) => `${t.id}: ${t.name}`)]),
    row(['---', ...m.topologies.map(() => '---')]),
    ...modules.map((mod) => row([mod, ...m.topologies.map((t) => verdict(cellOf(m, t.id, mod)).replace(/\|/g, '\\|'))])),
    '',
    row(TOPOLOGY_HEAD),
    row(TOPOLOGY_HEAD.map(() => '---')),
    ...topologyRows(m).map(row),
  ];
  const costs = costRows(m);
  if (costs.length) {
    const head = costHead(m);
    lines.push('', row(head), row(head.map(() => '---')), ...costs.map(row));
  }
  lines.push('', `Run ${m.startedAt}, ${m.seconds.toFixed(0)} s in all.`);
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function renderHtml(m: Matrix): string {
  const modules = modulesOf(m);
  const td = (c: Cell | undefined) =>
    !c
      ? '<td>-</td>'
      : `<td class="${c.ok ? 'pass' : 'fail'}" title="${esc(c.checks.map((x) => (x.notApplicable ? `- ${x.name}: not applicable, ${x.notApplicable}` : `${x.ok ? '✓' : '✗'} ${x.name} (${x.ms} ms)`)).join('\n'))}">${esc(verdict(c))}</td>`;
  const table = (head: string[], rows: string[][]) =>
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cantons conformance</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
.pass{background:#e6f4ea}.fail{background:#fce8e6}th{background:#f4f4f4}</style></head><body>
<h1>cantons conformance: ${allPassed(m) ? 'every cell passed' : 'some cells failed'}</h1>
<p>${esc(m.startedAt)} · ${m.seconds.toFixed(0)} s. Hover a cell for its checks.</p>
<table><tr><th>module</th>${m.topologies.map((t) => `<th title="${esc(t.summary)}">${t.id}: ${esc(t.name)}</th>`).join('')}</tr>
${modules.map((mod) => `<tr><th>${esc(mod)}</th>${m.topologies.map((t) => td(cellOf(m, t.id, mod))).join('')}</tr>`).join('\n')}</table>
<h2>Topologies</h2>
${table(TOPOLOGY_HEAD, topologyRows(m))}
<h2>Cost of each topology</h2>
<p>Each module's load phase through the gateway: CPU per request summed over every process of the topology, requests/s, p99.</p>
${table(costHead(m), costRows(m))}
</body></html>
`;
}

/** matrix.json, matrix.html and matrix.md (which `npm run docs` puts into docs/architecture.md) in `dir`; returns their paths. */
export function writeResults(dir: string, m: Matrix): string[] {
  mkdirSync(dir, { recursive: true });
  const files = { 'matrix.json': `${JSON.stringify(m, null, 2)}\n`, 'matrix.html': renderHtml(m), 'matrix.md': `${renderMarkdown(m)}\n` };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((name) => join(dir, name));
}
