// The pictures of a stored result, each a named SVG: ratios against the baselines, ok/s by round, and per setup ok/s and latency over time.
import { barChart, color, lineChart, type Series } from './svg.ts';
import { roundOf, type RunRecord, type StoredResult } from './scenario.ts';

export interface Chart {
  /** Unique within the result, usable in a file name: "ratios", "rounds", "throughput-cantons-events-200-conns" … */
  id: string;
  /** The setup a chart of one setup is about. */
  setup?: string;
  svg: string;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Runs of one setup in round order, setups in the order they first ran. */
export function bySetup(runs: RunRecord[]): Map<string, RunRecord[]> {
  const setups = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const { setup } = roundOf(run.label);
    setups.set(setup, [...(setups.get(setup) ?? []), run]);
  }
  return setups;
}

/** ok/s over each timeline interval (the intervals are ≈ 1 s; the last one is the shorter tail). */
function okPerSecond(run: RunRecord): Array<[number, number]> {
  return (run.timeline ?? []).map((p, i, all) => [p.t, Math.round(p.ok / Math.max(0.1, p.t - (i ? all[i - 1].t : 0)))]);
}

export function resultCharts(result: StoredResult): Chart[] {
  const charts: Chart[] = [];
  const load = (runs: RunRecord[]) => {
    const other = runs.map((r) => r.otherCpuPercent).filter((v): v is number => v != null);
    return other.length ? `, other processes ${Math.min(...other)}–${Math.max(...other)} % of a core` : '';
  };
  const where = `${result.scenario}, ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  if (result.ratios?.length) {
    const bars = result.ratios.map((r) => ({ label: r.name, value: r.value, target: r.target, met: r.met, dots: r.rounds && r.rounds.length > 1 ? r.rounds : undefined }));
    charts.push({ id: 'ratios', svg: barChart({ title: `Ratios (${where}): bar = median, ○ = each round, dashed = target`, bars, width: 640 }) });
  }
  const setups = bySetup(result.runs);
  if ([...setups.values()].some((runs) => runs.length > 1)) {
    const series: Series[] = [...setups].map(([setup, runs], i) => ({ name: setup, color: color(i), points: runs.map((r) => [roundOf(r.label).round, r.okRps]) }));
    charts.push({ id: 'rounds', svg: lineChart({ title: `ok/s by round (${where}${load(result.runs)})`, xLabel: 'round', yLabel: 'ok/s', series, width: 640 }) });
  }
  for (const [setup, runs] of setups) {
    const rounds = runs.map((r) => `#${roundOf(r.label).round}`);
    const throughput = runs.map((r, i) => ({ name: rounds[i], color: color(i), points: okPerSecond(r) }));
    charts.push({ id: `throughput-${slug(setup)}`, setup, svg: lineChart({ title: `${setup}: ok/s over time${load(runs)}`, xLabel: 's into the run', yLabel: 'ok/s', series: throughput }) });
    // One colour per percentile; the rounds' lines of a percentile overlap, so their spread shows.
    const latency = runs.flatMap((r) => (['p50', 'p90', 'p99'] as const).map((p, j) => ({ name: p, color: color(j), points: (r.timeline ?? []).map((t): [number, number] => [t.t, t[p]]) })));
    charts.push({ id: `latency-${slug(setup)}`, setup, svg: lineChart({ title: `${setup}: latency over time (${rounds.length} round${rounds.length > 1 ? 's' : ''})`, xLabel: 's into the run', yLabel: 'ms', series: latency }) });
  }
  return charts;
}
