// Active health checking for one cluster (cluster.health_checks), after Envoy's HealthCheckerImplBase
// (source/extensions/health_checkers/common/health_checker_base_impl.cc) and
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking:
// - every checked host starts failed (FAILED_ACTIVE_HC, plus PENDING_ACTIVE_HC when the cluster sets
//   common_lb_config.ignore_new_hosts_until_first_hc) and is checked at once (after a random
//   0..initial_jitter delay when set); the first passing check makes it healthy immediately, later ones
//   need healthy_threshold passes in a row;
// - network failures (connect error, reset, timeout) need unhealthy_threshold in a row; an active failure
//   (bad status or payload) fails the host at once unless its status is retriable;
// - the next check waits `interval`, or unhealthy_interval after a failed check, or the healthy/unhealthy
//   edge interval while a transition is pending; until the cluster has carried traffic it waits
//   no_traffic_interval (60 s) instead, or no_traffic_healthy_interval after a pass; then interval_jitter
//   and interval_jitter_percent add a random amount; a check times out after `timeout`;
// - a host with health_check_config.disable_active_health_check is never checked nor failed.
// State lives per host key and survives host-set updates; a host that leaves has its session closed, and
// a host whose check target changed starts over. Timers come from the injected Clock, jitter from Random.
// The checker does not touch host sets or balancers: the cluster asks isFailed()/version() and is told of
// changes through onHealthChange.

import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import { transportFor, type CompiledCluster } from '../runtime/compile-cluster.js';
import type { SecretSource } from './connection-pools.js';
import type { CompiledHealthCheck } from './health-checker-config.js';
import type { HostHealthFlags } from './health-checker-flags.js';
import { GrpcProbe } from './health-checker-grpc.js';
import type { HostCheckSpec } from './health-checker-hosts.js';
import { Http1Probe, Http2Probe } from './health-checker-http.js';
import type { Probe, ProbeOutcome, ProbeReport, ProbeTarget } from './health-checker-probe.js';
import { TcpProbe } from './health-checker-tcp.js';
import type { Counter, Gauge } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';

export type ProbeFactory = (config: CompiledHealthCheck, target: ProbeTarget, report: ProbeReport) => Probe;

export interface HealthCheckerDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly secrets: SecretSource;
  /** Whether the cluster has carried traffic yet (Envoy: upstream_cx_total used); until then no_traffic_interval applies. */
  hasTraffic(): boolean;
  /** Called after a host's failed state flipped (isFailed and version already reflect it). */
  onHealthChange?(key: string, failed: boolean): void;
  /** Called after every check a host passed while not failed by active checks (for outlier detection's uneject). */
  onHealthyCheck?(key: string): void;
  /** Called after every check's result was taken (flags() reflects it), passed or failed. */
  onChecked?(key: string): void;
  /** How probes are built; the default talks HTTP, gRPC or TCP to the host. */
  readonly probeFactory?: ProbeFactory;
  /** The cluster's stats scope (`cluster.<stat name>`): Envoy's `health_check.*` are counted under it. */
  readonly stats?: StatsScope;
}

/**
 * What a cluster asks of active health checking: the checker itself (HealthChecker) in a single process, or
 * a `--concurrency` worker's view of the primary's checker (workers/health-relay.ts).
 */
export interface ActiveHealth {
  /** Whether active health checking currently fails the host (FAILED_ACTIVE_HC). */
  isFailed(key: string): boolean;
  /** The host's active-HC flags; undefined for hosts not checked. */
  flags(key: string): HostHealthFlags | undefined;
  /** Changes whenever any host's failed state or the checked host list changes. */
  version(): number;
  /** The cluster's hosts to check (those with disable_active_health_check are not). */
  setHosts(specs: Iterable<HostCheckSpec>): void;
  /** The cluster carried its first request or connection (no_traffic_interval no longer applies). */
  noteTraffic?(): void;
  /** An upstream response said x-envoy-immediate-health-check-fail: the host fails at once (a passive failure). */
  failImmediately?(key: string): void;
  close(): void;
}

/** Envoy's health_check.* cluster stats. */
export interface HealthCheckStats {
  attempt: number;
  success: number;
  failure: number;
  network_failure: number;
  passive_failure: number;
  verify_cluster: number;
}

type Transition = 'unchanged' | 'pending' | 'changed';

export const createProbe: ProbeFactory = (config, target, report) => {
  const p = config.probe;
  switch (p.kind) {
    case 'http':
      return p.codec === 'http2' ? new Http2Probe(p, target, report) : new Http1Probe(p, target, report);
    case 'tcp':
      return new TcpProbe(p, target, report);
    case 'grpc':
      return new GrpcProbe(p, target, report);
  }
};

function sameTarget(a: ProbeTarget, b: ProbeTarget): boolean {
  return a.address === b.address && a.port === b.port && a.authority === b.authority && a.transport === b.transport;
}

class Session {
  failed = true;
  pending: boolean;
  degraded = false;
  excluded = false;
  timedOut = false;
  #first = true;
  #healthyRun = 0;
  #unhealthyRun = 0;
  #inFlight = false;
  #closed = false;
  #intervalTimer: { cancel(): void } | undefined;
  #timeoutTimer: { cancel(): void } | undefined;
  readonly probe: Probe;

  constructor(
    private readonly parent: HealthChecker,
    readonly key: string,
    readonly target: ProbeTarget,
    pending: boolean,
    factory: ProbeFactory,
  ) {
    this.pending = pending;
    this.probe = factory(parent.config, target, (o) => this.#report(o));
  }

  start(): void {
    const jitter = this.parent.config.initialJitterMs;
    if (jitter === 0) this.#check();
    else this.#schedule(this.parent.withJitter(0, jitter));
  }

  #schedule(ms: number): void {
    this.#intervalTimer?.cancel();
    this.#intervalTimer = this.parent.deps.clock.setTimeout(() => {
      this.#intervalTimer = undefined;
      this.#check();
    }, ms);
  }

  #check(): void {
    if (this.#closed) return;
    this.#inFlight = true;
    this.parent.count('attempt');
    // The timeout is armed first so that a probe answering synchronously cancels it.
    this.#timeoutTimer = this.parent.deps.clock.setTimeout(() => this.#onTimeout(), this.parent.config.timeoutMs);
    this.probe.run();
  }

  #onTimeout(): void {
    this.#timeoutTimer = undefined;
    if (this.#closed || !this.#inFlight) return;
    this.#inFlight = false;
    this.probe.abort();
    this.#failure('timeout', false, false);
  }

  #report(o: ProbeOutcome): void {
    if (this.#closed) return;
    this.#timeoutTimer?.cancel();
    this.#timeoutTimer = undefined;
    this.#inFlight = false;
    if (o.verifiedCluster === true) this.parent.count('verify_cluster');
    if (o.ok) this.#success(o.degraded);
    else this.#failure(o.type, o.retriable, o.excludeImmediately);
  }

  /** PENDING_ACTIVE_HC goes with the first result, which counts as a change (Envoy's clearPendingFlag). */
  #clearPending(t: Transition): Transition {
    if (!this.pending) return t;
    this.pending = false;
    return 'changed';
  }

  #success(degraded: boolean): void {
    this.#unhealthyRun = 0;
    let t: Transition = 'unchanged';
    let flipped = false;
    if (this.failed) {
      // The first result ever flips a host to healthy at once (faster startup, as Envoy does).
      if (this.#first || ++this.#healthyRun === this.parent.config.healthyThreshold) {
        this.failed = false;
        this.timedOut = false;
        this.excluded = false;
        flipped = true;
        t = 'changed';
      } else {
        t = 'pending';
      }
    }
    t = this.#clearPending(t);
    if (degraded !== this.degraded) {
      this.degraded = degraded;
      if (t === 'unchanged') t = 'changed';
    }
    this.parent.count('success');
    this.#first = false;
    if (flipped) this.parent.changed(this.key, false);
    if (!this.failed) this.parent.deps.onHealthyCheck?.(this.key);
    if (t === 'changed') this.parent.refreshGauges(); // the gauges count failed and degraded: only a change moves them
    this.parent.deps.onChecked?.(this.key);
    if (!this.#closed) this.#schedule(this.parent.nextInterval('healthy', t));
  }

  #failure(type: 'network' | 'timeout' | 'active', retriable: boolean, excludeImmediately: boolean): void {
    this.#healthyRun = 0;
    let t: Transition = 'unchanged';
    let flipped = false;
    if (excludeImmediately) this.excluded = true;
    if (!this.failed) {
      if ((type === 'active' && !retriable) || ++this.#unhealthyRun === this.parent.config.unhealthyThreshold) {
        this.failed = true;
        flipped = true;
        t = 'changed';
      } else {
        t = 'pending';
      }
    }
    // A failed host that keeps timing out shows /active_hc_timeout; any other failure clears it.
    this.timedOut = type === 'timeout' && this.failed;
    t = this.#clearPending(t);
    this.parent.count('failure');
    if (type !== 'active') this.parent.count('network_failure');
    this.#first = false;
    if (flipped) {
      this.parent.changed(this.key, true);
      this.parent.refreshGauges();
    }
    this.parent.deps.onChecked?.(this.key);
    if (!this.#closed) this.#schedule(this.parent.nextInterval('unhealthy', t));
  }

  /** Envoy's setUnhealthy(PASSIVE, retriable=false), without rescheduling the next check. */
  failPassively(): void {
    if (this.#closed) return;
    this.excluded = true;
    this.#healthyRun = 0;
    const flipped = !this.failed;
    this.failed = true;
    this.timedOut = false;
    this.pending = false;
    this.parent.count('failure');
    this.parent.count('passive_failure');
    this.#first = false;
    if (flipped) {
      this.parent.changed(this.key, true);
      this.parent.refreshGauges();
    }
    this.parent.deps.onChecked?.(this.key);
  }

  close(): void {
    this.#closed = true;
    this.#intervalTimer?.cancel();
    this.#timeoutTimer?.cancel();
    this.probe.close();
  }
}

export class HealthChecker implements ActiveHealth {
  readonly #sessions = new Map<string, Session>();
  readonly #factory: ProbeFactory;
  #version = 0;
  #closed = false;
  readonly stats: HealthCheckStats = { attempt: 0, success: 0, failure: 0, network_failure: 0, passive_failure: 0, verify_cluster: 0 };
  /** Envoy's health_check.* in the proxy's store (HealthCheckerStats: the counters, and the healthy and degraded gauges). */
  readonly #envoy: { readonly counters: Record<keyof HealthCheckStats, Counter>; readonly healthy: Gauge; readonly degraded: Gauge } | undefined;

  constructor(
    readonly config: CompiledHealthCheck,
    private readonly cluster: CompiledCluster,
    readonly deps: HealthCheckerDeps,
    /** common_lb_config.ignore_new_hosts_until_first_hc: new hosts also carry PENDING_ACTIVE_HC. */
    private readonly warmHosts = false,
  ) {
    this.#factory = deps.probeFactory ?? createProbe;
    const st = deps.stats?.scope('health_check');
    this.#envoy =
      st === undefined
        ? undefined
        : {
            counters: {
              attempt: st.counter('attempt'),
              success: st.counter('success'),
              failure: st.counter('failure'),
              network_failure: st.counter('network_failure'),
              passive_failure: st.counter('passive_failure'),
              verify_cluster: st.counter('verify_cluster'),
            },
            healthy: st.gauge('healthy'),
            degraded: st.gauge('degraded'),
          };
  }

  /** @internal Counts a check's attempt or result. */
  count(what: keyof HealthCheckStats): void {
    this.stats[what]++;
    this.#envoy?.counters[what].inc();
  }

  /** @internal The healthy and degraded gauges, after a check or a change of hosts: hosts passing, and passing as degraded. */
  refreshGauges(): void {
    const e = this.#envoy;
    if (e === undefined) return;
    let healthy = 0;
    let degraded = 0;
    for (const s of this.#sessions.values()) {
      if (s.failed) continue;
      if (s.degraded) degraded++;
      else healthy++;
    }
    e.healthy.set(healthy);
    e.degraded.set(degraded);
  }

  /** Reconciles sessions with the cluster's hosts: new ones start failed and are checked, gone ones stop. */
  setHosts(specs: Iterable<HostCheckSpec>): void {
    if (this.#closed) return;
    const seen = new Set<string>();
    const started: Session[] = [];
    for (const spec of specs) {
      if (spec.disabled) continue;
      seen.add(spec.key);
      const target = this.#target(spec);
      const old = this.#sessions.get(spec.key);
      if (old !== undefined && sameTarget(old.target, target)) continue;
      old?.close();
      const s = new Session(this, spec.key, target, this.warmHosts, this.#factory);
      this.#sessions.set(spec.key, s);
      started.push(s);
    }
    for (const [key, s] of this.#sessions) {
      if (seen.has(key)) continue;
      s.close();
      this.#sessions.delete(key);
    }
    this.#version++;
    this.refreshGauges();
    for (const s of started) s.start();
  }

  #target(spec: HostCheckSpec): ProbeTarget {
    const p = this.config.probe;
    const configured = p.kind === 'http' ? p.host : p.kind === 'grpc' ? p.authority : '';
    return {
      address: spec.address,
      port: spec.port,
      authority: configured || spec.hostname || this.cluster.name,
      transport: transportFor(this.cluster, this.config.transportMatch ?? spec.socketMatch),
      alpn: this.config.alpn,
      localAddress: this.cluster.bindAddress,
      secrets: this.deps.secrets,
      reuseConnection: this.config.reuseConnection,
      timeoutMs: this.config.timeoutMs,
    };
  }

  /** Whether active health checking currently fails the host (FAILED_ACTIVE_HC). */
  isFailed(key: string): boolean {
    return this.#sessions.get(key)?.failed ?? false;
  }

  /**
   * x-envoy-immediate-health-check-fail on an upstream response (Envoy's setUnhealthyCrossThread): the host is
   * excluded and fails at once, counted as a passive failure; its next check keeps its time. A host not checked
   * is left alone, as Envoy does.
   */
  failImmediately(key: string): void {
    this.#sessions.get(key)?.failPassively();
  }

  /** The host's active-HC flags; undefined for hosts not checked. */
  flags(key: string): HostHealthFlags | undefined {
    const s = this.#sessions.get(key);
    if (s === undefined) return undefined;
    return {
      failedActiveHc: s.failed,
      degradedActiveHc: s.degraded,
      pendingActiveHc: s.pending,
      excludedViaImmediateHcFail: s.excluded,
      activeHcTimeout: s.timedOut,
    };
  }

  /** Changes whenever any host's failed state or the checked host list changes. */
  version(): number {
    return this.#version;
  }

  /** Hosts passing their checks (Envoy's health_check.healthy gauge). */
  healthyCount(): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (!s.failed) n++;
    return n;
  }

  /** @internal Called by a session whose failed state flipped. */
  changed(key: string, failed: boolean): void {
    this.#version++;
    this.deps.onHealthChange?.(key, failed);
  }

  /** @internal The wait before a host's next check, after a check with `result`. */
  nextInterval(result: 'healthy' | 'unhealthy', t: Transition): number {
    const c = this.config;
    let base: number;
    if (this.deps.hasTraffic()) {
      if (result === 'unhealthy') base = t === 'pending' ? c.unhealthyEdgeIntervalMs : c.unhealthyIntervalMs;
      else base = t === 'pending' ? c.healthyEdgeIntervalMs : c.intervalMs;
    } else {
      base = result === 'healthy' && t !== 'pending' ? c.noTrafficHealthyIntervalMs : c.noTrafficIntervalMs;
    }
    return this.withJitter(base, c.intervalJitterMs);
  }

  /** @internal `base` plus random jitter: up to interval_jitter_percent of it, and up to `jitterMs`; at least 1 ms. */
  withJitter(base: number, jitterMs: number): number {
    let ms = base;
    const percentMod = Math.floor((this.config.intervalJitterPercent * base) / 100);
    if (percentMod > 0) ms += Math.floor(this.deps.random.next() * percentMod);
    if (jitterMs > 0) ms += Math.floor(this.deps.random.next() * jitterMs);
    return Math.max(1, ms);
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }
}
