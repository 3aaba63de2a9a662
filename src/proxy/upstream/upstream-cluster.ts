// One live upstream cluster: its compiled settings, its current host set (replaced whole on each EDS
// update), the load balancer built over it, circuit breakers, outlier detection and one connection pool
// per host and protocol (kept across host-set updates while the host stays). ORIGINAL_DST clusters
// (Passthrough) connect to the destination each request names. HTTP pools over TLS are kept per ALPN list
// (Istio's istio.alpn replaces the cluster's per request), and never offer the TCP metadata exchange's
// protocol: an HTTP connection must not negotiate `istio-peer-exchange`. With health_checks, a HealthChecker runs
// active checks on every host: a host failing them counts as unhealthy for load balancing (as an ejected
// one does), and a host EDS removes stays while it passes them unless ignore_health_on_host_removal
// (health-checker-hosts.ts).

import { recordLocalIdentity, recordPeerIdentity } from './tls-identity.js';
import type { UpstreamDispatcher } from './cluster-handle.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import { transportFor, type CompiledCluster, type TransportSettings } from '../runtime/compile-cluster.js';
import { healthClass, hostKey, hostSetFromAssignment, HostCountersTable, membershipChanged, type Host, type HostSet } from './host.js';
import { hostHealthStatus, OverrideHostSelector, overrideHostStatuses } from './override-host.js';
import { createLoadBalancer } from './lb/create-load-balancer.js';
import type { LoadBalancer } from './lb/types.js';
import { OutlierDetector, type HostOutlierState } from './outlier-detector.js';
import { breakerLimits, CircuitBreakers } from './circuit-breakers.js';
import { allowanceKey, SharedAllowance, type BreakerLedgerClient } from './shared-breakers.js';
import { ClusterStats } from './cluster-stats.js';
import type { StatsScope } from '../stats/stats-store.js';
import { ConnectionSlots, type SlotGrant } from './connection-slots.js';
import { createPool, type SecretSource, type WireProtocol } from './connection-pools.js';
import { HealthChecker, type ActiveHealth } from './health-checker.js';
import { compileClusterHealthCheck } from './health-checker-config.js';
import { healthFlagsText } from './health-checker-flags.js';
import { hostCheckSpecs, retainedHosts, withoutHosts, withRetainedHosts, type HostCheckSpec } from './health-checker-hosts.js';
import type { BreakerKind, ClusterHandle, HostRequestCounters, HostStatsCounters, PickContext, PickedHost, ResultKind } from './cluster-handle.js';
import type { ConnectionEvents } from './cluster-stats.js';
import { isIP } from 'node:net';
import { alpnKey, hostWithoutPort, poolHostKey, socketMatchOf } from './pool-keys.js';

export interface UpstreamDeps {
  readonly random: Random;
  readonly clock: Clock;
  readonly secrets: SecretSource;
  /**
   * A pod's own loopback without network namespaces (`isthmus proxy --app-address`): connections to
   * endpoints on 127.0.0.1, such as the inbound clusters' `127.0.0.1:<targetPort>`, go to this address.
   */
  readonly loopbackAddress?: string;
  /**
   * The pod's IP (`--capture-address`): connections to other workloads leave from it, as they leave a pod
   * from its IP, so peers see the caller's address (source.ip, ipBlocks) rather than 127.0.0.1.
   */
  readonly sourceAddress?: string;
  /** The proxy's stats store: each cluster's Envoy stats go under `cluster.<stat name>.` (cluster-stats.ts). */
  readonly stats?: StatsScope;
  /**
   * Outlier detection kept outside the cluster: a `--concurrency` worker's relay to the primary's detector
   * (workers/outlier-relay.ts), which also counts its stats. Absent: each cluster with outlier_detection runs
   * its own detector and counts its stats.
   */
  readonly outlier?: (cluster: CompiledCluster) => HostOutlierState;
  /**
   * The primary's circuit breaker ledger, for a `--concurrency` worker of `workers`: the clusters' limits are
   * then the whole proxy's (shared-breakers.ts). Absent: each cluster's limits are this process's.
   */
  readonly breakerLedger?: { readonly client: BreakerLedgerClient; readonly workers: number };
  /**
   * Active health checking kept outside the cluster: a `--concurrency` worker's view of the primary's checker
   * (workers/health-relay.ts), told the cluster's hosts and first traffic, calling back on each host's change
   * of failed state. Absent: each cluster with health_checks runs its own HealthChecker.
   */
  readonly healthChecks?: (cluster: CompiledCluster, onHealthChange: (key: string, failed: boolean) => void) => ActiveHealth;
}

interface LivePool {
  readonly dispatcher: UpstreamDispatcher;
  /** The SDS secret objects the pool's TLS settings were made from (undefined for plaintext or inline TLS). */
  readonly secrets?: readonly [unknown, unknown];
}

const NO_REQUESTS: HostStatsCounters = Object.freeze({ rqTotal: 0, rqSuccess: 0, rqError: 0, rqTimeout: 0, cxTotal: 0, cxConnectFail: 0, activeConnections: 0 });

const EMPTY: ClusterLoadAssignment = { $typeName: 'envoy.config.endpoint.v3.ClusterLoadAssignment', clusterName: '', endpoints: [], namedEndpoints: {} };

export class UpstreamCluster implements ClusterHandle {
  #hosts: HostSet;
  #lb: LoadBalancer;
  /** Requests naming their host (stateful sessions) go there first (override-host.ts). */
  #override!: OverrideHostSelector;
  #picked = new Map<string, PickedHost>();
  readonly #pools = new Map<string, LivePool>();
  /** A transport's ALPN list without the metadata exchange's protocol, per list (null: use the list as is). */
  readonly #withoutExchange = new WeakMap<readonly string[], readonly string[] | null>();
  readonly #counters = new HostCountersTable();
  readonly #breakers: CircuitBreakers;
  readonly #slots: ConnectionSlots;
  readonly #outlier: HostOutlierState | undefined;
  /** The local detector, whose events and ejections_active this cluster counts (undefined with deps.outlier). */
  readonly #ownDetector: OutlierDetector | undefined;
  readonly #hc: ActiveHealth | undefined;
  #checkSpecs = new Map<string, HostCheckSpec>();
  /** Hosts EDS removed that stay while they pass active health checks (/pending_dynamic_removal). */
  #pendingRemoval = new Set<string>();
  /** Envoy's `cluster.<stat name>.*` stats in the proxy's store. */
  readonly envoyStats: ClusterStats;
  /** Requests this cluster admitted (for the health checker's no_traffic_interval). */
  #admitted = 0;
  /** version_info of the EDS update that delivered the hosts (admin /clusters). */
  assignmentVersion = '';

  constructor(
    readonly config: CompiledCluster,
    private readonly deps: UpstreamDeps,
    assignment: ClusterLoadAssignment | undefined,
  ) {
    // Envoy names cluster stats by alt_stat_name when set (Istio sets `<name>;`).
    const statName = config.proto.altStatName || config.name;
    const es = new ClusterStats(deps.stats?.scope(`cluster.${statName}`), statName);
    this.envoyStats = es;
    // The DEFAULT priority's thresholds, retry_budget included (the router asks for no other priority).
    const limits = breakerLimits(config.proto.circuitBreakers);
    const ledger = deps.breakerLedger;
    this.#breakers = new CircuitBreakers(
      limits,
      undefined,
      { active: { pending: es.rqPendingActive }, open: es.open },
      ledger !== undefined ? new SharedAllowance(allowanceKey(config.name, limits), limits, ledger.workers, ledger.client) : undefined,
    );
    this.#slots = new ConnectionSlots(this.#breakers, () => es.cxOverflow.inc());
    const od = config.proto.outlierDetection;
    if (od !== undefined && deps.outlier !== undefined && config.kind !== 'original-dst') {
      this.#outlier = deps.outlier(config);
    } else if (od !== undefined) {
      const own: OutlierDetector = new OutlierDetector(od, deps.clock, deps.random, (e) => es.outlier(e, own.ejectionCount()));
      this.#ownDetector = own;
      this.#outlier = own;
    }
    const hc = config.kind !== 'original-dst' && config.proto.healthChecks.length > 0 ? compileClusterHealthCheck(config.proto) : undefined;
    this.#hc =
      hc?.ok !== true || hc.value === undefined
        ? undefined
        : deps.healthChecks !== undefined
          ? deps.healthChecks(config, (key, failed) => this.#onHealthChange(key, failed))
          : new HealthChecker(
            hc.value,
            config,
            {
              clock: deps.clock,
              random: deps.random,
              secrets: deps.secrets,
              hasTraffic: () => this.#admitted > 0 || this.#pools.size > 0,
              onHealthChange: (key, failed) => this.#onHealthChange(key, failed),
              onHealthyCheck: (key) => this.#outlier?.reportResult(key, 'active-hc-success'),
              ...(deps.stats !== undefined ? { stats: deps.stats.scope(`cluster.${statName}`) } : {}),
            },
            config.proto.commonLbConfig?.ignoreNewHostsUntilFirstHc ?? false,
          );
    // DNS clusters get their hosts from their DnsDiscovery (cluster-manager.ts); static ones from the config.
    const a = config.kind === 'static' || (config.dns !== undefined && assignment === undefined) ? config.proto.loadAssignment : assignment;
    this.#hosts = hostSetFromAssignment(a ?? { ...EMPTY, clusterName: config.name });
    this.#checkSpecs = hostCheckSpecs(a);
    this.#lb = this.#build();
    this.#hc?.setHosts(this.#checkSpecs.values());
    if (this.#hosts.hosts.length > 0) es.membershipChange.inc();
  }

  /**
   * Sets the membership gauges from the hosts as they are now (Envoy's ClusterImplBase priority update
   * callback and partitionHostList, source/common/upstream/upstream_impl.cc): healthy and degraded by the
   * host's coarse health (EDS status, active health checks, outlier ejection), excluded when awaiting a first
   * check, excluded by an immediate health check failure or draining by EDS.
   */
  refreshStats(): void {
    let healthy = 0;
    let degraded = 0;
    let excluded = 0;
    const hc = this.#hc;
    const outlier = this.#outlier;
    for (const h of this.#hosts.hosts) {
      const f = hc?.flags(h.key);
      if (f?.pendingActiveHc === true || f?.excludedViaImmediateHcFail === true || h.health === 'DRAINING') excluded++;
      const eds = healthClass(h.health);
      if (eds === 'unhealthy' || f?.failedActiveHc === true || (outlier?.isEjected(h.key) ?? false)) continue;
      if (eds === 'degraded' || f?.degradedActiveHc === true) degraded++;
      else healthy++;
    }
    this.envoyStats.membership({ total: this.#hosts.hosts.length, healthy, degraded, excluded });
  }

  /** The local address for connections to `address`: the cluster's bind config, else the pod IP for IPv4 peers. */
  #sourceFor(address: string): string | undefined {
    if (this.config.bindAddress !== undefined) return this.config.bindAddress;
    const src = this.deps.sourceAddress;
    if (src === undefined || address === src || address === this.deps.loopbackAddress || address.includes(':') !== src.includes(':')) return undefined;
    return src;
  }

  #build(): LoadBalancer {
    this.#picked = new Map();
    const loopback = this.deps.loopbackAddress;
    for (const h of this.#hosts.hosts) {
      if (h.pipe === true) {
        this.#picked.set(h.key, { address: h.address, port: 0, key: h.key, transport: transportFor(this.config, socketMatchOf(h)), pipe: true });
        continue;
      }
      const local = h.address === '127.0.0.1';
      const address = loopback !== undefined && local ? loopback : h.address;
      const from = local ? undefined : this.#sourceFor(address);
      this.#picked.set(h.key, {
        address,
        port: h.port,
        key: h.key,
        transport: transportFor(this.config, socketMatchOf(h)),
        ...(from !== undefined ? { localAddress: from } : {}),
        ...(h.hostname !== '' ? { hostname: h.hostname } : {}),
      });
    }
    this.#outlier?.setHosts(this.#hosts.hosts.map((h) => h.key));
    if (this.#ownDetector !== undefined) this.envoyStats.outlierActive(this.#ownDetector.ejectionCount());
    const outlier = this.#outlier;
    const hc = this.#hc;
    const statuses = overrideHostStatuses(this.config.proto.commonLbConfig);
    this.#override = new OverrideHostSelector(this.#hosts, statuses, (h) => hostHealthStatus(h, hc?.flags(h.key), outlier?.isEjected(h.key) ?? false));
    // A host failing active health checks is unhealthy for balancing, as an ejected one is; both
    // versions only grow, so their sum changes whenever either does.
    return createLoadBalancer(this.config.proto, this.#hosts, {
      random: this.deps.random,
      activeRequests: (h) => this.#counters.activeRequests(h.key),
      isEjected: (h) => (outlier?.isEjected(h.key) ?? false) || (hc?.isFailed(h.key) ?? false),
      ...(outlier !== undefined || hc !== undefined ? { healthVersion: () => (outlier?.version() ?? 0) + (hc?.version() ?? 0) } : {}),
    });
  }

  get hosts(): HostSet {
    return this.#hosts;
  }

  isEjected(key: string): boolean {
    return this.#outlier?.isEjected(key) ?? false;
  }

  activeRequests(key: string): number {
    return this.#counters.activeRequests(key);
  }

  /** A new EDS assignment: hosts and balancer replaced whole; pools of hosts that left are closed. */
  setAssignment(cla: ClusterLoadAssignment, version: string): void {
    let next = hostSetFromAssignment(cla);
    const specs = hostCheckSpecs(cla);
    const hc = this.#hc;
    this.#pendingRemoval = new Set();
    if (hc !== undefined && !this.config.proto.ignoreHealthOnHostRemoval) {
      const retained = retainedHosts(this.#hosts, this.#checkSpecs, next, (k) => hc.isFailed(k));
      for (const h of retained) {
        specs.set(h.key, this.#checkSpecs.get(h.key) as HostCheckSpec);
        this.#pendingRemoval.add(h.key);
      }
      next = withRetainedHosts(next, retained, this.#hosts);
    }
    // membership_change: counted when an update adds or removes hosts (not for a change of health or weight).
    if (membershipChanged(this.#hosts, next)) this.envoyStats.membershipChange.inc();
    this.#hosts = next;
    this.#checkSpecs = specs;
    this.assignmentVersion = version;
    hc?.setHosts(specs.values());
    this.#lb = this.#build();
    const keys = new Set(this.#hosts.hosts.map((h) => h.key));
    this.#counters.retain(keys);
    for (const [k, p] of this.#pools) {
      const hk = poolHostKey(k);
      if (!keys.has(hk) && this.config.kind !== 'original-dst') {
        this.#pools.delete(k);
        void p.dispatcher.close().catch(() => undefined);
      }
    }
  }

  /** A host's active health changed: a failing host pending removal leaves; pools may be closed. */
  #onHealthChange(key: string, failed: boolean): void {
    if (!failed) return;
    if (this.#pendingRemoval.delete(key)) {
      this.#hosts = withoutHosts(this.#hosts, new Set([key]));
      this.envoyStats.membershipChange.inc();
      this.#checkSpecs.delete(key);
      this.#hc?.setHosts(this.#checkSpecs.values());
      this.#lb = this.#build();
      this.#closePools(key);
    } else if (this.config.proto.closeConnectionsOnHostHealthFailure) {
      this.#closePools(key);
    }
  }

  #closePools(hostKeyValue: string): void {
    for (const [k, p] of this.#pools) {
      if (poolHostKey(k) !== hostKeyValue) continue;
      this.#pools.delete(k);
      void p.dispatcher.close().catch(() => undefined);
    }
  }

  /** Envoy's /clusters health_flags for a host of this cluster; undefined when the host is not in it. */
  healthFlags(key: string): string | undefined {
    const h = this.#hosts.hosts.find((x) => x.key === key);
    if (h === undefined) return undefined;
    return healthFlagsText({
      ...this.#hc?.flags(key),
      failedOutlierCheck: this.#outlier?.isEjected(key) ?? false,
      failedEdsHealth: healthClass(h.health) === 'unhealthy',
      degradedEdsHealth: h.health === 'DEGRADED',
      pendingDynamicRemoval: this.#pendingRemoval.has(key),
    });
  }

  /** The active health checker, when the cluster has health_checks and runs its own (not a worker's relay). */
  get healthChecker(): HealthChecker | undefined {
    return this.#hc instanceof HealthChecker ? this.#hc : undefined;
  }

  pick(ctx: PickContext): PickedHost | undefined {
    if (this.config.kind === 'original-dst') return this.#originalDst(ctx.originalDestination);
    const avoid = ctx.avoid;
    const excluded = ctx.priorities?.excluded();
    const o = ctx.override !== undefined ? this.#override.select(ctx.override) : 'balance';
    if (o !== 'balance') return o === undefined ? undefined : this.#picked.get(o.key);
    const h = this.#lb.pick({
      ...(ctx.hash !== undefined ? { hash: ctx.hash } : {}),
      ...(avoid !== undefined && avoid.size > 0 ? { exclude: (x: Host) => avoid.has(x.key), maxSelectionAttempts: ctx.selectionAttempts ?? 6 } : {}),
      ...(excluded !== undefined ? { excludedPriorities: excluded } : {}),
    });
    if (h !== undefined) ctx.priorities?.attempted(h.priority);
    return h === undefined ? undefined : this.#picked.get(h.key);
  }

  #originalDst(dest: string | undefined): PickedHost | undefined {
    if (dest === undefined || dest === '') return undefined;
    const i = dest.lastIndexOf(':');
    if (i <= 0) return undefined;
    const address = dest.slice(0, i).replace(/^\[|\]$/g, '');
    const port = this.config.originalDst?.portOverride ?? Number(dest.slice(i + 1));
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
    const key = hostKey(address, port);
    let p = this.#picked.get(key);
    if (p === undefined) {
      const from = this.#sourceFor(address);
      p = { address, port, key, transport: this.config.transport, ...(from !== undefined ? { localAddress: from } : {}) };
      this.#picked.set(key, p);
    }
    return p;
  }

  pool(host: PickedHost, protocol: WireProtocol, authority?: string, alpn?: readonly string[]): { readonly ok: true; readonly dispatcher: UpstreamDispatcher } | { readonly ok: false; readonly transportFailure: string } {
    let transport = host.transport as TransportSettings;
    let verifyHost: string | undefined;
    let k = `${protocol}|${host.key}`;
    let alpnOverride: readonly string[] | undefined;
    if (transport.kind === 'tls') {
      if (alpn !== undefined) {
        // Envoy hashes the ALPN override into the connection pool key: these connections are not shared.
        alpnOverride = alpn;
        k += alpnKey(alpn);
      } else if (protocol === 'http1') alpnOverride = this.#httpAlpn(transport.alpn); // HTTP/2 pools offer h2 alone
    }
    if (transport.kind === 'tls' && authority !== undefined && (this.config.autoSni || this.config.autoSanValidation)) {
      // One pool per upstream host name: its connections carry that SNI and are checked against it.
      const name = hostWithoutPort(authority);
      k += `|${name}`;
      // Envoy sets no SNI for an IP address (Router::Filter::decodeHeaders: should_set_sni), but still checks SANs against it.
      if (this.config.autoSni && isIP(name) === 0) transport = { ...transport, sni: name };
      if (this.config.autoSanValidation && transport.subjectAltNames.length === 0) verifyHost = name;
    }
    const live = this.#pools.get(k);
    // A rotated SDS secret (a renewed workload certificate, a new root) makes a new pool for new connections;
    // the old one closes once its in-flight requests finish (Envoy drains connections of the old context).
    const secrets = this.#secretsOf(transport);
    if (live !== undefined) {
      if (live.secrets === undefined || (live.secrets[0] === secrets?.[0] && live.secrets[1] === secrets?.[1])) return { ok: true, dispatcher: live.dispatcher };
      this.#pools.delete(k);
      void live.dispatcher.close().catch(() => undefined);
    }
    const identity = transport.kind === 'tls' ? { onPeer: (san: string) => recordPeerIdentity(host, san), onLocal: (pem: string) => recordLocalIdentity(host, pem) } : undefined;
    const r = createPool(host.pipe === true ? { path: host.address } : { host: host.address, port: host.port }, this.config, transport, protocol, this.deps.secrets, host.localAddress, verifyHost, identity, alpnOverride, this.connectionEvents(host, protocol));
    if (r.ok) {
      if (this.#pools.size === 0 && this.#admitted === 0) this.#hc?.noteTraffic?.();
      this.#pools.set(k, { dispatcher: r.dispatcher, ...(secrets !== undefined ? { secrets } : {}) });
    }
    return r;
  }

  /**
   * The cluster's ALPN for HTTP without an override: without the metadata exchange's protocol, which only the TCP
   * proxy speaks (an HTTP connection that negotiated it would get the peer's frame as its first bytes).
   */
  #httpAlpn(list: readonly string[]): readonly string[] | undefined {
    const mx = this.config.peerExchange?.protocol;
    if (mx === undefined) return undefined;
    let out = this.#withoutExchange.get(list);
    if (out === undefined) {
      const rest = list.filter((p) => p !== mx);
      // Nothing left: an empty override, which offers the HTTP version's own (h2 or http/1.1).
      out = rest.length < list.length ? rest : null;
      this.#withoutExchange.set(list, out);
    }
    return out ?? undefined;
  }

  #secretsOf(t: TransportSettings): readonly [unknown, unknown] | undefined {
    if (t.kind !== 'tls' || (t.sdsCertificate === undefined && t.sdsValidation === undefined)) return undefined;
    const s = this.deps.secrets;
    return [t.sdsCertificate !== undefined ? s.certificate(t.sdsCertificate) : undefined, t.sdsValidation !== undefined ? s.validation(t.sdsValidation) : undefined];
  }

  tryAcquire(kind: BreakerKind): boolean {
    const ok = this.#breakers.tryAcquire(kind);
    if (ok) {
      if (kind === 'requests' && this.#admitted++ === 0) this.#hc?.noteTraffic?.();
    } else if (kind === 'requests') this.envoyStats.rqPendingOverflow.inc();
    else if (kind === 'retries') this.envoyStats.rqRetryOverflow.inc();
    return ok;
  }

  release(kind: BreakerKind): void {
    this.#breakers.release(kind);
  }

  acquireConnection(onReady: () => void): SlotGrant {
    const g = this.#slots.acquire(onReady);
    if (g === 'overflow') this.envoyStats.rqPendingOverflow.inc();
    else if (g === 'pending') this.envoyStats.rqPendingTotal.inc();
    return g;
  }

  releaseConnection(onReady: () => void): void {
    this.#slots.release(onReady);
  }

  report(host: PickedHost, kind: ResultKind): void {
    if (kind === 'local-origin-failure') {
      this.envoyStats.cxConnectFail.inc();
      this.#counters.counters(host.key).cxConnectFail++;
    }
    this.#outlier?.reportResult(host.key, kind);
  }

  reportResponse(host: PickedHost, status: number, headers: Readonly<Record<string, string | string[] | undefined>>): void {
    this.report(host, status >= 500 ? (status === 502 || status === 503 || status === 504 ? 'gateway' : '5xx') : 'success');
    // Envoy's router (onUpstreamHeaders): the health check filter of an upstream Envoy failing its checks
    // (/healthcheck/fail) sets this on every response, so the host fails its active check without waiting for one.
    if (headers['x-envoy-immediate-health-check-fail'] !== undefined) this.#hc?.failImmediately?.(host.key);
  }

  /** Counts a host's connections in the cluster's upstream_cx_* and the host's cx_total and cx_active. */
  connectionEvents(host: PickedHost, protocol: 'http1' | 'http2' | 'tcp'): ConnectionEvents {
    const cluster = this.envoyStats.connections[protocol];
    const c = this.#counters.counters(host.key);
    return {
      opened() {
        cluster.opened();
        c.cxTotal++;
        c.activeConnections++;
      },
      closed() {
        cluster.closed();
        if (c.activeConnections > 0) c.activeConnections--;
      },
    };
  }

  requestSent(host: PickedHost): HostRequestCounters {
    const c = this.#counters.counters(host.key);
    c.rqTotal++;
    return c;
  }

  /** A host's counters for /clusters (zeros for a host nothing was sent to). */
  hostCounters(key: string): HostStatsCounters {
    return this.#counters.peek(key) ?? NO_REQUESTS;
  }

  requestStarted(host: PickedHost): void {
    this.#counters.counters(host.key).activeRequests++;
  }

  requestEnded(host: PickedHost): void {
    const c = this.#counters.counters(host.key);
    if (c.activeRequests > 0) c.activeRequests--;
  }

  breakerGauges(): ReturnType<CircuitBreakers['gauges']> {
    return this.#breakers.gauges();
  }

  /** Closes pools once their in-flight requests finish (a replaced or removed cluster). */
  close(): void {
    // A cluster CDS removed has no members; a replaced one's successor sets them again at the next read.
    this.envoyStats.membership({ total: 0, healthy: 0, degraded: 0, excluded: 0 });
    this.#outlier?.close();
    this.#hc?.close();
    this.#breakers.close();
    for (const p of this.#pools.values()) void p.dispatcher.close().catch(() => undefined);
    this.#pools.clear();
  }
}
