// Envoy's admin `/stats` output for a stats store (source/server/admin/stats_request.cc, stats_render.cc):
//  - text: counters and gauges together sorted by name as `name: value`, then histograms sorted by name as
//    `name: P0(interval,cumulative) P25(...) ... P100(...)` (`nan` for an empty interval), or
//    `name: No recorded values` for a histogram never written;
//  - json (`?format=json`): `{"stats":[{"name":..,"value":..},...,{"histograms":{"supported_quantiles":[..],
//    "computed_quantiles":[{"name":..,"values":[{"cumulative":..,"interval":..},...]}]}}]}` with null for NaN;
//  - query parameters `usedonly`, `filter=<regex>`, `format=text|json|prometheus`, `type=All|Counters|Gauges|Histograms`.
// Differences: the filter is an ECMAScript regex (Envoy uses RE2; the common subset behaves the same); no
// text readouts, html, or histogram_buckets modes.

import { SUPPORTED_QUANTILES } from './histogram.js';
import type { Histogram } from './histogram.js';
import type { Counter, Gauge } from './metric.js';
import type { StatsStore } from './stats-store.js';

export type StatsFormat = 'text' | 'json' | 'prometheus';
export type StatsType = 'All' | 'Counters' | 'Gauges' | 'Histograms';

export interface StatsQuery {
  readonly format: StatsFormat;
  readonly type: StatsType;
  readonly usedOnly: boolean;
  readonly filter: RegExp | undefined;
}

export type ParseStatsQueryResult =
  | { readonly ok: true; readonly value: StatsQuery }
  | { readonly ok: false; readonly message: string };

const TYPES: readonly StatsType[] = ['All', 'Counters', 'Gauges', 'Histograms'];

/**
 * Reads `/stats` query parameters; a bad one gives Envoy's 400 message. `prometheus` is accepted as a format
 * so `/stats?format=prometheus` can share the route with `/stats/prometheus`.
 */
export function parseStatsQuery(params: URLSearchParams): ParseStatsQueryResult {
  const format = params.get('format') ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'prometheus') {
    return { ok: false, message: `usage: /stats?format=(html|active-html|json|prometheus|text)\n` };
  }
  const type = params.get('type') ?? 'All';
  if (!(TYPES as readonly string[]).includes(type)) {
    return { ok: false, message: `invalid &type= param: '${type}'\n` };
  }
  let filter: RegExp | undefined;
  const f = params.get('filter');
  if (f !== null && f !== '') {
    try {
      filter = new RegExp(f);
    } catch {
      return { ok: false, message: `Invalid re2 regex\n` };
    }
  }
  return { ok: true, value: { format, type: type as StatsType, usedOnly: params.has('usedonly'), filter } };
}

function shown(metric: Counter | Gauge | Histogram, q: StatsQuery): boolean {
  if (q.usedOnly && !metric.used) return false;
  return q.filter === undefined || q.filter.test(metric.name);
}

function byName<T extends { readonly name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function scalars(store: StatsStore, q: StatsQuery): (Counter | Gauge)[] {
  const out: (Counter | Gauge)[] = [];
  if (q.type === 'All' || q.type === 'Counters') for (const c of store.counters()) if (shown(c, q)) out.push(c);
  if (q.type === 'All' || q.type === 'Gauges') for (const g of store.gauges()) if (shown(g, q)) out.push(g);
  return out.sort(byName);
}

function histograms(store: StatsStore, q: StatsQuery): Histogram[] {
  const out: Histogram[] = [];
  if (q.type === 'All' || q.type === 'Histograms') for (const h of store.histograms()) if (shown(h, q)) out.push(h);
  return out.sort(byName);
}

/** Envoy prints doubles with fmt's shortest form and NaN as `nan`. */
function quantileText(n: number): string {
  return Number.isNaN(n) ? 'nan' : String(n);
}

/** `P0(nan,1) P25(nan,1.025) ...`, as ParentHistogramImpl::quantileSummary. */
export function quantileSummary(h: Histogram): string {
  const interval = h.intervalQuantiles();
  const cumulative = h.cumulativeQuantiles();
  const parts: string[] = [];
  for (let i = 0; i < SUPPORTED_QUANTILES.length; i++) {
    const p = (SUPPORTED_QUANTILES[i] ?? 0) * 100;
    parts.push(`P${Number(p.toPrecision(6))}(${quantileText(interval[i] ?? NaN)},${quantileText(cumulative[i] ?? NaN)})`);
  }
  return parts.join(' ');
}

/** The `/stats` text body. */
export function renderStatsText(store: StatsStore, q: StatsQuery): string {
  store.refresh();
  let out = '';
  for (const m of scalars(store, q)) out += `${m.name}: ${m.value}\n`;
  for (const h of histograms(store, q)) {
    out += h.used ? `${h.name}: ${quantileSummary(h)}\n` : `${h.name}: No recorded values\n`;
  }
  return out;
}

function jsonNumber(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** The `/stats?format=json` body. */
export function renderStatsJson(store: StatsStore, q: StatsQuery): string {
  store.refresh();
  const stats: unknown[] = scalars(store, q).map((m) => ({ name: m.name, value: m.value }));
  const hs = histograms(store, q);
  if (hs.length > 0) {
    stats.push({
      histograms: {
        supported_quantiles: SUPPORTED_QUANTILES.map((x) => Number((x * 100).toPrecision(6))),
        computed_quantiles: hs.map((h) => {
          const cumulative = h.cumulativeQuantiles();
          const interval = h.intervalQuantiles();
          return {
            name: h.name,
            values: cumulative.map((c, i) => ({ cumulative: jsonNumber(c), interval: jsonNumber(interval[i] ?? NaN) })),
          };
        }),
      },
    });
  }
  return JSON.stringify({ stats });
}
