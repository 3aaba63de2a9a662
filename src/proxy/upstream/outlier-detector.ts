// Outlier detection for one cluster (cluster.outlier_detection), after Envoy's DetectorImpl
// (source/common/upstream/outlier_detection_impl.cc) and
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier:
// - consecutive 5xx (default 5, enforced 100%), consecutive gateway failures (502/503/504, default 5,
//   enforced 0% by default) and, with split_external_local_origin_errors, consecutive local-origin
//   failures (connect failure, timeout, reset; default 5, enforced 100%). Without the split, a
//   local-origin failure counts as a gateway error (Envoy maps it to 503/504);
// - success rate (mean − stdev × factor/1000 over hosts with enough volume) and failure percentage,
//   evaluated at each interval tick over the previous interval's counts;
// - an ejection lasts min(base_ejection_time × backoff, max_ejection_time) + jitter; backoff grows by 1
//   per ejection and shrinks by 1 per interval the host stays healthy after coming back;
// - a host is ejected only while (ejected + 1) / hosts ≤ max_ejection_percent (default 10%), or as the
//   first ejected host with always_eject_one_host; otherwise the ejection overflows;
// - hosts come back at interval ticks (default 10 s), as in Envoy, or at once when they pass an active
//   health check (successful_active_health_check_uneject_host, default true).
// The detector owns every host's mutable outlier state, keyed by host key; hosts themselves stay immutable.
// Not supported (reported by outlierDetectionProblems): outlier detection extension monitors.

import type { Duration } from '@bufbuild/protobuf/wkt';
import type { OutlierDetection } from '../../xds/gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';

/**
 * A request's outcome, or `active-hc-success`: an active health check the host passed, which brings an
 * ejected host back at once unless successful_active_health_check_uneject_host is false (Envoy's default: true).
 */
export type OutlierResult = '5xx' | 'gateway' | 'local-origin-failure' | 'success' | 'active-hc-success';

/** Envoy's OutlierEjectionType, as its stat suffix. */
export type EjectionType =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'local_origin_success_rate'
  | 'failure_percentage'
  | 'local_origin_failure_percentage';

export type OutlierEvent =
  | { readonly action: 'eject'; readonly hostKey: string; readonly type: EjectionType; readonly enforced: boolean; readonly numEjections: number }
  | { readonly action: 'uneject'; readonly hostKey: string; readonly numEjections: number }
  | { readonly action: 'overflow'; readonly hostKey: string; readonly type: EjectionType };

export interface OutlierConfig {
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionTimeJitterMs: number;
  readonly maxEjectionPercent: number;
  readonly alwaysEjectOneHost: boolean;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
  /** Percent chance that a detection becomes an ejection, per type. */
  readonly enforcing: { readonly [T in EjectionType]: number };
  /** successful_active_health_check_uneject_host: a passed active health check brings an ejected host back. */
  readonly successfulActiveHealthCheckUnejectHost: boolean;
}

function ms(d: Duration | undefined, dflt: number): number {
  return d === undefined ? dflt : Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

/** Reads the proto with Envoy's defaults (outlier_detection_impl.h DetectorConfig). */
export function compileOutlierConfig(p: OutlierDetection): OutlierConfig {
  const base = ms(p.baseEjectionTime, 30000);
  return Object.freeze({
    intervalMs: ms(p.interval, 10000),
    baseEjectionTimeMs: base,
    // "If not specified, the default value (300000ms or 300s) or base_ejection_time value is applied, whatever is larger."
    maxEjectionTimeMs: ms(p.maxEjectionTime, Math.max(300000, base)),
    maxEjectionTimeJitterMs: ms(p.maxEjectionTimeJitter, 0),
    maxEjectionPercent: p.maxEjectionPercent ?? 10,
    alwaysEjectOneHost: p.alwaysEjectOneHost ?? false,
    splitExternalLocalOriginErrors: p.splitExternalLocalOriginErrors,
    consecutive5xx: p.consecutive5xx ?? 5,
    consecutiveGatewayFailure: p.consecutiveGatewayFailure ?? 5,
    consecutiveLocalOriginFailure: p.consecutiveLocalOriginFailure ?? 5,
    successRateMinimumHosts: p.successRateMinimumHosts ?? 5,
    successRateRequestVolume: p.successRateRequestVolume ?? 100,
    successRateStdevFactor: p.successRateStdevFactor ?? 1900,
    failurePercentageThreshold: p.failurePercentageThreshold ?? 85,
    failurePercentageMinimumHosts: p.failurePercentageMinimumHosts ?? 5,
    failurePercentageRequestVolume: p.failurePercentageRequestVolume ?? 50,
    successfulActiveHealthCheckUnejectHost: p.successfulActiveHealthCheckUnejectHost ?? true,
    enforcing: Object.freeze({
      consecutive_5xx: p.enforcingConsecutive5xx ?? 100,
      consecutive_gateway_failure: p.enforcingConsecutiveGatewayFailure ?? 0,
      consecutive_local_origin_failure: p.enforcingConsecutiveLocalOriginFailure ?? 100,
      success_rate: p.enforcingSuccessRate ?? 100,
      local_origin_success_rate: p.enforcingLocalOriginSuccessRate ?? 100,
      failure_percentage: p.enforcingFailurePercentage ?? 0,
      local_origin_failure_percentage: p.enforcingFailurePercentageLocalOrigin ?? 0,
    }),
  });
}

/** What in the outlier_detection config we cannot honour or Envoy rejects. */
export function outlierDetectionProblems(p: OutlierDetection): string[] {
  const problems: string[] = [];
  const c = compileOutlierConfig(p);
  if (c.maxEjectionTimeMs < c.baseEjectionTimeMs) {
    problems.push("outlier_detection: outlier detector's max_ejection_time cannot be smaller than base_ejection_time");
  }
  if (c.intervalMs <= 0) problems.push('outlier_detection.interval: must be greater than 0');
  if (p.monitors.length > 0) problems.push('outlier_detection.monitors: outlier detection extensions are not supported');
  return problems;
}

export type OutlierStats = { -readonly [K in 'ejections_active' | 'ejections_overflow' | 'ejections_enforced_total' | `ejections_enforced_${EjectionType}` | `ejections_detected_${EjectionType}`]: number };

interface Bucket {
  success: number;
  total: number;
}

interface HostMonitor {
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  ejected: boolean;
  numEjections: number;
  backoff: number;
  jitterMs: number;
  lastEjectionMs: number | undefined;
  lastUnejectionMs: number | undefined;
  external: { current: Bucket; last: Bucket };
  local: { current: Bucket; last: Bucket };
}

function newMonitor(): HostMonitor {
  return {
    consecutive5xx: 0, consecutiveGateway: 0, consecutiveLocal: 0,
    ejected: false, numEjections: 0, backoff: 0, jitterMs: 0,
    lastEjectionMs: undefined, lastUnejectionMs: undefined,
    external: { current: { success: 0, total: 0 }, last: { success: 0, total: 0 } },
    local: { current: { success: 0, total: 0 }, last: { success: 0, total: 0 } },
  };
}

const EJECTION_TYPES: readonly EjectionType[] = [
  'consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure',
  'success_rate', 'local_origin_success_rate', 'failure_percentage', 'local_origin_failure_percentage',
];

function zeroStats(): OutlierStats {
  const s: Record<string, number> = { ejections_active: 0, ejections_overflow: 0, ejections_enforced_total: 0 };
  for (const t of EJECTION_TYPES) {
    s[`ejections_enforced_${t}`] = 0;
    s[`ejections_detected_${t}`] = 0;
  }
  return s as OutlierStats;
}

/**
 * What a cluster asks of outlier detection on its request path: the detector itself in a single process, or
 * (with `--concurrency N`) a worker's relay to the one detector the primary runs for the whole proxy, as
 * Envoy's workers report to the one detector on its main thread.
 */
export interface HostOutlierState {
  setHosts(keys: Iterable<string>): void;
  reportResult(hostKey: string, kind: OutlierResult): void;
  isEjected(hostKey: string): boolean;
  /** Changes whenever some host is ejected or returns; for LbDeps.healthVersion. */
  version(): number;
  close(): void;
}

export class OutlierDetector implements HostOutlierState {
  readonly config: OutlierConfig;
  private readonly hosts = new Map<string, HostMonitor>();
  private readonly counters = zeroStats();
  private timer: { cancel(): void } | undefined;
  private changes = 0;

  constructor(
    config: OutlierDetection | OutlierConfig,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly onEvent?: (e: OutlierEvent) => void,
  ) {
    this.config = 'enforcing' in config ? config : compileOutlierConfig(config);
    this.arm();
  }

  /** Replaces the set of hosts watched; state of hosts that stay is kept. */
  setHosts(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const [key, m] of this.hosts) {
      if (keep.has(key)) continue;
      if (m.ejected) {
        this.counters.ejections_active--;
        this.changes++;
      }
      this.hosts.delete(key);
    }
    for (const key of keep) if (!this.hosts.has(key)) this.hosts.set(key, newMonitor());
  }

  /** Records the outcome of one request to `hostKey`; results for unknown hosts are ignored. */
  reportResult(hostKey: string, kind: OutlierResult): void {
    const m = this.hosts.get(hostKey);
    if (m === undefined) return;
    const c = this.config;
    if (kind === 'active-hc-success') {
      // Envoy's DetectorImpl: a host that passes an active check while ejected comes back now, its counters
      // cleared, whatever is left of its ejection time (it is not a request: no success-rate count).
      if (m.ejected && c.successfulActiveHealthCheckUnejectHost) this.uneject(hostKey, m, this.clock.now());
      return;
    }
    if (kind === 'local-origin-failure' && c.splitExternalLocalOriginErrors) {
      m.local.current.total++;
      if (++m.consecutiveLocal === c.consecutiveLocalOriginFailure) this.onConsecutive(hostKey, m, 'consecutive_local_origin_failure');
      return;
    }
    if (c.splitExternalLocalOriginErrors) {
      // The connection worked (the router reports LocalOriginConnectSuccess before the response).
      m.local.current.total++;
      m.local.current.success++;
      m.consecutiveLocal = 0;
    }
    m.external.current.total++;
    if (kind === 'success') {
      m.external.current.success++;
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
      return;
    }
    // Without the split a local-origin failure is reported as 503/504, i.e. a gateway error.
    if (kind === 'gateway' || kind === 'local-origin-failure') {
      if (++m.consecutiveGateway === c.consecutiveGatewayFailure) this.onConsecutive(hostKey, m, 'consecutive_gateway_failure');
    } else {
      m.consecutiveGateway = 0;
    }
    if (++m.consecutive5xx === c.consecutive5xx) this.onConsecutive(hostKey, m, 'consecutive_5xx');
  }

  /**
   * Records `count` outcomes of the same kind in a row (a worker's batch, outlier-relay.ts): the same as
   * `count` calls of reportResult, with a run of successes counted at once.
   */
  reportResults(hostKey: string, kind: OutlierResult, count: number): void {
    const m = this.hosts.get(hostKey);
    if (m === undefined || count <= 0) return;
    if (kind !== 'success') {
      for (let i = 0; i < count; i++) this.reportResult(hostKey, kind);
      return;
    }
    if (this.config.splitExternalLocalOriginErrors) {
      m.local.current.total += count;
      m.local.current.success += count;
      m.consecutiveLocal = 0;
    }
    m.external.current.total += count;
    m.external.current.success += count;
    m.consecutive5xx = 0;
    m.consecutiveGateway = 0;
  }

  isEjected(hostKey: string): boolean {
    return this.hosts.get(hostKey)?.ejected === true;
  }

  /** The hosts ejected now. */
  ejectedHosts(): string[] {
    const out: string[] = [];
    for (const [key, m] of this.hosts) if (m.ejected) out.push(key);
    return out;
  }

  /** How many hosts are ejected now (Envoy's ejections_active). */
  ejectionCount(): number {
    return this.counters.ejections_active;
  }

  /** How many times `hostKey` has been ejected. */
  numEjections(hostKey: string): number {
    return this.hosts.get(hostKey)?.numEjections ?? 0;
  }

  /** Changes whenever some host is ejected or returns; for LbDeps.healthVersion. */
  version(): number {
    return this.changes;
  }

  stats(): Readonly<OutlierStats> {
    return this.counters;
  }

  /** Stops the interval timer. */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => this.onInterval(), this.config.intervalMs);
  }

  private onConsecutive(key: string, m: HostMonitor, type: EjectionType): void {
    if (m.ejected) return;
    this.counters[`ejections_detected_${type}`]++;
    this.eject(key, m, type);
    if (type === 'consecutive_5xx') m.consecutive5xx = 0;
    else if (type === 'consecutive_gateway_failure') m.consecutiveGateway = 0;
    else m.consecutiveLocal = 0;
  }

  private eject(key: string, m: HostMonitor, type: EjectionType): void {
    const c = this.config;
    const maxPercent = Math.min(100, c.maxEjectionPercent);
    const ejectedPercent = (100 * (this.counters.ejections_active + 1)) / this.hosts.size;
    let shouldEject = ejectedPercent <= maxPercent;
    if (c.alwaysEjectOneHost) shouldEject = shouldEject || this.counters.ejections_active === 0;
    if (!shouldEject) {
      this.counters.ejections_overflow++;
      this.onEvent?.({ action: 'overflow', hostKey: key, type });
      return;
    }
    if (!(this.random.next() * 100 < c.enforcing[type])) {
      this.onEvent?.({ action: 'eject', hostKey: key, type, enforced: false, numEjections: m.numEjections });
      return;
    }
    const now = this.clock.now();
    this.counters.ejections_active++;
    this.counters.ejections_enforced_total++;
    this.counters[`ejections_enforced_${type}`]++;
    m.ejected = true;
    m.numEjections++;
    m.lastEjectionMs = now;
    m.jitterMs = Math.floor(this.random.next() * (c.maxEjectionTimeJitterMs + 1));
    if (m.backoff * c.baseEjectionTimeMs < c.maxEjectionTimeMs + c.baseEjectionTimeMs) m.backoff++;
    this.changes++;
    this.onEvent?.({ action: 'eject', hostKey: key, type, enforced: true, numEjections: m.numEjections });
  }

  private uneject(key: string, m: HostMonitor, now: number): void {
    this.counters.ejections_active--;
    m.ejected = false;
    m.consecutive5xx = 0;
    m.consecutiveGateway = 0;
    m.consecutiveLocal = 0;
    m.lastUnejectionMs = now;
    this.changes++;
    this.onEvent?.({ action: 'uneject', hostKey: key, numEjections: m.numEjections });
  }

  private onInterval(): void {
    const c = this.config;
    const now = this.clock.now();
    for (const [key, m] of this.hosts) {
      if (m.ejected && m.lastEjectionMs !== undefined) {
        const duration = Math.min(c.baseEjectionTimeMs * m.backoff, c.maxEjectionTimeMs) + m.jitterMs;
        if (duration <= now - m.lastEjectionMs) this.uneject(key, m, now);
      }
      for (const sr of [m.external, m.local]) {
        sr.last = sr.current;
        sr.current = { success: 0, total: 0 };
      }
    }
    this.successRateEjections('external');
    this.successRateEjections('local');
    for (const m of this.hosts.values()) {
      if (!m.ejected && m.lastUnejectionMs !== undefined && now - m.lastUnejectionMs >= c.intervalMs && m.backoff > 0) m.backoff--;
    }
    this.arm();
  }

  private successRateEjections(origin: 'external' | 'local'): void {
    const c = this.config;
    const n = this.hosts.size;
    if (n < c.successRateMinimumHosts && n < c.failurePercentageMinimumHosts) return;
    const sr: { key: string; m: HostMonitor; rate: number }[] = [];
    const fp: { key: string; m: HostMonitor; rate: number }[] = [];
    let sum = 0;
    for (const [key, m] of this.hosts) {
      if (m.ejected) continue;
      const b = m[origin].last;
      if (b.total === 0) continue;
      const rate = (b.success * 100) / b.total;
      if (b.total >= c.successRateRequestVolume) {
        sr.push({ key, m, rate });
        sum += rate;
      }
      if (b.total >= c.failurePercentageRequestVolume) fp.push({ key, m, rate });
    }
    if (sr.length > 0 && sr.length >= c.successRateMinimumHosts) {
      const mean = sum / sr.length;
      let variance = 0;
      for (const h of sr) variance += (h.rate - mean) ** 2;
      const threshold = mean - (c.successRateStdevFactor / 1000) * Math.sqrt(variance / sr.length);
      const type: EjectionType = origin === 'external' ? 'success_rate' : 'local_origin_success_rate';
      for (const h of sr) {
        if (h.rate < threshold && !h.m.ejected) {
          this.counters[`ejections_detected_${type}`]++;
          this.eject(h.key, h.m, type);
        }
      }
    }
    if (fp.length > 0 && fp.length >= c.failurePercentageMinimumHosts) {
      const type: EjectionType = origin === 'external' ? 'failure_percentage' : 'local_origin_failure_percentage';
      for (const h of fp) {
        if (100 - h.rate >= c.failurePercentageThreshold && !h.m.ejected) {
          this.counters[`ejections_detected_${type}`]++;
          this.eject(h.key, h.m, type);
        }
      }
    }
  }
}
