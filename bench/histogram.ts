// Latency histogram: HDR-like log-linear buckets over microseconds, constant memory, under 0.4% error.

/** Summary in milliseconds; percentiles are bucket midpoints clamped to the exact min and max. */
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

// Values below 2*HALF µs get a bucket each; above, every power of two is split into HALF buckets,
// so the relative width of a bucket is at most 1/HALF.
const HALF = 128;
const HALF_BITS = 7;
const MAX_US = 2 ** 31 - 1; // ~35 minutes; longer latencies are clamped
const BUCKETS = (31 - HALF_BITS) * HALF + 2 * HALF;

function indexOf(us: number): number {
  if (us < 2 * HALF) return us;
  const shift = 31 - Math.clz32(us) - HALF_BITS;
  return shift * HALF + (us >>> shift);
}

function midpointOf(index: number): number {
  if (index < 2 * HALF) return index;
  const shift = (index >> HALF_BITS) - 1;
  const m = index - shift * HALF;
  const lo = m * 2 ** shift;
  return lo + (2 ** shift - 1) / 2;
}

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  private sumMs = 0;
  private minMs = Infinity;
  private maxMs = 0;

  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  record(ms: number): void {
    if (!(ms >= 0)) ms = 0;
    const us = Math.min(MAX_US, Math.round(ms * 1000));
    this.counts[indexOf(us)]++;
    this.count++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sumMs += other.sumMs;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  /** The latency (ms) at or below which `p` percent of the recorded values fall; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    if (rank >= this.count) return this.maxMs;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, midpointOf(i) / 1000));
    }
    return this.maxMs;
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
