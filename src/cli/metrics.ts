// `isthmus x metrics <workload>[.<namespace>] ...` (alias `m`): istioctl experimental metrics, answered
// by the control plane's own metric store (/api/metrics on its monitoring port) instead of a Prometheus.
// Per workload it asks what istioctl asks Prometheus (istioctl/pkg/metrics/metrics.go), server-side
// reports only (reporter="destination"), the name and namespace matched as prefixes (`=~"<name>.*"`):
//   TOTAL RPS    sum(rate(istio_requests_total{...}[d]))
//   ERROR RPS    the same with response_code=~"[45][0-9]{2}"
//   P50/P90/P99  histogram_quantile(q, sum(rate(istio_request_duration_milliseconds_bucket{...}[d])) by (le))
// and prints istioctl's table: each line through its own tabwriter (min width 13, padding 2, right
// aligned), the workload as %40s, rates as %.3f, latencies as a Go time.Duration of whole milliseconds.

import type { Command } from 'commander';
import { experimentalCommand } from './experimental.js';
import { IsthmusError } from '../lib/errors.js';
import { parseOutputFormat, renderData, type CliIO } from './output.js';
import { controlPlaneFetch, controlPlaneUrl } from './proxy-target.js';
import { parseDurationMs } from '../dashboard/server/metrics-api.js';

export interface WorkloadMetrics {
  readonly workload: string;
  readonly totalRps: number;
  readonly errorRps: number;
  /** Milliseconds; null when there were no requests in the window. */
  readonly p50LatencyMs: number | null;
  readonly p90LatencyMs: number | null;
  readonly p99LatencyMs: number | null;
}

/** A Go duration (`1m`, `90s`, `1h30m`, `500ms`) in milliseconds; undefined when not one or not positive. */
export const parseGoDurationMs = parseDurationMs;

/** Go's time.Duration.String() of a whole number of milliseconds: 0s, 12ms, 1.5s, 2m3.25s, 1h0m0s. */
export function goDurationString(ms: number): string {
  let v = Math.abs(Math.trunc(ms));
  if (v === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  if (v < 1000) return `${sign}${v}ms`;
  const h = Math.floor(v / 3_600_000);
  v -= h * 3_600_000;
  const m = Math.floor(v / 60_000);
  v -= m * 60_000;
  const frac = v % 1000;
  let out = `${Math.floor(v / 1000)}${frac > 0 ? '.' + String(frac).padStart(3, '0').replace(/0+$/, '') : ''}s`;
  if (h > 0 || m > 0) out = `${m}m${out}`;
  if (h > 0) out = `${h}h${out}`;
  return sign + out;
}

/** One line as Go's tabwriter.NewWriter(w, 13, 1, 2, ' ', AlignRight) prints it when flushed alone. */
function tabLine(cells: readonly string[]): string {
  return cells.map((c) => c.padStart(Math.max(13, c.length + 2))).join('') + '\n';
}

export function renderMetricsHeader(): string {
  return tabLine(['WORKLOAD'.padStart(40), 'TOTAL RPS', 'ERROR RPS', 'P50 LATENCY', 'P90 LATENCY', 'P99 LATENCY']);
}

export function renderMetricsRow(m: WorkloadMetrics): string {
  const latency = (v: number | null): string => goDurationString(v ?? 0);
  return tabLine([m.workload.padStart(40), m.totalRps.toFixed(3), m.errorRps.toFixed(3), latency(m.p50LatencyMs), latency(m.p90LatencyMs), latency(m.p99LatencyMs)]);
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function query(controlPlane: string, path: string, params: Record<string, string>): Promise<number | null> {
  const url = `${path}?${new URLSearchParams(params).toString()}`;
  const res = await controlPlaneFetch(controlPlane, url);
  const body = await res.text();
  if (res.status === 400) throw new IsthmusError('ISM_USAGE', body.trim());
  if (!res.ok) throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}${path}: HTTP ${res.status}: ${body.trim()}`);
  let groups: unknown;
  try {
    groups = JSON.parse(body);
  } catch {
    throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}${path}: the response is not JSON`);
  }
  if (!Array.isArray(groups)) throw new IsthmusError('ISM_CONNECT', `${controlPlaneUrl(controlPlane)}${path}: expected a JSON array`);
  // As istioctl's vectorValue: the first element's value, 0 for an empty result.
  const first = groups[0] as { value?: unknown } | undefined;
  if (first === undefined) return 0;
  return typeof first.value === 'number' ? first.value : null;
}

/** The metrics of one `<name>[.<namespace>]`, as istioctl's metrics() computes them. */
export async function workloadMetrics(controlPlane: string, workload: string, durationMs: number): Promise<WorkloadMetrics> {
  const parts = workload.split('.');
  const name = parts[0] ?? '';
  const ns = parts[1] ?? '';
  const base = `destination_workload=~${quote(`${regexEscape(name)}.*`)},destination_workload_namespace=~${quote(`${regexEscape(ns)}.*`)},reporter="destination"`;
  const window = `${durationMs}ms`;
  const rate = (labels: string): Promise<number | null> => query(controlPlane, '/api/metrics/rate', { metric: 'istio_requests_total', labels, window });
  const latency = (q: string): Promise<number | null> => query(controlPlane, '/api/metrics/quantile', { metric: 'istio_request_duration_milliseconds', q, labels: base, window });
  const [total, errors, p50, p90, p99] = await Promise.all([rate(base), rate(`${base},response_code=~"[45][0-9]{2}"`), latency('0.5'), latency('0.9'), latency('0.99')]);
  return { workload, totalRps: total ?? 0, errorRps: errors ?? 0, p50LatencyMs: p50, p90LatencyMs: p90, p99LatencyMs: p99 };
}

export function registerMetrics(program: Command, io: CliIO): void {
  const x = experimentalCommand(program);
  x.command('metrics')
    .alias('m')
    .description('Prints the metrics for the specified workload(s): requests/s, errors/s and latency percentiles, from the control plane')
    .argument('<workload...>', '<workload name>[.<namespace>]; both match as prefixes, as istioctl does')
    .option('-d, --duration <duration>', 'Duration of query metrics, default value is 1m.', '1m')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .addHelpText(
      'after',
      `
Prints, per workload, the total requests per second, the error (4xx and 5xx) requests per second, and
the request latency at p50, p90 and p99, over the last --duration (default 1m). As in istioctl, all of
them come from server-side reports (reporter="destination"): latencies and error rates are those the
workload itself saw, not those of one client. The control plane computes them from the Istio metrics it
scrapes from every connected proxy (it keeps 10 minutes), so no Prometheus is needed.

Examples:
  # Retrieve workload metrics for productpage-v1 workload
  isthmus x metrics productpage-v1

  # Retrieve workload metrics for various services with custom duration
  isthmus x metrics productpage-v1 -d 2m

  # Retrieve workload metrics for various services in the different namespaces
  isthmus x metrics productpage-v1.foo reviews-v1.bar ratings-v1.baz`,
    )
    .action(async (workloads: string[], opts: { duration: string; controlPlane: string; output: string }) => {
      const format = parseOutputFormat(opts.output);
      const durationMs = parseGoDurationMs(opts.duration);
      if (durationMs === undefined) throw new IsthmusError('ISM_USAGE', `invalid -d/--duration "${opts.duration}": expected a duration such as 30s, 1m or 1h`);
      const rows: WorkloadMetrics[] = [];
      if (format === 'table') io.stdout(renderMetricsHeader());
      for (const w of workloads) {
        const m = await workloadMetrics(opts.controlPlane, w, durationMs).catch((e: unknown) => {
          if (e instanceof IsthmusError) throw new IsthmusError(e.code, `could not build metrics for workload '${w}': ${e.message}`);
          throw e;
        });
        if (format === 'table') io.stdout(renderMetricsRow(m));
        else rows.push(m);
      }
      if (format !== 'table') io.stdout(renderData(rows, format));
    });
}
