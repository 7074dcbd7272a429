// Latency histogram: hdr-histogram-js over microseconds (3 significant digits), with exact min, max and mean beside it.
import { build, type Histogram as Hdr } from 'hdr-histogram-js';

/** Summary in milliseconds; percentiles are HDR bucket values clamped to the exact min and max. */
export interface LatencySummary {
  count: number;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

const MAX_US = 2 ** 31 - 1; // ~35 minutes; longer latencies are clamped

export class Histogram {
  private readonly hdr: Hdr = build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
  count = 0;
  private sumMs = 0;
  private minMs = Infinity;
  private maxMs = 0;

  /** Records one latency in milliseconds (kept to the microsecond; negative clock hiccups count as 0). */
  record(ms: number): void {
    if (!(ms >= 0)) ms = 0;
    this.hdr.recordValue(Math.min(MAX_US, Math.round(ms * 1000)));
    this.count++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The latency (ms) at or below which `p` percent of the recorded values fall; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.maxMs;
    return Math.min(this.maxMs, Math.max(this.minMs, this.hdr.getValueAtPercentile(Math.max(0, p)) / 1000));
  }

  /** Empties it for reuse: the per-second histograms are reset each tick rather than reallocated. */
  reset(): void {
    this.hdr.reset();
    this.count = 0;
    this.sumMs = 0;
    this.minMs = Infinity;
    this.maxMs = 0;
  }

  summary(): LatencySummary {
    const r = (v: number) => Math.round(v * 1000) / 1000;
    if (this.count === 0) return { count: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0 };
    return {
      count: this.count,
      min: r(this.minMs),
      max: r(this.maxMs),
      avg: r(this.sumMs / this.count),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p95: r(this.percentile(95)),
      p99: r(this.percentile(99)),
    };
  }
}
