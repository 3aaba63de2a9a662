// The JSON API over the scraped Istio metrics, served on the control plane's monitoring port (:15014)
// for the dashboard and `isthmus x metrics`. All GET; `labels` is the inside of a PromQL selector
// (`reporter="destination",destination_workload=~"reviews.*"`), `by` a comma-separated label list,
// `window` a duration (`500ms`, `30s`, `1m`, `1h30m`; default 1m):
//   /api/metrics                                   store and scrape status: series count, caps, targets
//   /api/metrics/names                             metric names with their series counts
//   /api/metrics/series?metric=&labels=&window=    the raw samples [[ms, value], ...] of each series
//   /api/metrics/rate?metric=&labels=&by=&window=  sum by (by) (rate(metric{labels}[window])) -> [{labels, value}]
//   /api/metrics/quantile?metric=&q=&labels=&by=&window=
//                                                  histogram_quantile(q, sum by (le, by) (rate(metric_bucket{labels}[window])));
//                                                  metric is the histogram name (istio_request_duration_milliseconds)
//   /api/metrics/graph?window=&namespace=          the service graph: {timestamp, windowMs, nodes, edges}
// Values are per second for rates, in the metric's unit for quantiles; null where there is no data.
// A bad parameter is a 400 with a plain-text message naming it. Like istiod's debug endpoints this is
// unauthenticated: keep the port on loopback unless the network is trusted.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock.js';
import { parseLabelMatchers, type LabelMatcher } from './label-matchers.js';
import { quantileBy, rateBy } from './queries.js';
import type { MetricsScraper } from './scraper.js';
import type { SeriesStore } from './series-store.js';
import { buildServiceGraph } from './service-graph.js';

export const METRICS_API_PREFIX = '/api/metrics';
const DEFAULT_WINDOW_MS = 60_000;
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations (`1m30s`, `500ms`, `0.5s`); undefined when not one or not positive. */
export function parseDurationMs(s: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? NaN);
  return total > 0 && Number.isFinite(total) ? total : undefined;
}

class BadParam extends Error {}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  const body = text + '\n';
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function windowOf(q: URLSearchParams, retentionMs: number): number {
  const raw = q.get('window');
  if (raw === null || raw === '') return DEFAULT_WINDOW_MS;
  const ms = parseDurationMs(raw);
  if (ms === undefined) throw new BadParam(`invalid window "${raw}": expected a duration such as 30s, 1m or 1h`);
  if (ms > retentionMs) throw new BadParam(`invalid window "${raw}": longer than the ${retentionMs / 1000}s of metrics kept`);
  return ms;
}

function metricOf(q: URLSearchParams): string {
  const m = q.get('metric') ?? '';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m)) throw new BadParam(m === '' ? 'missing metric: give ?metric=<name> (e.g. istio_requests_total)' : `invalid metric "${m}": not a Prometheus metric name`);
  return m;
}

function matchersOf(q: URLSearchParams): LabelMatcher[] {
  const raw = q.get('labels') ?? '';
  try {
    return parseLabelMatchers(raw);
  } catch (e) {
    throw new BadParam(`invalid labels "${raw}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

function byOf(q: URLSearchParams): string[] {
  const raw = q.get('by') ?? '';
  const by = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = by.find((b) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(b));
  if (bad !== undefined) throw new BadParam(`invalid by "${raw}": "${bad}" is not a label name`);
  return by;
}

function quantileOf(q: URLSearchParams): number {
  const raw = q.get('q') ?? '';
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new BadParam(`invalid q "${raw}": expected a quantile between 0 and 1 (e.g. 0.95)`);
  return v;
}

export interface MetricsApiDeps {
  readonly store: SeriesStore;
  readonly clock: Clock;
  readonly scraper?: MetricsScraper;
}

/** A request handler for /api/metrics*; returns false (and answers nothing) for other paths. */
export function createMetricsApi(deps: MetricsApiDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store, clock } = deps;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== METRICS_API_PREFIX && !url.pathname.startsWith(`${METRICS_API_PREFIX}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, `method ${req.method ?? ''} not allowed on ${url.pathname}`);
      return true;
    }
    const q = url.searchParams;
    const now = clock.now();
    try {
      switch (url.pathname) {
        case METRICS_API_PREFIX:
          sendJson(res, 200, {
            store: store.stats(),
            scrape: deps.scraper === undefined ? null : { intervalMs: deps.scraper.intervalMs, timeoutMs: deps.scraper.timeoutMs, targets: deps.scraper.status() },
          });
          return true;
        case `${METRICS_API_PREFIX}/names`:
          sendJson(res, 200, store.metrics());
          return true;
        case `${METRICS_API_PREFIX}/series`: {
          const metric = metricOf(q);
          const matchers = matchersOf(q);
          const windowMs = q.has('window') ? windowOf(q, store.retentionMs) : store.retentionMs;
          const series = store.select(metric, matchers).map((s) => {
            const samples: [number, number | null][] = [];
            s.samples.forEachIn(now - windowMs, now, (t, v) => samples.push([t, Number.isFinite(v) ? v : null]));
            return { metric: s.metric, labels: s.labels, proxy: s.proxy, samples };
          });
          sendJson(res, 200, series);
          return true;
        }
        case `${METRICS_API_PREFIX}/rate`: {
          const metric = metricOf(q);
          sendJson(res, 200, rateBy(store, metric, matchersOf(q), windowOf(q, store.retentionMs), now, byOf(q)));
          return true;
        }
        case `${METRICS_API_PREFIX}/quantile`: {
          const metric = metricOf(q);
          const quantile = quantileOf(q);
          sendJson(res, 200, quantileBy(store, metric, quantile, matchersOf(q), windowOf(q, store.retentionMs), now, byOf(q)));
          return true;
        }
        case `${METRICS_API_PREFIX}/graph`: {
          const namespace = q.get('namespace');
          sendJson(res, 200, buildServiceGraph(store, { windowMs: windowOf(q, store.retentionMs), now, ...(namespace !== null && namespace !== '' ? { namespace } : {}) }));
          return true;
        }
        default:
          sendText(res, 404, `no such endpoint: ${url.pathname} (try ${METRICS_API_PREFIX}, /names, /series, /rate, /quantile, /graph)`);
          return true;
      }
    } catch (e) {
      if (!(e instanceof BadParam)) throw e;
      sendText(res, 400, e.message);
      return true;
    }
  };
}
