// One live upstream cluster: its compiled settings, its current host set (replaced whole on each EDS
// update), the load balancer built over it, circuit breakers, outlier detection and one connection pool
// per host and protocol (kept across host-set updates while the host stays). ORIGINAL_DST clusters
// (Passthrough) connect to the destination each request names.

import type { UpstreamDispatcher } from './cluster-handle.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import { transportFor, type CompiledCluster, type TransportSettings } from '../runtime/compile-cluster.js';
import { hostKey, hostSetFromAssignment, HostCountersTable, type Host, type HostSet } from './host.js';
import { createLoadBalancer } from './lb/create-load-balancer.js';
import type { LoadBalancer } from './lb/types.js';
import { OutlierDetector } from './outlier-detector.js';
import { CircuitBreakers } from './circuit-breakers.js';
import { ConnectionSlots, type SlotGrant } from './connection-slots.js';
import { createPool, type SecretSource, type WireProtocol } from './connection-pools.js';
import type { BreakerKind, ClusterHandle, PickContext, PickedHost, ResultKind } from './cluster-handle.js';

export interface UpstreamDeps {
  readonly random: Random;
  readonly clock: Clock;
  readonly secrets: SecretSource;
}

interface LivePool {
  readonly dispatcher: UpstreamDispatcher;
}

export interface ClusterCounters {
  rqTotal: number;
  rqActive: number;
  rqTimeout: number;
  rq2xx: number;
  rq4xx: number;
  rq5xx: number;
  cxConnectFail: number;
  rqRetry: number;
  rqPendingOverflow: number;
}

const EMPTY: ClusterLoadAssignment = { $typeName: 'envoy.config.endpoint.v3.ClusterLoadAssignment', clusterName: '', endpoints: [], namedEndpoints: {} };

function socketMatchOf(h: Host): Readonly<Record<string, string>> | undefined {
  const m = h.metadata?.filterMetadata['envoy.transport_socket_match'];
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v;
  return out;
}

export class UpstreamCluster implements ClusterHandle {
  #hosts: HostSet;
  #lb: LoadBalancer;
  #picked = new Map<string, PickedHost>();
  readonly #pools = new Map<string, LivePool>();
  readonly #counters = new HostCountersTable();
  readonly #breakers: CircuitBreakers;
  readonly #slots: ConnectionSlots;
  readonly #outlier: OutlierDetector | undefined;
  readonly stats: ClusterCounters = { rqTotal: 0, rqActive: 0, rqTimeout: 0, rq2xx: 0, rq4xx: 0, rq5xx: 0, cxConnectFail: 0, rqRetry: 0, rqPendingOverflow: 0 };
  /** version_info of the EDS update that delivered the hosts (admin /clusters). */
  assignmentVersion = '';

  constructor(
    readonly config: CompiledCluster,
    private readonly deps: UpstreamDeps,
    assignment: ClusterLoadAssignment | undefined,
  ) {
    this.#breakers = new CircuitBreakers({
      connections: config.thresholds.maxConnections,
      pending: config.thresholds.maxPendingRequests,
      requests: config.thresholds.maxRequests,
      retries: config.thresholds.maxRetries,
    });
    this.#slots = new ConnectionSlots(this.#breakers);
    const od = config.proto.outlierDetection;
    this.#outlier = od !== undefined ? new OutlierDetector(od, deps.clock, deps.random) : undefined;
    const a = config.kind === 'static' || config.kind === 'strict-dns' || config.kind === 'logical-dns' ? config.proto.loadAssignment : assignment;
    this.#hosts = hostSetFromAssignment(a ?? { ...EMPTY, clusterName: config.name });
    this.#lb = this.#build();
  }

  #build(): LoadBalancer {
    this.#picked = new Map();
    for (const h of this.#hosts.hosts) this.#picked.set(h.key, { address: h.address, port: h.port, key: h.key, transport: transportFor(this.config, socketMatchOf(h)) });
    this.#outlier?.setHosts(this.#hosts.hosts.map((h) => h.key));
    const outlier = this.#outlier;
    return createLoadBalancer(this.config.proto, this.#hosts, {
      random: this.deps.random,
      activeRequests: (h) => this.#counters.activeRequests(h.key),
      isEjected: (h) => outlier?.isEjected(h.key) ?? false,
      ...(outlier !== undefined ? { healthVersion: () => outlier.version() } : {}),
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
    this.#hosts = hostSetFromAssignment(cla);
    this.assignmentVersion = version;
    this.#lb = this.#build();
    const keys = new Set(this.#hosts.hosts.map((h) => h.key));
    this.#counters.retain(keys);
    for (const [k, p] of this.#pools) {
      const hk = k.slice(k.indexOf('|') + 1);
      if (!keys.has(hk) && this.config.kind !== 'original-dst') {
        this.#pools.delete(k);
        void p.dispatcher.close().catch(() => undefined);
      }
    }
  }

  pick(ctx: PickContext): PickedHost | undefined {
    if (this.config.kind === 'original-dst') return this.#originalDst(ctx.originalDestination);
    const avoid = ctx.avoid;
    const h = this.#lb.pick({
      ...(ctx.hash !== undefined ? { hash: ctx.hash } : {}),
      ...(avoid !== undefined && avoid.size > 0 ? { exclude: (x: Host) => avoid.has(x.key), maxSelectionAttempts: 5 } : {}),
    });
    return h === undefined ? undefined : this.#picked.get(h.key);
  }

  #originalDst(dest: string | undefined): PickedHost | undefined {
    if (dest === undefined || dest === '') return undefined;
    const i = dest.lastIndexOf(':');
    if (i <= 0) return undefined;
    const address = dest.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(dest.slice(i + 1));
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
    const key = hostKey(address, port);
    let p = this.#picked.get(key);
    if (p === undefined) {
      p = { address, port, key, transport: this.config.transport };
      this.#picked.set(key, p);
    }
    return p;
  }

  pool(host: PickedHost, protocol: WireProtocol): { readonly ok: true; readonly dispatcher: UpstreamDispatcher } | { readonly ok: false; readonly transportFailure: string } {
    const k = `${protocol}|${host.key}`;
    const live = this.#pools.get(k);
    if (live !== undefined) return { ok: true, dispatcher: live.dispatcher };
    const r = createPool(host.address, host.port, this.config, host.transport as TransportSettings, protocol, this.deps.secrets);
    if (r.ok) this.#pools.set(k, { dispatcher: r.dispatcher });
    return r;
  }

  tryAcquire(kind: BreakerKind): boolean {
    const ok = this.#breakers.tryAcquire(kind);
    if (!ok && kind === 'requests') this.stats.rqPendingOverflow++;
    if (ok && kind === 'requests') {
      this.stats.rqTotal++;
      this.stats.rqActive++;
    }
    if (ok && kind === 'retries') this.stats.rqRetry++;
    return ok;
  }

  release(kind: BreakerKind): void {
    this.#breakers.release(kind);
    if (kind === 'requests') this.stats.rqActive--;
  }

  acquireConnection(onReady: () => void): SlotGrant {
    const g = this.#slots.acquire(onReady);
    if (g === 'overflow') this.stats.rqPendingOverflow++;
    return g;
  }

  releaseConnection(onReady: () => void): void {
    this.#slots.release(onReady);
  }

  report(host: PickedHost, kind: ResultKind): void {
    if (kind === 'local-origin-failure') this.stats.cxConnectFail++;
    this.#outlier?.reportResult(host.key, kind);
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
    this.#outlier?.close();
    for (const p of this.#pools.values()) void p.dispatcher.close().catch(() => undefined);
    this.#pools.clear();
  }
}
