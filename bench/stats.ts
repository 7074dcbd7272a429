// Counters of a load run: per-step histograms, statuses, error kinds and samples, a per-second timeline.
import { Histogram, type LatencySummary } from './histogram.ts';
import type { RequestRecorder } from './http-client.ts';

export interface StepResult {
  /** Finished requests: every response, expected or not, plus network failures. */
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  /** Over responses only (a network failure has no meaningful latency). */
  latency: LatencySummary;
}

export interface ErrorTally {
  /** Unexpected statuses + network failures + failed assertions. */
  total: number;
  /** Responses whose status was not expected (any status outside `expect`, by default non-2xx). */
  status: number;
  /** Responses with a 5xx status, expected or not. */
  status5xx: number;
  /** Connection refused / reset / timeout … */
  network: number;
  /** A step threw (an assertion of its own, or a bug in the step). */
  assertion: number;
  /** Up to 20 distinct messages with how often each happened. */
  samples: Record<string, number>;
}

/** One second of a run (the last point may be shorter): what it sent, what came back, and how fast. */
export interface TimelinePoint {
  /** Seconds since the start, at the end of this interval. */
  t: number;
  requests: number;
  ok: number;
  errors: number;
  /** Finished requests per second over the interval. */
  rps: number;
  /** Latency percentiles of the responses in this interval, ms (0 when none came back). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const SAMPLE_LIMIT = 20;

class StepCounters {
  readonly histogram = new Histogram();
  requests = 0;
  errors = 0;
  readonly statuses: Record<string, number> = {};
}

export class RunStats implements RequestRecorder {
  readonly all = new Histogram();
  /** The responses since the last `second()` call: the timeline's percentiles. */
  private readonly current = new Histogram();
  private last = { requests: 0, ok: 0, errors: 0 };
  readonly steps = new Map<string, StepCounters>();
  requests = 0;
  ok = 0;
  iterations = 0;
  readonly statuses: Record<string, number> = {};
  readonly errors: ErrorTally = { total: 0, status: 0, status5xx: 0, network: 0, assertion: 0, samples: {} };
  /** Once set (the run was cut off), late failures of aborted requests are not counted. */
  frozen = false;

  private step(name: string): StepCounters {
    let s = this.steps.get(name);
    if (!s) {
      s = new StepCounters();
      this.steps.set(name, s);
    }
    return s;
  }

  response(step: string, latencyMs: number, status: number, ok: boolean, body: unknown): void {
    if (this.frozen) return;
    const s = this.step(step);
    s.histogram.record(latencyMs);
    this.all.record(latencyMs);
    this.current.record(latencyMs);
    s.requests++;
    this.requests++;
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (status >= 500) this.errors.status5xx++;
    if (ok) {
      this.ok++;
      return;
    }
    s.errors++;
    this.errors.status++;
    const code = body && typeof body === 'object' && 'error' in body ? ` ${String((body as { error: unknown }).error)}` : '';
    this.fail(`${step} → ${status}${code}`);
  }

  networkError(step: string, error: Error & { code?: string }): void {
    if (this.frozen) return;
    const s = this.step(step);
    s.requests++;
    s.errors++;
    this.requests++;
    this.errors.network++;
    this.fail(`${step} → ${error.code ?? error.message}`);
  }

  assertion(error: unknown): void {
    if (this.frozen) return;
    this.errors.assertion++;
    this.fail(`assertion: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200));
  }

  private fail(sample: string): void {
    this.errors.total++;
    const samples = this.errors.samples;
    if (sample in samples || Object.keys(samples).length < SAMPLE_LIMIT) samples[sample] = (samples[sample] ?? 0) + 1;
  }

  /** Closes the interval since the previous call (`seconds` long, ending `t` s into the run) as a timeline point. */
  second(t: number, seconds: number): TimelinePoint {
    const h = this.current.summary();
    const point = {
      t: Math.round(t * 10) / 10,
      requests: this.requests - this.last.requests,
      ok: this.ok - this.last.ok,
      errors: this.errors.total - this.last.errors,
      rps: 0,
      p50: h.p50,
      p90: h.p90,
      p99: h.p99,
      max: h.max,
    };
    point.rps = Math.round(point.requests / Math.max(seconds, 0.001));
    this.last = { requests: this.requests, ok: this.ok, errors: this.errors.total };
    this.current.reset();
    return point;
  }

  stepResults(): Record<string, StepResult> {
    const out: Record<string, StepResult> = {};
    for (const [name, s] of [...this.steps].sort(([a], [b]) => a.localeCompare(b))) {
      out[name] = { requests: s.requests, errors: s.errors, statuses: { ...s.statuses }, latency: s.histogram.summary() };
    }
    return out;
  }
}
