// A small SVG line chart of our own: a title with the unit, a y axis from 0 with round ticks, time
// labels under it, one line per series (broken where there is no data) and a legend when there are
// several; it scales to the width it is given. The geometry is chart-scale.ts.
// Stable selectors for tests: a `chart` figure with data-chart, each line a `chart-series` with its
// values in data-values (comma-separated, empty where there is no data).

import { s, h, type El } from './dom.js';
import { lineShape, tickLabel, xTickIndexes, yAxis, type Box } from './chart-scale.js';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** Colour class: `c1`, `c2`, `c3`, `err`. */
  readonly cls: string;
}

export interface ChartSpec {
  /** data-chart, e.g. `inbound-requests`. */
  readonly id: string;
  readonly title: string;
  /** Shown after the title: rps, %, ms. */
  readonly unit: string;
  /** ms since the epoch, one per value. */
  readonly times: readonly number[];
  readonly series: readonly ChartSeries[];
}

const WIDTH = 420;
const HEIGHT = 160;
const PLOT: Box = { left: 44, top: 8, width: WIDTH - 44 - 12, height: HEIGHT - 8 - 24 };

function timeLabel(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function lineChart(spec: ChartSpec): El {
  const all = spec.series.flatMap((x) => x.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const { max, ticks } = yAxis(Math.max(0, ...all));
  const svg = s('svg', { class: 'chart-svg', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': `${spec.title} (${spec.unit})` });
  for (const v of ticks) {
    const y = PLOT.top + PLOT.height - (PLOT.height * v) / max;
    svg.append(
      s('line', { class: v === 0 ? 'axis' : 'gridline', x1: PLOT.left, x2: PLOT.left + PLOT.width, y1: y, y2: y }),
      s('text', { class: 'tick', x: PLOT.left - 6, y: y + 4, 'text-anchor': 'end' }, tickLabel(v)),
    );
  }
  const n = spec.times.length;
  for (const i of xTickIndexes(n)) {
    const x = PLOT.left + (n <= 1 ? PLOT.width / 2 : (PLOT.width * i) / (n - 1));
    const anchor = i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle';
    svg.append(s('text', { class: 'tick', x, y: HEIGHT - 6, 'text-anchor': anchor }, timeLabel(spec.times[i] ?? 0)));
  }
  for (const x of spec.series) {
    const shape = lineShape(x.values, max, PLOT);
    const lastValue = [...x.values].reverse().find((v) => v !== null);
    svg.append(
      s('g', { class: `series ${x.cls}`, 'data-testid': 'chart-series', 'data-label': x.label, 'data-values': x.values.map((v) => (v === null ? '' : String(v))).join(',') },
        ...shape.paths.map((d) => s('path', { d })),
        ...shape.dots.map(([cx, cy]) => s('circle', { cx, cy, r: 2.2 })),
        s('title', {}, `${x.label}: ${lastValue === undefined || lastValue === null ? 'no data' : `${tickLabel(lastValue)} ${spec.unit}`} (latest)`),
      ),
    );
  }
  if (all.length === 0) svg.append(s('text', { class: 'no-data', x: PLOT.left + PLOT.width / 2, y: PLOT.top + PLOT.height / 2, 'text-anchor': 'middle' }, 'no data in the window'));
  return h('figure', { class: 'chart', 'data-testid': 'chart', 'data-chart': spec.id },
    h('figcaption', {}, spec.title, ' ', h('span', { class: 'unit' }, `(${spec.unit})`)),
    svg,
    spec.series.length > 1 && h('div', { class: 'chart-legend' }, ...spec.series.map((x) => h('span', { class: x.cls }, x.label))),
  );
}
