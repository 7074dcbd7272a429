// The pictures of a stored result, each a named SVG: ratios against the baselines, ok/s by round, per setup ok/s and
// latency over time, and for `bench scale` each measure by stored size.
import { barChart, color, lineChart, type Series } from '../kernel/svg-charts.ts';
import { scaleCharts } from './scale/chart.ts';
import type { ScaleMeasure } from './scale/series.ts';
import { roundOf, type RunRecord, type StoredResult } from './scenario.ts';

export interface Chart {
  /** Unique within the result, usable in a file name: "ratios", "rounds", "throughput-cantons-events-200-conns" … */
  id: string;
  /** The setup a chart of one setup is about. */
  setup?: string;
  /** scale: a chart of measures by stored size (a result with `scale`, from `bench scale`). */
  group?: 'scale';
  svg: string;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

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
  // Every caption says when, and how busy the machine was: on a shared machine that decides how far to trust a picture.
  const caption = (runs: RunRecord[]) => {
    const other = runs.map((r) => r.otherCpuPercent).filter((v): v is number => v != null);
    const busy = other.length ? `; other processes used ${Math.min(...other)}–${Math.max(...other)} % of a core meanwhile` : '';
    return `${result.scenario}, ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${result.machine.cpus} cores${busy}`;
  };
  if (result.ratios?.length) {
    const bars = result.ratios.map((r) => ({
      label: r.name,
      value: r.value,
      target: r.target,
      met: r.met,
      dots: r.rounds && r.rounds.length > 1 ? r.rounds : undefined,
    }));
    const title = 'Ratios: bar = median of the rounds, ○ = each round, dashed = target';
    charts.push({ id: 'ratios', svg: barChart({ title, caption: caption(result.runs), bars, width: 640 }) });
  }
  // `bench scale` keeps every measure at every size beside the runs: one chart per module.
  const scale = (result as StoredResult & { scale?: ScaleMeasure[] }).scale;
  if (Array.isArray(scale)) charts.push(...scaleCharts(scale, caption(result.runs)).map((c) => ({ ...c, group: 'scale' as const })));
  const setups = bySetup(result.runs);
  const rounds = Math.max(...[...setups.values()].map((runs) => runs.length));
  if (rounds > 1) {
    const series: Series[] = [...setups].map(([setup, runs], i) => ({
      name: setup,
      color: color(i),
      points: runs.map((r) => [roundOf(r.label).round, r.okRps]),
    }));
    const xTicks = Array.from({ length: rounds }, (_, i) => i + 1);
    charts.push({
      id: 'rounds',
      svg: lineChart({
        title: 'ok/s of each setup, round by round',
        caption: caption(result.runs),
        xLabel: 'round',
        yLabel: 'ok/s',
        series,
        xTicks,
        width: 640,
      }),
    });
  }
  for (const [setup, all] of setups) {
    // Runs without per-second percentiles (another load driver, or stored before they were recorded) have no lines to draw.
    const runs = all.filter((r) => r.timeline?.some((p) => p.p50 !== undefined));
    if (!runs.length) continue;
    const names = runs.map((r) => `round ${roundOf(r.label).round}`);
    const throughput = runs.map((r, i) => ({ name: names[i], color: color(i), points: okPerSecond(r) }));
    charts.push({
      id: `throughput-${slug(setup)}`,
      setup,
      svg: lineChart({ title: `${setup}: ok/s over time`, caption: caption(runs), xLabel: 's into the run', yLabel: 'ok/s', series: throughput }),
    });
    // One colour per percentile; the rounds' lines of a percentile overlap, so their spread shows.
    const latency = runs.flatMap((r) =>
      (['p50', 'p90', 'p99'] as const).map((p, j) => ({ name: p, color: color(j), points: (r.timeline ?? []).map((t): [number, number] => [t.t, t[p]]) })),
    );
    const title = `${setup}: latency over time${runs.length > 1 ? `, ${runs.length} rounds` : ''}`;
    charts.push({
      id: `latency-${slug(setup)}`,
      setup,
      svg: lineChart({ title, caption: caption(runs), xLabel: 's into the run', yLabel: 'ms', series: latency }),
    });
  }
  return charts;
}
