// The data plane's composition: from a bootstrap, the ADS client (which validates and compiles every
// resource), the runtime that serves traffic from the accepted config, and the admin (:15000),
// readiness (:15021) and Prometheus (:15090) servers. Readiness turns 200 only once the first full
// config is applied and its listeners are bound.

import { ownWorkload } from './telemetry/istio-metrics.js';
import { clone } from '@bufbuild/protobuf';
import { NodeSchema } from '../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Logger } from '../lib/logger.js';
import { silentLogger } from '../lib/logger.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { ProxyBootstrap } from './bootstrap.js';
import { AdsClient, type AdsClientOptions, type AdsProtocol } from './xds-client/ads-client.js';
import { secretSourceOf } from './xds-client/secret-source.js';
import { workloadAgentFor, type ProxyIdentityOptions, type WorkloadAgent } from './identity/workload-agent.js';

export type { ProxyIdentityOptions };
import { agentSecretSource, agentSecrets } from './identity/agent-secrets.js';
import { fileSecretSource } from './identity/file-secrets.js';
import { adminHandler, listenHttp, prometheusHandler, readinessHandler, type Listening, type ServerState } from './admin/admin-server.js';
import { compileResource } from './runtime/compile-resource.js';
import { DataPlane } from './data-plane.js';
import { mathRandom, type Random } from './lib/random.js';
import type { SecretSource } from './upstream/connection-pools.js';
import { StatsStore } from './stats/stats-store.js';
import { adsSources, installServerStats } from './stats/server-stats.js';
import { wasmNode, wasmSetup, type ProxyWasmOptions } from './filters/wasm/proxy-wasm-options.js';

export type { ProxyWasmOptions };

export interface ProxyOptions {
  readonly bootstrap: ProxyBootstrap;
  /** Overrides the bootstrap's admin port (0 picks a free one). */
  readonly adminPort?: number;
  /** istio-agent's readiness port, 15021 by default (0 picks a free one). */
  readonly readinessPort?: number;
  readonly readinessHost?: string;
  /** Envoy's Prometheus port, 15090 by default (0 picks a free one). */
  readonly prometheusPort?: number;
  /** Sidecar local capture address (outbound HTTP proxy on the virtualOutbound port, inbound ports). */
  readonly captureAddress?: string;
  /** Binds wildcard listener addresses here instead (gateways on a laptop). */
  readonly bindAddress?: string;
  /** A sidecar's app address: upstream endpoints on 127.0.0.1 go there (a pod's loopback without namespaces). */
  readonly appAddress?: string;
  /** Listener port -> the port bound instead, as pairs. */
  readonly portMap?: readonly (readonly [number, number])[];
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly secrets?: SecretSource;
  readonly extraChecks?: AdsClientOptions['extraChecks'];
  /** Overrides the bootstrap's ADS protocol (ads_config.api_type GRPC or DELTA_GRPC). */
  readonly xdsProtocol?: AdsProtocol;
  /** Changes the proxy's log level at run time (admin POST /logging?level=). */
  readonly setLogLevel?: (level: string) => boolean;
  /** The workload identity: with it the proxy gets its certificate from the CA and serves `default`/`ROOTCA`. */
  readonly identity?: ProxyIdentityOptions;
  /** Wasm plugins: where remote modules are cached (none: `oci://` and `http(s)://` modules cannot load), limits. */
  readonly wasm?: ProxyWasmOptions;
}



export interface RunningProxy {
  readonly adminUrl: string;
  readonly readinessUrl: string;
  readonly prometheusUrl: string;
  readonly xds: AdsClient;
  readonly dataPlane: DataPlane;
  readonly stats: StatsStore;
  /** The workload agent, when the proxy has an identity. */
  readonly agent: WorkloadAgent | undefined;
  state(): ServerState;
  /** Graceful drain: stop accepting, finish in-flight requests (up to `timeoutMs`), then close. */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  const b = o.bootstrap;
  const logger = o.logger ?? silentLogger;
  // A copy of the node: its metadata gains ISTHMUS_ADMIN_ADDRESS once the admin port is bound (before the
  // stream starts), so `isthmus proxy-config` finds this proxy's admin through the control plane.
  const node = clone(NodeSchema, b.node);
  // Istio's bootstrap installs its tag extractors (names ending in ';' delimit listener and cluster names).
  const stats = StatsStore.istio();
  const xds = new AdsClient({
    stats,
    clusterStatName: b.xdsClusterStatName,
    address: b.xdsAddress,
    node,
    protocol: o.xdsProtocol ?? b.xdsProtocol,
    logger,
    compile: compileResource,
    ...(o.extraChecks !== undefined ? { extraChecks: o.extraChecks } : {}),
  });
  const clock = o.clock ?? systemClock;
  const random = o.random ?? mathRandom;
  const agent = o.identity === undefined ? undefined : workloadAgentFor(o.identity, b.xdsAddress, { clock, random, logger, onChange: () => readyCheck() });
  // istio-agent's file-based secrets (DestinationRule certificate files), then ADS's.
  const adsSecrets = fileSecretSource(secretSourceOf(xds), clock);
  const wasm = wasmSetup(o.wasm, wasmNode(node), clock, logger);
  const dataPlane = new DataPlane({
    xds: xds.servingTables(),
    logger,
    clock,
    random,
    secrets: o.secrets ?? (agent !== undefined ? agentSecretSource(agent, adsSecrets) : adsSecrets),
    stats,
    ...(o.captureAddress !== undefined ? { captureAddress: o.captureAddress } : {}),
    ...(o.bindAddress !== undefined ? { bindAddress: o.bindAddress } : {}),
    ...(o.appAddress !== undefined ? { appAddress: o.appAddress } : {}),
    ...(o.portMap !== undefined ? { portMap: o.portMap } : {}),
    wasm,
    workload: ownWorkload(node.id, node.metadata),
  });
  let live = false;
  let applied = false;
  let draining = false;
  // Ready once the first config is applied and, with an identity, the workload certificate has arrived
  // (Envoy's listeners warm until their SDS secrets are there).
  const readyCheck = (): void => {
    if (!applied && xds.initialized() && (agent === undefined || agent.current !== undefined)) void dataPlane.settled().then(() => (applied = xds.initialized()));
  };
  xds.onUpdate(readyCheck);
  const state = (): ServerState => {
    if (draining) return 'DRAINING';
    if (!live && applied) live = true;
    return live ? 'LIVE' : xds.connected ? 'INITIALIZING' : 'PRE_INITIALIZING';
  };
  const startedAt = Date.now();
  installServerStats(stats, { state, startedAt, concurrency: 1, ...adsSources(xds, agent) });
  let level = logger.level as string;
  const src = {
    table: xds.table.bind(xds),
    typeState: xds.typeState.bind(xds),
    servingTable: xds.servingTable.bind(xds),
    warming: xds.warming.bind(xds),
    state,
    nodeId: b.nodeId,
    startedAt,
    stats,
    bootstrap: { config: b.raw, node, loadedAt: new Date(startedAt).toISOString() },
    liveCluster: (name: string) => dataPlane.clusters.get(name),
    ...(agent !== undefined ? { agentSecrets: () => agentSecrets(agent) } : {}),
    logLevel: () => level,
    setLogLevel: (l: string) => {
      const ok = o.setLogLevel?.(l) ?? false;
      if (ok) level = l;
      return ok;
    },
  };
  const opened: Listening[] = [];
  try {
    opened.push(await listenHttp('admin', b.admin.host, o.adminPort ?? b.admin.port, adminHandler(src)));
    opened.push(await listenHttp('readiness', o.readinessHost ?? b.admin.host, o.readinessPort ?? 15021, readinessHandler(src)));
    opened.push(await listenHttp('prometheus', o.readinessHost ?? b.admin.host, o.prometheusPort ?? 15090, prometheusHandler(stats)));
  } catch (e) {
    await Promise.all(opened.map((l) => l.close()));
    throw e;
  }
  const [admin, ready, prom] = opened as [Listening, Listening, Listening];
  node.metadata = { ...(node.metadata ?? {}), ISTHMUS_ADMIN_ADDRESS: new URL(admin.url).host };
  dataPlane.start();
  agent?.start();
  xds.start();
  const close = async (): Promise<void> => {
    agent?.close();
    xds.close();
    await dataPlane.close();
    await wasm.fetcher?.close();
    await Promise.all(opened.map((l) => l.close()));
  };
  return {
    adminUrl: admin.url,
    readinessUrl: `${ready.url}/healthz/ready`,
    prometheusUrl: `${prom.url}/stats/prometheus`,
    xds,
    dataPlane,
    stats,
    agent,
    state,
    async drain(timeoutMs: number) {
      draining = true;
      dataPlane.listeners.drain();
      await dataPlane.idle(timeoutMs);
      await close();
    },
    close,
  };
}
