// The messages between the primary process and its workers (`isthmus proxy --concurrency N`), and the
// guards that check them on arrival: the IPC channel is an edge, so what comes off it is `unknown` until a
// guard says otherwise. The channel uses Node's 'advanced' serialization (structured clone), so resource
// bytes and histogram bins travel as typed arrays, not base64.
//
// A worker speaks first ('hello') once it listens for messages: a message the primary sent before the
// worker's module had registered its handler would be lost. This file owns the shapes only; who sends
// what, when, lives in primary.ts and worker.ts.

import type { OwnWorkload } from '../telemetry/istio-metrics.js';
import type { ProxyTypeUrl } from '../xds-client/validate.js';
import { PROXY_TYPES } from '../xds-client/validate.js';
import type { FamilyMembership } from '../stats/metric.js';
import type { OutlierResult } from '../upstream/outlier-detector.js';
import type { HostHealthFlags } from '../upstream/health-checker-flags.js';

/** One accepted resource as the primary's ADS client holds it, re-encoded as the proto's binary form. */
export interface WireEntry {
  readonly name: string;
  readonly version: string;
  readonly lastUpdated: string;
  readonly bytes: Uint8Array;
}

/** A whole table of one type (tables are replaced whole, as in the ADS client). */
export interface WireTable {
  readonly type: ProxyTypeUrl;
  readonly entries: readonly WireEntry[];
}

export interface ScalarSnapshot {
  readonly name: string;
  readonly value: number;
  readonly used: boolean;
  readonly family?: FamilyMembership;
  /** Every worker holds the same value (Counter.shared / Gauge.shared). */
  readonly shared?: true;
}

export interface HistogramSnapshot {
  readonly name: string;
  readonly bounds: readonly number[];
  /** Per-bucket (not cumulative) counts; the last is the +Inf overflow. */
  readonly bucketCounts: Float64Array;
  readonly count: number;
  readonly sum: number;
  readonly used: boolean;
  /** Values <= 0, and the log-linear bins quantiles are computed from (undefined: nothing positive yet). */
  readonly zeros: number;
  readonly bins: Uint32Array | undefined;
  readonly family?: FamilyMembership;
}

export interface StatsSnapshot {
  readonly counters: readonly ScalarSnapshot[];
  readonly gauges: readonly ScalarSnapshot[];
  readonly histograms: readonly HistogramSnapshot[];
}

export interface WorkerSettings {
  /** 0..N-1, kept by a restarted worker (Envoy's `worker_<id>`). */
  readonly slot: number;
  /** How many workers the primary runs (circuit breaker limits are shared among them). */
  readonly concurrency?: number;
  readonly logLevel: string;
  readonly captureAddress?: string;
  readonly bindAddress?: string;
  readonly appAddress?: string;
  readonly portMap?: readonly (readonly [number, number])[];
  /**
   * Wasm plugins: the module cache, registries without TLS verification, the sandbox limits, the node for
   * `node.*`, and the descriptor of the channel to the primary's shared data, shared queues and
   * environment (host_env_keys).
   */
  readonly wasm?: {
    readonly cacheDir?: string;
    readonly insecureRegistries?: readonly string[];
    readonly cpuLimitMs?: number;
    readonly maxMemoryPages?: number;
    readonly node: { readonly id: string; readonly cluster: string; readonly metadata: Readonly<Record<string, string>> };
    readonly sharedStoreFd?: number;
  };
  /** The proxy's workload for Istio's metadata exchange and metrics (from the primary's node). */
  readonly workload?: OwnWorkload;
}

/** A workload certificate as it crosses to a worker. */
export interface WireIdentity {
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly rootPem: string;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spiffeId: string;
  readonly receivedAt: number;
}

/** The order of OutlierResult kinds as numbers in WireOutlierResults.runs. */
export const OUTLIER_RESULT_KINDS: readonly OutlierResult[] = ['success', '5xx', 'gateway', 'local-origin-failure', 'active-hc-success'];

/**
 * One host's request outcomes a worker saw since its last batch (outlier-relay.ts), in order, as runs:
 * `[kind, count, kind, count, ...]` with kind an index into OUTLIER_RESULT_KINDS.
 */
export interface WireOutlierResults {
  readonly cluster: string;
  readonly host: string;
  readonly runs: readonly number[];
}

/** A host's active health check flags as the primary's checker holds them: `[host key, bits of HEALTH_FLAG_BITS]`. */
export type WireHostHealth = readonly [key: string, flags: number];

/** The active-HC flags of HostHealthFlags, one bit each (in this order). */
export const HEALTH_FLAG_BITS = ['failedActiveHc', 'degradedActiveHc', 'pendingActiveHc', 'excludedViaImmediateHcFail', 'activeHcTimeout'] as const satisfies readonly (keyof HostHealthFlags)[];

export function encodeHealthFlags(f: HostHealthFlags): number {
  let bits = 0;
  HEALTH_FLAG_BITS.forEach((k, i) => {
    if (f[k] === true) bits |= 1 << i;
  });
  return bits;
}

export function decodeHealthFlags(bits: number): HostHealthFlags {
  const f: Partial<Record<(typeof HEALTH_FLAG_BITS)[number], boolean>> = {};
  HEALTH_FLAG_BITS.forEach((k, i) => (f[k] = (bits & (1 << i)) !== 0));
  return f;
}

/** Primary -> worker. */
export type ToWorker =
  | { readonly t: 'init'; readonly settings: WorkerSettings }
  /** Tables that changed since the last message (all of them for a new worker). */
  | { readonly t: 'config'; readonly generation: number; readonly initialized: boolean; readonly tables: readonly WireTable[] }
  | { readonly t: 'stats'; readonly id: number }
  | { readonly t: 'log-level'; readonly level: string }
  | { readonly t: 'drain'; readonly timeoutMs: number }
  /** The workload certificate the primary's agent holds (SDS `default` / `ROOTCA`), sent on each renewal. */
  | { readonly t: 'identity'; readonly identity: WireIdentity }
  /** A shared queue a VM of this worker registered last has data (proxy_on_queue_ready). */
  | { readonly t: 'queue-ready'; readonly token: number }
  /** The hosts of a cluster the primary's outlier detector has ejected now (outlier-hub.ts). */
  | { readonly t: 'outlier-state'; readonly cluster: string; readonly ejected: readonly string[] }
  /** A DNS cluster's hosts as the primary last resolved them (dns-hub.ts): a ClusterLoadAssignment's bytes. */
  | { readonly t: 'dns-hosts'; readonly cluster: string; readonly assignment: Uint8Array }
  /** Every host the primary's active health checker checks for a cluster, with its flags (health-hub.ts). */
  | { readonly t: 'health-state'; readonly cluster: string; readonly hosts: readonly WireHostHealth[] };

/** Worker -> primary. */
export type FromWorker =
  | { readonly t: 'hello' }
  /** Every config up to `generation` is applied and its listeners bound (or their bind errors logged). */
  | { readonly t: 'applied'; readonly generation: number; readonly initialized: boolean }
  | { readonly t: 'stats'; readonly id: number; readonly snapshot: StatsSnapshot }
  /** Request outcomes for the primary's outlier detectors. */
  | { readonly t: 'outlier-results'; readonly results: readonly WireOutlierResults[] }
  /** A cluster of this worker carried its first request or connection (for the health checker's no_traffic_interval). */
  | { readonly t: 'health-traffic'; readonly cluster: string }
  /** An upstream response of `host` said x-envoy-immediate-health-check-fail (the primary's checker fails it at once). */
  | { readonly t: 'health-fail'; readonly cluster: string; readonly host: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

function isProxyType(v: unknown): v is ProxyTypeUrl {
  return PROXY_TYPES.includes(v as ProxyTypeUrl);
}

function isWireTable(v: unknown): v is WireTable {
  return (
    isObject(v) &&
    isProxyType(v['type']) &&
    Array.isArray(v['entries']) &&
    v['entries'].every((e: unknown) => isObject(e) && isString(e['name']) && isString(e['version']) && isString(e['lastUpdated']) && e['bytes'] instanceof Uint8Array)
  );
}

function isWasmSettings(v: unknown): boolean {
  if (!isObject(v) || !isObject(v['node'])) return false;
  const n = v['node'];
  return (
    (v['cacheDir'] === undefined || isString(v['cacheDir'])) &&
    (v['insecureRegistries'] === undefined || (Array.isArray(v['insecureRegistries']) && v['insecureRegistries'].every(isString))) &&
    (v['cpuLimitMs'] === undefined || isNumber(v['cpuLimitMs'])) &&
    (v['maxMemoryPages'] === undefined || isNumber(v['maxMemoryPages'])) &&
    (v['sharedStoreFd'] === undefined || (Number.isInteger(v['sharedStoreFd']) && (v['sharedStoreFd'] as number) >= 0)) &&
    isString(n['id']) &&
    isString(n['cluster']) &&
    isObject(n['metadata']) &&
    Object.values(n['metadata']).every(isString)
  );
}

const WORKLOAD_FIELDS = ['instanceName', 'namespace', 'workloadName', 'clusterId', 'canonicalName', 'canonicalRevision', 'appName', 'appVersion'] as const;

function isWorkload(v: unknown): boolean {
  return isObject(v) && isString(v['nodeId']) && isString(v['header']) && isObject(v['metadata']) && WORKLOAD_FIELDS.every((k) => isString((v['metadata'] as Record<string, unknown>)[k]));
}

function isSettings(v: unknown): v is WorkerSettings {
  return (
    isObject(v) &&
    isNumber(v['slot']) &&
    (v['concurrency'] === undefined || (Number.isInteger(v['concurrency']) && (v['concurrency'] as number) >= 1)) &&
    isString(v['logLevel']) &&
    (v['captureAddress'] === undefined || isString(v['captureAddress'])) &&
    (v['bindAddress'] === undefined || isString(v['bindAddress'])) &&
    (v['appAddress'] === undefined || isString(v['appAddress'])) &&
    (v['portMap'] === undefined || (Array.isArray(v['portMap']) && v['portMap'].every((p: unknown) => Array.isArray(p) && p.length === 2 && isNumber(p[0]) && isNumber(p[1])))) &&
    (v['wasm'] === undefined || isWasmSettings(v['wasm'])) &&
    (v['workload'] === undefined || isWorkload(v['workload']))
  );
}

function isFamily(v: unknown): boolean {
  return v === undefined || (isObject(v) && isString(v['familyName']) && Array.isArray(v['labelNames']) && Array.isArray(v['labelValues']));
}

function isScalar(v: unknown): v is ScalarSnapshot {
  return isObject(v) && isString(v['name']) && isNumber(v['value']) && isBool(v['used']) && isFamily(v['family']);
}

function isHistogram(v: unknown): v is HistogramSnapshot {
  return (
    isObject(v) &&
    isString(v['name']) &&
    Array.isArray(v['bounds']) &&
    v['bucketCounts'] instanceof Float64Array &&
    isNumber(v['count']) &&
    isNumber(v['sum']) &&
    isBool(v['used']) &&
    isNumber(v['zeros']) &&
    (v['bins'] === undefined || v['bins'] instanceof Uint32Array) &&
    isFamily(v['family'])
  );
}

function isSnapshot(v: unknown): v is StatsSnapshot {
  return (
    isObject(v) &&
    Array.isArray(v['counters']) &&
    v['counters'].every(isScalar) &&
    Array.isArray(v['gauges']) &&
    v['gauges'].every(isScalar) &&
    Array.isArray(v['histograms']) &&
    v['histograms'].every(isHistogram)
  );
}

function isOutlierResults(v: unknown): v is WireOutlierResults {
  if (!isObject(v) || !isString(v['cluster']) || !isString(v['host'])) return false;
  const runs = v['runs'];
  if (!Array.isArray(runs) || runs.length % 2 !== 0) return false;
  for (let i = 0; i < runs.length; i += 2) {
    const kind: unknown = runs[i];
    const count: unknown = runs[i + 1];
    if (!Number.isInteger(kind) || (kind as number) < 0 || (kind as number) >= OUTLIER_RESULT_KINDS.length) return false;
    if (!Number.isInteger(count) || (count as number) < 1) return false;
  }
  return true;
}

function isHostHealth(v: unknown): v is WireHostHealth {
  return Array.isArray(v) && v.length === 2 && isString(v[0]) && Number.isInteger(v[1]) && (v[1] as number) >= 0 && (v[1] as number) < 1 << HEALTH_FLAG_BITS.length;
}

/** The message if it is one a primary sends, else undefined. */
export function parseToWorker(m: unknown): ToWorker | undefined {
  if (!isObject(m)) return undefined;
  switch (m['t']) {
    case 'init':
      return isSettings(m['settings']) ? (m as ToWorker) : undefined;
    case 'config':
      return isNumber(m['generation']) && isBool(m['initialized']) && Array.isArray(m['tables']) && m['tables'].every(isWireTable) ? (m as ToWorker) : undefined;
    case 'stats':
      return isNumber(m['id']) ? (m as ToWorker) : undefined;
    case 'log-level':
      return isString(m['level']) ? (m as ToWorker) : undefined;
    case 'drain':
      return isNumber(m['timeoutMs']) ? (m as ToWorker) : undefined;
    case 'queue-ready':
      return Number.isInteger(m['token']) ? (m as ToWorker) : undefined;
    case 'outlier-state':
      return isString(m['cluster']) && Array.isArray(m['ejected']) && m['ejected'].every(isString) ? (m as ToWorker) : undefined;
    case 'dns-hosts':
      return isString(m['cluster']) && m['assignment'] instanceof Uint8Array ? (m as ToWorker) : undefined;
    case 'health-state':
      return isString(m['cluster']) && Array.isArray(m['hosts']) && m['hosts'].every(isHostHealth) ? (m as ToWorker) : undefined;
    case 'identity': {
      const i = m['identity'];
      return isObject(i) && ['certChainPem', 'keyPem', 'rootPem', 'serial', 'spiffeId'].every((k) => isString(i[k])) && ['notBefore', 'notAfter', 'receivedAt'].every((k) => isNumber(i[k])) ? (m as ToWorker) : undefined;
    }
    default:
      return undefined;
  }
}

/** The message if it is one a worker sends, else undefined. */
export function parseFromWorker(m: unknown): FromWorker | undefined {
  if (!isObject(m)) return undefined;
  switch (m['t']) {
    case 'hello':
      return { t: 'hello' };
    case 'applied':
      return isNumber(m['generation']) && isBool(m['initialized']) ? (m as FromWorker) : undefined;
    case 'stats':
      return isNumber(m['id']) && isSnapshot(m['snapshot']) ? (m as FromWorker) : undefined;
    case 'outlier-results':
      return Array.isArray(m['results']) && m['results'].every(isOutlierResults) ? (m as FromWorker) : undefined;
    case 'health-traffic':
      return isString(m['cluster']) ? (m as FromWorker) : undefined;
    case 'health-fail':
      return isString(m['cluster']) && isString(m['host']) ? (m as FromWorker) : undefined;
    default:
      return undefined;
  }
}
