// Closed-loop load with wrk (`wrk -t1 -c<n> -d<s> --latency`): N connections each sending its next
// request as soon as the last one is answered. Parses wrk's text report: requests/s, the latency
// distribution and every kind of error it counts (non-2xx answers, socket errors).

import type { LoadResult } from './load.js';
import { runToEnd } from './processes.js';

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(text: string, percentile: string): number | undefined {
  const m = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  const unit = UNIT_MS[m[2]];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** wrk's report as numbers, or why it could not be read. */
export function parseWrk(text: string): LoadResult | string {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1];
  const requests = /^\s*(\d+) requests in /m.exec(text)?.[1];
  const p50 = latencyMs(text, '50');
  const p90 = latencyMs(text, '90');
  const p99 = latencyMs(text, '99');
  if (rps === undefined || requests === undefined || p50 === undefined || p90 === undefined || p99 === undefined) {
    return `cannot read wrk's report:\n${text}`;
  }
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  return { requests: Number(requests), rps: Number(rps), p50Ms: p50, p90Ms: p90, p99Ms: p99, errors: non2xx + socketErrors };
}

export interface WrkOptions {
  readonly wrk: string;
  readonly port: number;
  readonly connections: number;
  readonly seconds: number;
  readonly core?: number;
  /** HTTPS (wrk's TLS: one handshake per connection, then keep-alive requests). */
  readonly tls?: boolean;
}

/** One wrk run against http(s)://127.0.0.1:<port>/ with a single thread. */
export async function runWrk(o: WrkOptions): Promise<LoadResult> {
  const argv = [o.wrk, '-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '--timeout', '5s', `${o.tls === true ? 'https' : 'http'}://127.0.0.1:${o.port}/`];
  const out = await runToEnd('wrk', argv, o.core !== undefined ? { core: o.core } : {});
  const r = parseWrk(out);
  if (typeof r === 'string') throw new Error(r);
  return r;
}
