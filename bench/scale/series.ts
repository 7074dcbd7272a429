// A measure taken at growing stored sizes: its per-size values, the ratio largest ÷ smallest and its verdict,
// printed as a table per module and kept in the stored result (`scale`) for the charts (scale/chart.ts).
import { table } from '../report.ts';
import { meetsTarget, targetVerdict, type RatioResult, type RunRecord } from '../scenario.ts';

/** Per-request costs may grow this much from the smallest size to the largest; whole-set work per item, too (no worse than linear). */
export const SCALE_TARGET = 1.2;

export interface ScaleMeasure {
  /** events, crowdfund … */
  module: string;
  /** "range query p99", "first list per key" … */
  name: string;
  unit: string;
  /** What the sizes count: "events", "projects" … */
  sizeUnit: string;
  /** request: a cost per request; whole-set: work over everything stored, given per item; info: shown, not judged. */
  kind: 'request' | 'whole-set' | 'info';
  /** lower (default): a cost; higher: a rate (judged by largest ÷ smallest ≥ 1 / SCALE_TARGET). */
  better?: 'lower' | 'higher';
  /** size → value */
  points: Array<{ size: number; value: number; note?: string }>;
}

export class ScaleSeries {
  readonly measures: ScaleMeasure[] = [];

  /** Adds `value` at `size` to the measure (created on first use). */
  add(m: Omit<ScaleMeasure, 'points'>, size: number, value: number | null | undefined, note?: string): void {
    let measure = this.measures.find((x) => x.module === m.module && x.name === m.name);
    if (!measure) this.measures.push((measure = { ...m, points: [] }));
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    measure.points.push({ size, value, ...(note ? { note } : {}) });
    measure.points.sort((a, b) => a.size - b.size);
  }

  /** p50, p99 and server CPU per request of one measured run (or of one step of it). */
  addRun(module: string, name: string, sizeUnit: string, size: number, run: RunRecord, step?: string): void {
    const latency = step ? run.steps[step]?.latency : run.latency;
    const base = { module, sizeUnit, kind: 'request' as const };
    this.add({ ...base, name: `${name} p50`, unit: 'ms' }, size, latency?.p50);
    this.add({ ...base, name: `${name} p99`, unit: 'ms' }, size, latency?.p99);
    if (!step) this.add({ ...base, name: `${name} server CPU per request`, unit: 'µs' }, size, run.serverCpuUsPerOk);
  }

  ratios(): RatioResult[] {
    return this.measures.flatMap((m) => {
      const r = scaleRatio(m);
      return r ? [r] : [];
    });
  }

  /** Per module: a table of measure × size with the ratio, then one `scale <measure> largest ÷ smallest = R` line each. */
  format(module?: string): string {
    const out: string[] = [];
    const modules = [...new Set(this.measures.map((m) => m.module))].filter((m) => module === undefined || m === module);
    for (const mod of modules) {
      const measures = this.measures.filter((m) => m.module === mod);
      const sizes = [...new Set(measures.flatMap((m) => m.points.map((p) => p.size)))].sort((a, b) => a - b);
      const unit = measures[0].sizeUnit;
      const rows = [
        ['measure', 'unit', ...sizes.map((s) => `${s.toLocaleString('en')} ${unit}`), 'largest÷smallest', 'verdict'],
        ...measures.map((m) => {
          const r = scaleRatio(m);
          return [
            m.name,
            m.unit,
            ...sizes.map((s) => {
              const v = m.points.find((p) => p.size === s)?.value;
              return v === undefined ? '-' : fmt(v);
            }),
            r ? String(r.value) : '-',
            verdict(r),
          ];
        }),
      ];
      out.push(`\nscale: ${mod}`, table(rows));
      for (const m of measures) {
        const r = scaleRatio(m);
        if (r) out.push(`scale ${mod} ${m.name} largest ÷ smallest = ${r.value}${verdict(r) && `  ${verdict(r)}`}`);
      }
      const notes = measures.flatMap((m) => m.points.filter((p) => p.note).map((p) => `  ${m.name} at ${p.size.toLocaleString('en')}: ${p.note}`));
      if (notes.length) out.push(...notes);
    }
    return out.join('\n');
  }
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

function verdict(r: RatioResult | undefined): string {
  return r ? targetVerdict(r) : '';
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * `scale <module> <measure> largest ÷ smallest`: a cost (lower is better) is met at or below SCALE_TARGET, a rate at
 * or above its inverse; an "info" measure has no target.
 */
export function scaleRatio(m: ScaleMeasure): RatioResult | undefined {
  if (m.points.length < 2) return undefined;
  const [small, large] = [m.points[0], m.points[m.points.length - 1]];
  if (small.value === 0) return undefined;
  const exact = large.value / small.value;
  const value = round2(exact);
  const detail = `${fmt(large.value)} ${m.unit} at ${large.size.toLocaleString('en')} ${m.sizeUnit} ÷ ${fmt(small.value)} ${m.unit} at ${small.size.toLocaleString('en')}`;
  const name = `scale ${m.module} ${m.name} largest ÷ smallest`;
  if (m.kind === 'info') return { name, value, detail: `${detail} (shown, not judged)` };
  const better = m.better ?? 'lower';
  const target = better === 'higher' ? round2(1 / SCALE_TARGET) : SCALE_TARGET;
  return { name, value, target, better, met: meetsTarget(exact, better === 'higher' ? 1 / SCALE_TARGET : SCALE_TARGET, better), detail };
}
