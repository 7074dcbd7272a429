// The scale scenario's pictures: per module, each measure relative to its value at the smallest size, against size.
import { color, lineChart, type Series } from '../../kernel/svg-charts.ts';
import { SCALE_TARGET, type ScaleMeasure } from './series.ts';

export interface ScaleChart {
  id: string;
  svg: string;
}

/** One chart per module: every judged measure ÷ its smallest-size value, over log10 of the stored size, with the target line. */
export function scaleCharts(measures: ScaleMeasure[], caption?: string): ScaleChart[] {
  const modules = [...new Set(measures.map((m) => m.module))];
  return modules.flatMap((module) => {
    const mine = measures.filter((m) => m.module === module && m.kind !== 'info' && m.points.length > 1 && m.points[0].value > 0);
    if (!mine.length) return [];
    const sizes = [...new Set(mine.flatMap((m) => m.points.map((p) => p.size)))].sort((a, b) => a - b);
    const x = (size: number) => Math.round(Math.log10(size) * 100) / 100;
    const series: Series[] = mine.map((m, i) => ({
      name: m.better === 'higher' ? `${m.name} (rate, inverted)` : m.name,
      color: color(i),
      points: m.points.map((p): [number, number] => [x(p.size), m.better === 'higher' ? m.points[0].value / p.value : p.value / m.points[0].value]),
    }));
    series.push({ name: `target ${SCALE_TARGET}×`, color: '#222', points: sizes.map((s): [number, number] => [x(s), SCALE_TARGET]) });
    const svg = lineChart({
      title: `${module}: each measure ÷ its value at ${sizes[0].toLocaleString('en')} ${mine[0].sizeUnit}`,
      caption,
      xLabel: `log10 of stored ${mine[0].sizeUnit} (${sizes.map((s) => s.toLocaleString('en')).join(', ')})`,
      yLabel: '× smallest',
      series,
      xTicks: sizes.map(x),
      width: 720,
      height: 300,
    });
    return [{ id: `scale-${module}`, svg }];
  });
}
