// Upload-time statistics of one benchmark: exact nearest-rank percentiles over the sorted times, and the threshold verdict.
import type { StartBody, Summary } from '../contract.ts';

export interface DocTimes {
  name: string;
  start_time: number | null;
  end_time: number | null;
}

/** end − start in seconds, when the target sent both. */
export const uploadSeconds = (d: DocTimes): number | null => (d.start_time !== null && d.end_time !== null ? Math.max(0, d.end_time - d.start_time) : null);

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/** A time in seconds as people read it, to the millisecond: 4.657, not the float difference 4.6570000648498535. */
export const toMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

/** The upload time a report shows: to the millisecond. */
export const shownSeconds = (d: DocTimes): number | null => {
  const t = uploadSeconds(d);
  return t === null ? null : toMs(t);
};

/**
 * Nearest rank, the one definition of every percentile in the summary: the value of rank ⌈p·n/100⌉ (1-based) in
 * the sorted list, rank at least 1 — the smallest value with at least p % of the values at or below it; never an
 * interpolation, so every percentile is a time some document took. p·n is computed before the division: (p/100)·n
 * rounds up past a whole rank (0.07 × 100 = 7.000000000000001 would be rank 8).
 */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p * sorted.length) / 100) - 1))];
}

export function summarise(docs: DocTimes[]): Summary {
  // A few thousand values at most: sorting is exact and cheaper than a histogram's setup.
  const times = docs
    .map(uploadSeconds)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  const starts = docs.map((d) => d.start_time).filter((t): t is number => t !== null);
  const ends = docs.map((d) => d.end_time).filter((t): t is number => t !== null);
  const wall = starts.length && ends.length ? Math.max(0, Math.max(...ends) - Math.min(...starts)) : null;
  const pick = (p: number) => {
    const v = percentile(times, p);
    return v === null ? null : toMs(v);
  };
  return {
    count: docs.length,
    completed: times.length,
    failed: docs.length - times.length,
    min: pick(0),
    mean: times.length ? toMs(times.reduce((s, t) => s + t, 0) / times.length) : null,
    p50: pick(50),
    p90: pick(90),
    p95: pick(95),
    p99: pick(99),
    max: pick(100),
    throughput_per_second: wall && wall > 0 ? round(times.length / wall) : null,
    wall_seconds: wall === null ? null : toMs(wall),
  };
}

/** 'failed' when any given threshold is exceeded (a missing p95 or max counts as exceeded); 'passed' otherwise. */
export function verdict(summary: Summary, thresholds: StartBody['thresholds']): 'passed' | 'failed' {
  if (!thresholds) return summary.failed === 0 ? 'passed' : 'failed';
  const over = (value: number | null, limit: number | undefined) => limit !== undefined && (value === null || value > limit);
  if (over(summary.p95, thresholds.p95_seconds) || over(summary.max, thresholds.max_seconds)) return 'failed';
  if (summary.failed > (thresholds.max_failed ?? 0)) return 'failed';
  return 'passed';
}
