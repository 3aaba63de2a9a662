// The ADS server (Istio's DiscoveryServer): serves envoy.service.discovery.v3.AggregatedDiscoveryService
// over both StreamAggregatedResources (SotW) and DeltaAggregatedResources, from one immutable
// MeshSnapshot at a time. pushSnapshot() regenerates every connected proxy's config (once per
// snapshot and proxy; a proxy whose translation reads nothing the change touched keeps its generation)
// and sends each proxy only the types whose content changed for it; configChanged() debounces bursts of
// changes as istiod does and pushes one proxy per event-loop turn. It also answers the status and dump
// queries behind /debug/syncz, /debug/config_dump and /debug/proxy_status.
// It must not read env, argv or the wall clock directly: bin/ passes options, a Clock and a Logger.

import type { Server, ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { JsonValue } from '@bufbuild/protobuf';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import type { MeshSnapshot } from '../model/snapshot.js';
import type { Proxy } from '../model/proxy.js';
import { ADS_SERVICE } from '../xds/ads-service.js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import type { AdsStream, Connection, StreamHost } from './connection.js';
import { configDump } from './config-dump.js';
import { DeltaStream } from './delta-stream.js';
import { GenerationCache, type GenerationResult, type ProxyGeneration, type Translate } from './generation.js';
import { XdsMetrics } from './metrics.js';
import { PushDebouncer } from './push-debouncer.js';
import { SotwStream } from './sotw-stream.js';
import { ResponseBodies, serializeResponse } from './response-encoding.js';
import { proxySyncDetailOf, syncStatusOf, type ProxySyncDetail, type SyncStatus } from './sync-status.js';

export interface DiscoveryServerOptions {
  readonly translate: Translate;
  /** The first snapshot. Without one, streams are accepted and answered once pushSnapshot() is called. */
  readonly snapshot?: MeshSnapshot;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** PILOT_DEBOUNCE_AFTER: quiet period before a burst of changes is pushed (default 100 ms). */
  readonly debounceAfterMs?: number;
  /** PILOT_DEBOUNCE_MAX: longest a burst is delayed (default 10 s). */
  readonly debounceMaxMs?: number;
  /** This instance's name in responses (control_plane.identifier) and in proxy-status's ISTIOD column. */
  readonly controlPlaneId?: string;
  readonly metrics?: XdsMetrics;
  /** Called when a proxy's first stream is accepted (after its node parsed), and when that stream closes. */
  readonly onConnect?: (proxy: Proxy) => void;
  readonly onDisconnect?: (proxy: Proxy) => void;
}

export interface PushResult {
  /** Proxies that received at least one response. */
  readonly proxies: number;
  readonly responses: number;
}

export class DiscoveryServer {
  readonly metrics: XdsMetrics;
  readonly controlPlaneId: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache: GenerationCache;
  private readonly streams = new Set<AdsStream>();
  private readonly debouncer: PushDebouncer<() => MeshSnapshot>;
  private current: MeshSnapshot | undefined;
  private nonceSeq = 0;
  private pushSeq = 0;
  private connectionSeq = 0;
  private readonly host: StreamHost;
  private readonly hooks: Pick<DiscoveryServerOptions, 'onConnect' | 'onDisconnect'>;

  constructor(opts: DiscoveryServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.metrics = opts.metrics ?? new XdsMetrics();
    this.controlPlaneId = opts.controlPlaneId ?? 'isthmus';
    this.cache = new GenerationCache(opts.translate, this.logger);
    this.current = opts.snapshot;
    this.hooks = { ...(opts.onConnect !== undefined ? { onConnect: opts.onConnect } : {}), ...(opts.onDisconnect !== undefined ? { onDisconnect: opts.onDisconnect } : {}) };
    this.debouncer = new PushDebouncer({
      clock: this.clock,
      afterMs: opts.debounceAfterMs ?? 100,
      maxMs: opts.debounceMaxMs ?? 10_000,
      flush: (burst) => this.rebuildAndPush(burst.latest, burst.firstAt, burst.events),
    });
    const server = this;
    this.host = {
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      controlPlaneId: this.controlPlaneId,
      bodies: new ResponseBodies(),
      nextNonce: () => String(++server.nonceSeq),
      nextConnectionId: (proxy) => `${proxy.workloadId}-${++server.connectionSeq}`,
      generate: (proxy) => server.generation(proxy),
      register: (s) => server.register(s),
      unregister: (s) => server.unregister(s),
    };
  }

  /** True once a snapshot is set (/ready). */
  get ready(): boolean {
    return this.current !== undefined;
  }

  get snapshot(): MeshSnapshot | undefined {
    return this.current;
  }

  /** How many times translation ran (each (snapshot, proxy) pair at most once). */
  get translateCount(): number {
    return this.cache.translateCount;
  }

  /** How many times a proxy's last generation was reused for a new snapshot that answers its translation's reads the same. */
  get reuseCount(): number {
    return this.cache.reuseCount;
  }

  /** Adds the ADS service to a gRPC server. */
  addTo(server: Server): void {
    const impl: UntypedServiceImplementation = {
      StreamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => void new SotwStream(this.host, call),
      DeltaAggregatedResources: (call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => void new DeltaStream(this.host, call),
    };
    // SotW responses are encoded ahead, once per distinct body (response-encoding.ts).
    const service = { ...ADS_SERVICE, StreamAggregatedResources: { ...ADS_SERVICE.StreamAggregatedResources, responseSerialize: serializeResponse } };
    server.addService(service, impl);
  }

  /**
   * Makes `snapshot` current and pushes it: each connected proxy gets, per watched type, a response
   * only if what it should have changed. `changedAt` (default now) is when the triggering change
   * happened, for pilot_proxy_convergence_time.
   */
  pushSnapshot(snapshot: MeshSnapshot, changedAt: number = this.clock.now()): PushResult {
    this.current = snapshot;
    ++this.pushSeq; // a push in progress is superseded: this one covers every stream
    const result = { proxies: 0, responses: 0 };
    for (const s of [...this.streams]) this.pushTo(s, changedAt, result);
    this.logger.info('push', { version: snapshot.version, connected: this.streams.size, ...result });
    return result;
  }

  /**
   * pushSnapshot for the debounced path, one proxy per event-loop turn (Istio's push queue): responses
   * leave while later proxies are still being generated, and requests are answered in between (from the
   * new snapshot). A newer push stops this one; it covers every stream itself.
   */
  private pushInTurns(snapshot: MeshSnapshot, changedAt: number): void {
    this.current = snapshot;
    const seq = ++this.pushSeq;
    const pending = [...this.streams];
    const result = { proxies: 0, responses: 0 };
    const next = (): void => {
      if (seq !== this.pushSeq) return;
      const s = pending.shift();
      if (s === undefined) {
        this.logger.info('push', { version: snapshot.version, connected: this.streams.size, ...result });
        return;
      }
      if (this.streams.has(s)) this.pushTo(s, changedAt, result);
      setImmediate(next);
    };
    next();
  }

  private pushTo(s: AdsStream, changedAt: number, result: { proxies: number; responses: number }): void {
    const gen = this.generation(s.connection.proxy);
    if (gen === undefined) return;
    const n = s.push(gen);
    if (n > 0) {
      result.proxies++;
      result.responses += n;
      this.metrics.convergence.observe((this.clock.now() - changedAt) / 1000);
    }
  }

  /** A config change: after the debounce period, calls the latest `rebuild` once and pushes its snapshot (one proxy per event-loop turn). */
  configChanged(rebuild: () => MeshSnapshot): void {
    this.debouncer.changed(rebuild);
  }

  /** Pushes a pending debounced change now. */
  flushPending(): void {
    this.debouncer.flushNow();
  }

  /** Live connections, by proxy id then connection order. */
  connections(): Connection[] {
    return [...this.streams].map((s) => s.connection).sort((a, b) => (a.proxy.workloadId < b.proxy.workloadId ? -1 : a.proxy.workloadId > b.proxy.workloadId ? 1 : 0));
  }

  /** The newest connection of a proxy, by Istio proxy id (`pod.namespace`), full node id, or connection id. */
  findConnection(proxyId: string): Connection | undefined {
    const matches = this.connections().filter((c) => c.proxy.workloadId === proxyId || c.proxy.id === proxyId || c.id === proxyId);
    return matches.sort((a, b) => b.connectedAt - a.connectedAt)[0];
  }

  /** /debug/syncz; `namespace` filters by the proxy's namespace as istiod does. */
  syncz(namespace?: string): SyncStatus[] {
    return this.connections()
      .filter((c) => namespace === undefined || namespace === '' || c.proxy.namespace === namespace)
      .map((c) => syncStatusOf(c, this.controlPlaneId));
  }

  /** /debug/proxy_status: acked vs expected per type; undefined when the proxy is not connected. */
  proxyStatus(proxyId: string): ProxySyncDetail | undefined {
    const c = this.findConnection(proxyId);
    if (c === undefined) return undefined;
    return proxySyncDetailOf(c, this.controlPlaneId, this.generationResult(c.proxy));
  }

  /** /debug/config_dump: what the proxy would be sent now. */
  configDump(proxyId: string): { ok: true; dump: JsonValue } | { ok: false; status: 404 | 503; message: string } {
    const c = this.findConnection(proxyId);
    if (c === undefined) return { ok: false, status: 404, message: `proxy ${JSON.stringify(proxyId)} is not connected to this control plane` };
    const r = this.generationResult(c.proxy);
    if (r === undefined) return { ok: false, status: 503, message: 'the control plane has no config snapshot yet' };
    if (!r.ok) return { ok: false, status: 503, message: `translation failed for proxy ${JSON.stringify(proxyId)}: ${r.error}` };
    return { ok: true, dump: configDump(r.value) };
  }

  /** Ends every stream and drops a pending debounced push. */
  close(): void {
    this.debouncer.cancel();
    ++this.pushSeq;
    for (const s of [...this.streams]) s.close();
    this.streams.clear();
  }

  private rebuildAndPush(rebuild: () => MeshSnapshot, firstAt: number, events: number): void {
    let snapshot: MeshSnapshot;
    try {
      snapshot = rebuild();
    } catch (e) {
      this.logger.error('snapshot rebuild failed; the previous snapshot keeps serving', { error: e instanceof Error ? e.message : String(e), events });
      return;
    }
    this.metrics.debounceTime.observe((this.clock.now() - firstAt) / 1000);
    this.logger.debug('debounce: pushing', { events, version: snapshot.version });
    this.pushInTurns(snapshot, firstAt);
  }

  private generationResult(proxy: Proxy): GenerationResult | undefined {
    return this.current === undefined ? undefined : this.cache.get(this.current, proxy);
  }

  private generation(proxy: Proxy): ProxyGeneration | undefined {
    const r = this.generationResult(proxy);
    return r?.ok === true ? r.value : undefined;
  }

  private register(s: AdsStream): void {
    this.streams.add(s);
    const c = s.connection;
    this.metrics.connected(c.proxy.istioVersion, 1);
    this.logger.info('ADS: new connection', { connection: c.id, node: c.proxy.id, xds: c.mode, peer: c.peer });
    this.hooks.onConnect?.(c.proxy);
  }

  private unregister(s: AdsStream): void {
    if (!this.streams.delete(s)) return;
    const c = s.connection;
    this.metrics.connected(c.proxy.istioVersion, -1);
    this.logger.info('ADS: connection closed', { connection: c.id });
    this.hooks.onDisconnect?.(c.proxy);
  }
}
