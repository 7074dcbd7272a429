// Plain-text results: one row per measured setup, per-step rows when a run has several, ratios, checks.
import os from 'node:os';
import { targetVerdict, type RunRecord, type ScenarioResult } from './scenario.ts';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const ms = (v: number) => (!Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (v: number | null) => (v === null ? '-' : `${v}%`);

function runRows(run: RunRecord): string[][] {
  const l = run.latency;
  const rows = [
    [
      run.label,
      String(run.connections),
      String(run.rps),
      String(run.okRps),
      ms(l.p50),
      ms(l.p95),
      ms(l.p99),
      ms(l.max),
      String(run.errors.total),
      String(run.errors.status5xx),
      String(run.errors.network),
      pct(run.serverCpuPercent),
      run.serverCpuUsPerOk === null ? '-' : String(run.serverCpuUsPerOk),
      pct(run.loadgenCpuPercent),
      run.loadgenCpuUsPerRequest == null ? '-' : String(run.loadgenCpuUsPerRequest),
      pct(run.otherCpuPercent ?? null),
    ],
  ];
  const steps = Object.entries(run.steps);
  if (steps.length > 1) {
    const seconds = run.elapsedMs / 1000;
    for (const [name, s] of steps) {
      rows.push([
        `  ${name}`,
        '',
        String(Math.round(s.requests / seconds)),
        '',
        ms(s.latency.p50),
        ms(s.latency.p95),
        ms(s.latency.p99),
        ms(s.latency.max),
        String(s.errors),
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
    }
  }
  return rows;
}

export function formatResult(scenario: string, result: ScenarioResult): string {
  const out: string[] = [];
  const header = [
    'run',
    'conns',
    'rps',
    'ok/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'errors',
    '5xx',
    'net',
    'srv cpu',
    'srv µs/ok',
    'gen cpu',
    'gen µs/req',
    'other cpu',
  ];
  out.push(`\n=== ${scenario} ===`);
  out.push(table([header, ...result.runs.flatMap(runRows)]));
  const samples = result.runs.filter((r) => r.errors.total > 0);
  for (const r of samples) {
    out.push(`\nerrors in ${r.label}:`);
    for (const [msg, n] of Object.entries(r.errors.samples)) out.push(`  ${n} × ${msg}`);
  }
  if (result.ratios?.length) {
    out.push('\nratios:');
    for (const r of result.ratios) {
      const verdict = targetVerdict(r);
      out.push(`  ${r.name} = ${r.value}${verdict && `  ${verdict}`}   (${r.detail})`);
    }
  }
  if (result.checks?.length) {
    out.push('\nchecks:');
    for (const c of result.checks) out.push(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}  (${c.detail})`);
  }
  const cores = os.cpus().length;
  const notes = [...(result.notes ?? [])];
  for (const r of result.runs) {
    // "other cpu" is measured over the run itself; the load average only before it, and this bench alone keeps about two cores busy.
    if (r.otherCpuPercent != null ? r.otherCpuPercent >= 25 : r.loadAverage > cores * 1.5) {
      notes.push(
        r.otherCpuPercent != null
          ? `${r.label}: other processes used ${r.otherCpuPercent}% of a core during the measurement (${cores} cores) — its numbers are unreliable`
          : `${r.label}: load average was ${r.loadAverage} on ${cores} cores before the run — other work shared the machine, its numbers are unreliable`,
      );
    }
  }
  if (notes.length) {
    out.push('\nnotes:');
    for (const n of notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}
