// Closed-loop HTTP/2 load with h2load (nghttp2's, `h2load -t1 -c<clients> -m<streams> -D <s>`): cleartext
// HTTP/2 with prior knowledge, each client a connection keeping `streams` requests in flight. Parses its
// text report: requests/s, the requests that failed, errored, timed out or answered other than 2xx, and
// the mean time per request (h2load reports min/max/mean/sd, no percentiles: those read NaN).

import type { LoadResult } from './load.js';
import { runToEnd } from './processes.js';

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000 };

/** h2load's report as numbers, or why it could not be read. */
export function parseH2load(text: string): (LoadResult & { readonly meanMs: number }) | string {
  const rps = /^finished in [\d.]+s, ([\d.]+) req\/s/m.exec(text)?.[1];
  const req = /^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, \d+ errored, \d+ timeout/m.exec(text);
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  const mean = /^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\s/m.exec(text);
  if (rps === undefined || req === null || codes === null || mean?.[1] === undefined || mean[2] === undefined) return `cannot read h2load's report:\n${text}`;
  const succeeded = Number(req[3]);
  const ok2xx = Number(codes[1]);
  // `failed` counts the errored and timed-out requests too; a succeeded one may still be a 4xx or 5xx.
  const failed = Number(req[4]);
  return {
    requests: succeeded,
    rps: Number(rps),
    p50Ms: Number.NaN,
    p90Ms: Number.NaN,
    p99Ms: Number.NaN,
    meanMs: Number(mean[1]) * (UNIT_MS[mean[2]] ?? Number.NaN),
    errors: failed + Math.max(0, succeeded - ok2xx),
  };
}

export interface H2loadOptions {
  readonly h2load: string;
  readonly port: number;
  readonly clients: number;
  readonly streams: number;
  readonly seconds: number;
  readonly core?: number;
}

/** One h2load run against http://127.0.0.1:<port>/ with a single thread. */
export async function runH2load(o: H2loadOptions): Promise<LoadResult> {
  const argv = [o.h2load, '-t1', `-c${o.clients}`, `-m${o.streams}`, '-D', String(o.seconds), `http://127.0.0.1:${o.port}/`];
  const out = await runToEnd('h2load', argv, o.core !== undefined ? { core: o.core } : {});
  const r = parseH2load(out);
  if (typeof r === 'string') throw new Error(r);
  return r;
}
