// The geometry of the dashboard's line charts: a y axis from 0 to a round maximum with evenly spaced
// ticks, x positions by time, and lines broken where a value is missing (no data is not zero), a lone
// point drawn as a dot. Pure (unit-tested in Node); line-chart.ts turns it into SVG.

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten that is >= v (v > 0). */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5]) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

export interface YAxis {
  /** The top of the axis: a whole number of round steps above the largest value. */
  readonly max: number;
  /** From 0 to max, a round step apart (at most `maxTicks` steps). */
  readonly ticks: readonly number[];
}

/** A y axis from 0 with round ticks for values up to `v`; 0 to 1 when there is nothing to show. */
export function yAxis(v: number, maxTicks = 4): YAxis {
  const top = v > 0 && Number.isFinite(v) ? v : 1;
  const step = niceStep(top / maxTicks);
  const steps = Math.max(1, Math.ceil(top / step - 1e-9));
  return { max: step * steps, ticks: Array.from({ length: steps + 1 }, (_, i) => +(step * i).toPrecision(12)) };
}

/** A tick label: few digits, no trailing zeros (`0`, `0.25`, `2.5`, `150`, `1.2k`). */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 10_000) return `${+(v / 1000).toFixed(0)}k`;
  if (Math.abs(v) >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return String(+v.toPrecision(3));
}

/** Indexes of at most `count` evenly spread x labels, the first and last included. */
export function xTickIndexes(points: number, count = 4): number[] {
  if (points <= 0) return [];
  if (points <= count) return Array.from({ length: points }, (_, i) => i);
  const out = new Set<number>();
  for (let k = 0; k < count; k++) out.add(Math.round((k * (points - 1)) / (count - 1)));
  return [...out];
}

export interface LineShape {
  /** SVG path data, one per run of consecutive values. */
  readonly paths: readonly string[];
  /** Points with no neighbour to join: [x, y]. */
  readonly dots: readonly (readonly [number, number])[];
}

const r1 = (n: number): number => Math.round(n * 10) / 10;

/** The line of `values` (one per point, evenly spaced across the box) on a y axis from 0 to `max`. */
export function lineShape(values: readonly (number | null)[], max: number, box: Box): LineShape {
  const n = values.length;
  const x = (i: number): number => r1(box.left + (n <= 1 ? box.width / 2 : (box.width * i) / (n - 1)));
  const y = (v: number): number => r1(box.top + box.height - (box.height * Math.min(v, max)) / max);
  const paths: string[] = [];
  const dots: [number, number][] = [];
  let run: [number, number][] = [];
  const flush = (): void => {
    if (run.length === 1 && run[0] !== undefined) dots.push(run[0]);
    else if (run.length > 1) paths.push(run.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px},${py}`).join(' '));
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) return flush();
    run.push([x(i), y(v)]);
  });
  flush();
  return { paths, dots };
}
