// The numbers of the service and workload lists: inbound requests per second and the error rate over
// a window, from the receiving proxies' reports (reporter="destination", as the pages' inbound charts),
// for every service or workload in one pass over the request series.

import { labelMatcher } from './label-matchers.js';
import { seriesRates } from './queries.js';
import { isRequestError } from './request-errors.js';
import type { SeriesStore } from './series-store.js';

export interface InboundTotal {
  /** Requests per second. */
  readonly rps: number;
  /** Failed requests per second. */
  readonly errors: number;
}

/** Inbound totals by the key `keyOf` gives a series (undefined: not counted). */
export function inboundTotals(store: SeriesStore, windowMs: number, now: number, keyOf: (labels: Readonly<Record<string, string>>) => string | undefined): Map<string, InboundTotal> {
  const out = new Map<string, { rps: number; errors: number }>();
  for (const { series, rate } of seriesRates(store, 'istio_requests_total', [labelMatcher('reporter', '=', 'destination')], windowMs, now)) {
    const key = keyOf(series.labels);
    if (key === undefined) continue;
    let t = out.get(key);
    if (t === undefined) out.set(key, (t = { rps: 0, errors: 0 }));
    t.rps += rate;
    if (isRequestError(series.labels)) t.errors += rate;
  }
  return out;
}

/** A service's key: `namespace/name` from destination_service_namespace and destination_service_name. */
export function serviceKey(labels: Readonly<Record<string, string>>): string | undefined {
  const name = labels['destination_service_name'];
  return name === undefined || name === '' || name === 'unknown' ? undefined : `${labels['destination_service_namespace'] ?? ''}/${name}`;
}

/** A workload's key: `namespace/name` from destination_workload_namespace and destination_workload. */
export function workloadKey(labels: Readonly<Record<string, string>>): string | undefined {
  const name = labels['destination_workload'];
  return name === undefined || name === '' || name === 'unknown' ? undefined : `${labels['destination_workload_namespace'] ?? ''}/${name}`;
}

/** Requests/s and error rate (null without requests) for a list row. */
export function rowNumbers(t: InboundTotal | undefined): { requestsPerSecond: number; errorRate: number | null } {
  return t === undefined || t.rps <= 0 ? { requestsPerSecond: 0, errorRate: null } : { requestsPerSecond: t.rps, errorRate: t.errors / t.rps };
}
