// The tail scenario's own table: each run's p50, p99, max, p99 ÷ p50 and Little's-law check, wrk's as printed and as measured.
import { table } from '../report.ts';
import type { TimelinePoint } from '../stats.ts';
import type { TcpCounters } from './tcp.ts';
import { tcpText } from './tcp.ts';

export interface Figures {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** mean × rps ÷ connections (Little's law): ≤ 1 for latencies a closed loop really measured. */
  little: number;
}

export interface TailRow {
  server: string;
  mode: string;
  round: number;
  durationSec: number;
  rps: number;
  /** wrk only: what it printed (its corrected histogram). */
  printed?: Figures;
  /** What the generator measured: ours, or wrk's histogram with the correction undone (absent if wrk could not dump it). */
  measured?: Figures;
  /** wrk only: responses over its 2 s timeout (in no latency figure), measured responses ≥ 500 ms plus those, and samples it added. */
  timeouts?: number;
  over500ms?: number;
  synthetic?: number;
  /** wrk only: the interval it corrected with (runtime ÷ requests per connection), ms. */
  intervalMs?: number;
  tcp: TcpCounters | null;
  /** ours only: per second. */
  timeline?: TimelinePoint[];
}

export interface LongRow {
  server: string;
  durationSec: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  little: number;
  /** The biggest the WAL file grew, MiB (sampled every 100 ms). */
  walMiB: number;
  /** Seconds whose slowest request took over 10× the run's p50. */
  stalls: Array<{ t: number; max: number; p99: number }>;
  worstSecond: { t: number; max: number; p99: number };
}

export const little = (meanMs: number, rps: number, connections: number) => Math.round(((meanMs / 1000) * rps * 100) / connections) / 100;

const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (f: Figures | undefined) => (f && f.p50 > 0 ? `${(f.p99 / f.p50).toFixed(1)}${f.p99 / f.p50 <= 3 ? ' ✓' : ' ✗'}` : '-');

function cells(f: Figures | undefined): string[] {
  return [ms(f?.p50), ms(f?.p99), ms(f?.max), ratio(f), f ? f.little.toFixed(2) : '-'];
}

/** One line per run (wrk's twice: as printed, as measured), grouped by server. */
export function formatTailTable(rows: TailRow[], long: LongRow[], connections: number): string {
  const header = ['server', 'generator', '#', 'rps', 'p50 ms', 'p99 ms', 'max ms', 'p99÷p50 ≤3', 'L', 'timeouts', '≥500ms', 'synthetic', 'tcp'];
  const body: string[][] = [];
  const servers = [...new Set(rows.map((r) => r.server))];
  for (const server of servers) {
    const mine = rows.filter((r) => r.server === server).sort((a, b) => a.mode.localeCompare(b.mode) || a.round - b.round);
    for (const r of mine) {
      const what = `${r.mode}${r.durationSec ? ` ${r.durationSec.toFixed(0)}s` : ''}`;
      if (r.printed)
        body.push([server, `${what} as printed`, String(r.round), String(r.rps), ...cells(r.printed), String(r.timeouts ?? '-'), '', '', tcpText(r.tcp)]);
      body.push([
        server,
        r.printed ? `${what} measured` : what,
        String(r.round),
        String(r.rps),
        ...cells(r.measured),
        r.printed ? String(r.timeouts ?? '-') : '',
        r.over500ms === undefined ? '' : String(r.over500ms),
        r.synthetic === undefined ? '' : String(r.synthetic),
        r.printed ? '' : tcpText(r.tcp),
      ]);
    }
  }
  const out = [`\n=== tail: ${connections} connections ===`, body.length ? table([header, ...body]) : '(no rounds)'];
  if (long.length) {
    out.push('\nlong runs (ours):');
    const lh = ['server', 's', 'rps', 'p50 ms', 'p99 ms', 'max ms', 'p99÷p50', 'L', 'WAL max MiB', 'worst second', 'stalled seconds (max > 10× p50)'];
    const lb = long.map((l) => [
      l.server,
      l.durationSec.toFixed(0),
      String(l.rps),
      ms(l.p50),
      ms(l.p99),
      ms(l.max),
      l.p50 > 0 ? (l.p99 / l.p50).toFixed(1) : '-',
      l.little.toFixed(2),
      l.walMiB.toFixed(1),
      `t=${l.worstSecond.t}s max ${ms(l.worstSecond.max)} p99 ${ms(l.worstSecond.p99)}`,
      l.stalls.length ? l.stalls.map((s) => `${s.t}s:${ms(s.max)}`).join(' ') : 'none',
    ]);
    out.push(table([lh, ...lb]));
  }
  out.push(
    '\nL = mean × rps ÷ connections (> 1: the mean includes samples nobody sent); timeouts: wrk responses over 2 s, in no figure; ≥500ms: measured responses ≥ 500 ms plus timeouts; synthetic: samples wrk added',
  );
  return out.join('\n');
}
