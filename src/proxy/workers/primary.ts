// The primary process of `isthmus proxy --concurrency N` (N >= 2): Envoy's main thread. It owns the one
// xDS stream of this node, the admin (:15000), readiness (:15021) and Prometheus (:15090) servers, and the
// worker processes that serve traffic (Envoy's workers).
//
// Design. Envoy's workers share one config in memory; a worker process cannot, so the primary runs the
// single AdsClient (decode -> validate -> compile, ACK/NACK: a rejected update is rejected once, for the
// whole proxy) and relays each accepted table to the workers over IPC as proto bytes; each worker decodes
// and compiles them through the same path and serves from its own immutable copy (worker.ts). One stream
// per node keeps the control plane's view right: proxy-status shows one proxy, not N under one node id,
// and config_dump/clusters/listeners come from the same tables the workers run. Listening sockets are
// shared through the cluster module (worker-pool.ts says which scheduling policy and why).
// Readiness turns LIVE once the primary's config is initialized and every worker has applied it (and its
// listeners are bound), and stays LIVE as in a single process. Stats are gathered from the workers when
// read and merged (stats-merge.ts). A worker that exits is restarted in its slot. Drain (SIGTERM) tells
// every worker to stop accepting and finish in-flight requests, waits for them to exit, then closes.
// Wasm shared data and shared queues are the proxy's, not a worker's (Envoy: one store per process for all
// worker threads): the primary owns them and each worker's VMs ask it (wasm-shared-server.ts), and the
// same channel answers host_env_keys from the primary's environment. Outlier detection (outlier-hub.ts), DNS
// resolution (dns-hub.ts) and active health checks (health-hub.ts) run here once for all workers, as on Envoy's
// main thread.

import { ownWorkload } from '../telemetry/istio-metrics.js';
import { clone, toBinary } from '@bufbuild/protobuf';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmNode, type ProxyWasmOptions } from '../filters/wasm/proxy-wasm-options.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { ProxyBootstrap } from '../bootstrap.js';
import { listenHttp, readinessHandler, type Listening, type ServerState } from '../admin/admin-server.js';
import { compileResource } from '../runtime/compile-resource.js';
import { AdsClient } from '../xds-client/ads-client.js';
import { primaryAdminHandler, primaryPrometheusHandler } from './primary-admin.js';
import { WorkerPool } from './worker-pool.js';
import { mergeSnapshot, snapshotStats } from './stats-merge.js';
import { StatsStore } from '../stats/stats-store.js';
import { adsSources, installServerStats } from '../stats/server-stats.js';
import { WASM_SHARED_STDIO_FD } from './wasm-shared-channel.js';
import { WasmSharedServer } from './wasm-shared-server.js';
import { workloadAgentFor, type ProxyIdentityOptions } from '../identity/workload-agent.js';
import { agentSecretSource, agentSecrets } from '../identity/agent-secrets.js';
import { fileSecretSource } from '../identity/file-secrets.js';
import { secretSourceOf } from '../xds-client/secret-source.js';
import type { SecretSource } from '../upstream/connection-pools.js';
import { systemClock } from '../../lib/clock.js';
import { mathRandom } from '../lib/random.js';
import { OutlierHub } from './outlier-hub.js';
import { BreakerLedger } from './breaker-ledger.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { DnsHub } from './dns-hub.js';
import { HealthHub } from './health-hub.js';
import type { ToWorker } from './ipc-protocol.js';
import { healthFlagsText } from '../upstream/health-checker-flags.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';

export interface PrimaryOptions {
  readonly bootstrap: ProxyBootstrap;
  /** Worker processes (at least 2; 1 is the single-process proxy, startProxy). */
  readonly concurrency: number;
  readonly adminPort?: number;
  readonly readinessPort?: number;
  readonly readinessHost?: string;
  readonly prometheusPort?: number;
  readonly captureAddress?: string;
  readonly bindAddress?: string;
  readonly appAddress?: string;
  readonly portMap?: readonly (readonly [number, number])[];
  readonly logger?: Logger;
  /** The workers' initial log level (the primary's logger has its own). */
  readonly logLevel: string;
  /** Changes the primary's log level at run time; workers follow when it accepts the level. */
  readonly setLogLevel?: (level: string) => boolean;
  /** The worker entry file; worker-main next to this file by default. */
  readonly workerExec?: string;
  /** The workload identity: this process runs the agent and hands each certificate to the workers. */
  readonly identity?: ProxyIdentityOptions;
  /** Each worker runs its own plugin VMs (as Envoy's worker threads do) with these settings. */
  readonly wasm?: ProxyWasmOptions;
}

export interface RunningPrimary {
  readonly adminUrl: string;
  readonly readinessUrl: string;
  readonly prometheusUrl: string;
  readonly xds: AdsClient;
  state(): ServerState;
  /** Process ids of the workers running now. */
  workerPids(): number[];
  /** Graceful drain: workers stop accepting and finish in-flight requests (up to `timeoutMs`), then all close. */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** worker-main with this module's own extension: .ts when run from source (tsx), .js when built. */
function defaultWorkerExec(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker-main${extname(self)}`, import.meta.url));
}

export async function startPrimary(o: PrimaryOptions): Promise<RunningPrimary> {
  const b = o.bootstrap;
  const logger = o.logger ?? silentLogger;
  const node = clone(NodeSchema, b.node); // gains ISTHMUS_ADMIN_ADDRESS once admin is bound (as proxy.ts)
  // The primary's own stats (the ADS client's subscription stats), merged with the workers' on every read.
  const own = StatsStore.istio();
  const xds = new AdsClient({ address: b.xdsAddress, node, protocol: b.xdsProtocol, logger, compile: compileResource, stats: own });
  const shared = new WasmSharedServer({
    breakers: new BreakerLedger(),
    ...(o.wasm?.hostEnv !== undefined ? { hostEnv: o.wasm.hostEnv } : {}),
    onProtocolError: (message) => logger.error(`wasm shared stores: ${message}; the worker's channel is closed`),
  });
  const pool = new WorkerPool({
    size: o.concurrency,
    exec: o.workerExec ?? defaultWorkerExec(),
    settings: {
      concurrency: o.concurrency,
      logLevel: o.logLevel,
      ...(o.captureAddress !== undefined ? { captureAddress: o.captureAddress } : {}),
      ...(o.bindAddress !== undefined ? { bindAddress: o.bindAddress } : {}),
      ...(o.appAddress !== undefined ? { appAddress: o.appAddress } : {}),
      ...(o.portMap !== undefined ? { portMap: o.portMap } : {}),
      wasm: {
        node: wasmNode(node),
        ...(o.wasm?.cacheDir !== undefined ? { cacheDir: o.wasm.cacheDir } : {}),
        ...(o.wasm?.insecureRegistries !== undefined ? { insecureRegistries: o.wasm.insecureRegistries } : {}),
        ...(o.wasm?.cpuLimitMs !== undefined ? { cpuLimitMs: o.wasm.cpuLimitMs } : {}),
        ...(o.wasm?.maxMemoryPages !== undefined ? { maxMemoryPages: o.wasm.maxMemoryPages } : {}),
        sharedStoreFd: WASM_SHARED_STDIO_FD,
      },
      workload: ownWorkload(node.id, node.metadata),
    },
    // Workers serve the active listeners and clusters (a warming one's previous version), as a single process does.
    source: { table: xds.servingTables().table, initialized: () => xds.initialized() },
    logger,
    shared,
    greeting: () => [
      ...outliers.ejections().map((e): ToWorker => ({ t: 'outlier-state', cluster: e.cluster, ejected: e.ejected })),
      ...dns.hosts().map((h): ToWorker => ({ t: 'dns-hosts', cluster: h.cluster, assignment: toBinary(ClusterLoadAssignmentSchema, h.hosts) })),
      ...health.states().map((h): ToWorker => ({ t: 'health-state', cluster: h.cluster, hosts: h.hosts })),
    ],
    onOutlierResults: (results) => outliers.report(results),
    onHealthTraffic: (cluster) => health.traffic(cluster),
    onHealthFail: (cluster, host) => health.failImmediately(cluster, host),
  });
  // Outlier detection for the whole proxy, fed by every worker (Envoy's main-thread detectors).
  const outliers = new OutlierHub({
    clock: systemClock,
    random: mathRandom,
    stats: own,
    publish: (cluster, ejected) => pool.broadcast({ t: 'outlier-state', cluster, ejected }),
  });
  // DNS clusters' names resolved once for the whole proxy (Envoy's main thread), their hosts sent to every worker.
  const dns = new DnsHub({
    clock: systemClock,
    random: mathRandom,
    stats: own,
    publish: (cluster, hosts) => {
      pool.broadcast({ t: 'dns-hosts', cluster, assignment: toBinary(ClusterLoadAssignmentSchema, hosts) });
      // The checked and outlier-detected clusters' hosts follow the answer.
      applyHosts(...clusterInputs());
    },
  });
  // Active health checks for the whole proxy (Envoy's main-thread checkers), their hosts' flags sent to every worker.
  // Checks over TLS use the secrets the workers use: the agent's workload certificate, files, then ADS's.
  const adsSecrets = fileSecretSource(secretSourceOf(xds), systemClock);
  let secrets: SecretSource | undefined;
  const healthSecrets = (): SecretSource => (secrets ??= agent !== undefined ? agentSecretSource(agent, adsSecrets) : adsSecrets);
  const health = new HealthHub({
    clock: systemClock,
    random: mathRandom,
    secrets: {
      certificate: (name) => healthSecrets().certificate(name),
      validation: (name) => healthSecrets().validation(name),
    },
    stats: own,
    publish: (cluster, hosts) => pool.broadcast({ t: 'health-state', cluster, hosts }),
    onHealthyCheck: (cluster, key) => outliers.activeHealthCheckPassed(cluster, key),
    onRetainedChange: () => {
      const [clusters, hostsOf] = clusterInputs();
      outliers.apply(clusters, hostsOf, (name) => health.retained(name));
    },
  });
  // The served clusters, and the hosts each one's workers balance over: EDS's, the primary's DNS answer for a DNS
  // cluster (its config's hosts are names), or the static ones.
  const clusterInputs = (): [Map<string, CompiledCluster>, (c: CompiledCluster) => ClusterLoadAssignment | undefined] => {
    const table = xds.servingTables().table;
    const clusters = new Map<string, CompiledCluster>();
    for (const [n, e] of table(CLUSTER_TYPE)) if (e.compiled !== undefined) clusters.set(n, e.compiled as CompiledCluster);
    const assignments = new Map<string, ClusterLoadAssignment>();
    for (const [n, e] of table(ENDPOINT_TYPE)) assignments.set(n, e.message);
    return [clusters, (c) => (c.kind === 'eds' ? assignments.get(c.edsName) : c.dns !== undefined ? dns.hostsOf(c.name) : c.proto.loadAssignment)];
  };
  // The health checkers first: the outlier detectors also watch the hosts they keep after EDS removed them.
  const applyHosts = (clusters: Map<string, CompiledCluster>, hostsOf: (c: CompiledCluster) => ClusterLoadAssignment | undefined): void => {
    health.apply(clusters, hostsOf);
    outliers.apply(clusters, hostsOf, (name) => health.retained(name));
  };
  const applyClusterState = (): void => {
    const [clusters, hostsOf] = clusterInputs();
    dns.apply(clusters);
    applyHosts(clusters, hostsOf);
  };
  const agent =
    o.identity === undefined
      ? undefined
      : workloadAgentFor(o.identity, b.xdsAddress, {
          clock: systemClock,
          random: mathRandom,
          logger,
          onChange: () => {
            const c = agent?.current;
            if (c !== undefined) pool.setIdentity({ ...c, notBefore: c.notBefore.getTime(), notAfter: c.notAfter.getTime() });
          },
        });
  let live = false;
  let draining = false;
  const state = (): ServerState => {
    if (draining) return 'DRAINING';
    if (!live && xds.initialized() && pool.allApplied() && (agent === undefined || agent.current !== undefined)) live = true;
    return live ? 'LIVE' : xds.connected ? 'INITIALIZING' : 'PRE_INITIALIZING';
  };
  let level = o.logLevel;
  const startedAt = Date.now();
  installServerStats(own, { state, startedAt, concurrency: o.concurrency, ...adsSources(xds, agent) });
  const src = {
    table: xds.table.bind(xds),
    typeState: xds.typeState.bind(xds),
    servingTable: xds.servingTable.bind(xds),
    warming: xds.warming.bind(xds),
    state,
    nodeId: b.nodeId,
    startedAt,
    bootstrap: { config: b.raw, node, loadedAt: new Date(startedAt).toISOString() },
    ...(agent !== undefined ? { agentSecrets: () => agentSecrets(agent) } : {}),
    // /clusters: the workers balance with the hub's ejections, so the primary shows them.
    hostHealthFlags: (cluster: string, host: string, eds: HealthStatus) =>
      healthFlagsText({
        ...health.flags(cluster, host),
        failedOutlierCheck: outliers.isEjected(cluster, host),
        failedEdsHealth: eds === HealthStatus.UNHEALTHY || eds === HealthStatus.DRAINING || eds === HealthStatus.TIMEOUT,
        degradedEdsHealth: eds === HealthStatus.DEGRADED,
      }),
    // /clusters: a DNS cluster's hosts as the primary resolved them for the workers.
    dnsHosts: (cluster: string) => dns.hostsOf(cluster),
    // /clusters: hosts EDS removed that the workers keep while they pass their checks.
    retainedHosts: (cluster: string) => health.retainedHosts(cluster),
    logLevel: () => level,
    setLogLevel: (l: string) => {
      const ok = o.setLogLevel?.(l) ?? false;
      if (ok) {
        level = l;
        pool.setLogLevel(l);
      }
      return ok;
    },
  };
  const gather = async (): Promise<StatsStore> => {
    // The primary's own stats first: what its outlier detectors had done by now has reached the workers
    // before they are asked (one ordered channel each), so their membership gauges agree with its ejections.
    own.refresh();
    const mine = snapshotStats(own);
    const merged = await pool.stats();
    mergeSnapshot(merged, mine);
    return merged;
  };
  const opened: Listening[] = [];
  try {
    opened.push(await listenHttp('admin', b.admin.host, o.adminPort ?? b.admin.port, primaryAdminHandler(src, gather, o.concurrency)));
    opened.push(await listenHttp('readiness', o.readinessHost ?? b.admin.host, o.readinessPort ?? 15021, readinessHandler(src)));
    opened.push(await listenHttp('prometheus', o.readinessHost ?? b.admin.host, o.prometheusPort ?? 15090, primaryPrometheusHandler(gather)));
  } catch (e) {
    await Promise.all(opened.map((l) => l.close()));
    throw e;
  }
  const [admin, ready, prom] = opened as [Listening, Listening, Listening];
  node.metadata = { ...(node.metadata ?? {}), ISTHMUS_ADMIN_ADDRESS: new URL(admin.url).host };
  xds.onUpdate(() => {
    pool.publish();
    applyClusterState();
  });
  pool.start();
  agent?.start();
  xds.start();
  let closing: Promise<void> | undefined;
  const stop = (timeoutMs: number): Promise<void> =>
    (closing ??= (async () => {
      draining = true;
      await pool.drain(timeoutMs);
      agent?.close();
      outliers.close();
      dns.close();
      health.close();
      xds.close();
      await Promise.all(opened.map((l) => l.close()));
    })());
  return {
    adminUrl: admin.url,
    readinessUrl: `${ready.url}/healthz/ready`,
    prometheusUrl: `${prom.url}/stats/prometheus`,
    xds,
    state,
    workerPids: () => pool.pids(),
    drain: stop,
    close: () => stop(0),
  };
}
