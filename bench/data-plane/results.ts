// One configuration's figures: what a single run measured, and the summary over the interleaved runs
// (the median of each figure; for memory the largest seen, since a limit is about the worst moment).

import type { LoadResult } from './load.js';
import { median } from './measure.js';
import type { Usage } from './measure.js';

/** Where a configuration sits: the baseline, an HTTP proxy, or a TCP (L4) proxy. */
export type Layer = 'direct' | 'l7' | 'l4';

export interface ConfigInfo {
  /** The name BENCH_DP_ONLY selects it by. */
  readonly name: string;
  readonly label: string;
  readonly layer: Layer;
  /**
   * 'h2': clients speak cleartext HTTP/2 to it (the HTTP/2 shape's configurations); 'h2h2': the same, and it
   * speaks HTTP/2 to the upstream (the gRPC-like shape's); 'tls': HTTP/1.1 over TLS (the TLS shape's);
   * cleartext HTTP/1.1 otherwise.
   */
  readonly protocol?: 'h2' | 'h2h2' | 'tls';
}

export interface RunSample {
  readonly load: LoadResult;
  readonly usage: Usage;
  /** Something that makes this run's figures suspect. */
  readonly note?: string;
}

export interface Stats {
  readonly runs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Proxy CPU over the run, in % of one core. */
  readonly cpuPct: number;
  /** Proxy CPU seconds per 1,000 requests (equal to vCPU per 1,000 req/s). */
  readonly cpuSecPer1k: number;
  /** Requests served per proxy CPU second. */
  readonly reqPerCpuSec: number;
  readonly core0Pct: number;
  readonly core1Pct: number;
  /** Largest proxy RSS seen in any run, MB. */
  readonly rssMaxMb: number;
  /** Errors summed over the runs. */
  readonly errors: number;
  /** Notes of the runs whose figures are suspect (the load generator fell behind, the proxy's core was shared). */
  readonly disturbed: readonly string[];
}

/** The outcome for one configuration in one load shape. */
export type Outcome = { readonly kind: 'measured'; readonly stats: Stats } | { readonly kind: 'unavailable'; readonly reason: string };

export interface Row {
  readonly config: ConfigInfo;
  readonly outcome: Outcome;
}

export function summarize(samples: readonly RunSample[]): Stats {
  const m = (f: (s: RunSample) => number): number => median(samples.map(f));
  return {
    runs: samples.length,
    rps: m((s) => s.load.rps),
    p50Ms: m((s) => s.load.p50Ms),
    p90Ms: m((s) => s.load.p90Ms),
    p99Ms: m((s) => s.load.p99Ms),
    cpuPct: m((s) => (100 * s.usage.cpuSeconds) / s.usage.seconds),
    cpuSecPer1k: m((s) => (s.load.requests > 0 ? (1000 * s.usage.cpuSeconds) / s.load.requests : Number.NaN)),
    reqPerCpuSec: m((s) => (s.usage.cpuSeconds > 0 ? s.load.requests / s.usage.cpuSeconds : Number.NaN)),
    core0Pct: m((s) => s.usage.core0Pct),
    core1Pct: m((s) => s.usage.core1Pct),
    rssMaxMb: Math.max(0, ...samples.map((s) => s.usage.rssMaxMb)),
    errors: samples.reduce((a, s) => a + s.load.errors, 0),
    disturbed: samples.flatMap((s) => (s.note !== undefined ? [s.note] : [])),
  };
}

/** The measured stats of the named configuration in these rows, if it was measured. */
export function statsOf(rows: readonly Row[], name: string): Stats | undefined {
  const row = rows.find((r) => r.config.name === name);
  return row?.outcome.kind === 'measured' ? row.outcome.stats : undefined;
}
