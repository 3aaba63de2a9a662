// `isthmus control-plane --config <folder>`: istiod's job on its own. The folder's config (validated,
// last good version per resource kept) and the workloads registered at run time feed the mesh snapshot;
// the xDS server pushes every connected proxy what changed (debounced), plaintext ADS on :15010,
// monitoring, debug and the workload API on :15014. `startControlPlane` is also what `isthmus up` runs.
// It also scrapes the Istio metrics of every connected proxy that tells its admin address
// (ISTHMUS_ADMIN_ADDRESS) and serves them as JSON under /api/metrics (src/dashboard/server), and runs the
// dashboard (graph, config, proxies; token login) on a port of its own when asked to.
// istiod's feature flags that change translation (PILOT_ENABLE_PERSISTENT_SESSION_FILTER, the persistent
// session label names, PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS) are read once from the environment when the command starts (pilotFeaturesFromEnv) and
// given to every snapshot.

import type { Command } from 'commander';
import { createServer, type Server } from 'node:http';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KindRegistry } from '../api/kind.js';
import { FolderSource } from '../config/folder-source.js';
import { ConfigStore } from '../config/store.js';
import { IsthmusError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { silentLogger } from '../lib/logger.js';
import { snapshotFromConfig } from '../model/build-snapshot.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../model/mesh-config.js';
import { pilotFeaturesFromEnv, type PilotFeatures } from '../model/pilot-features.js';
import type { MeshSnapshot } from '../model/snapshot.js';
import { LocalWorkloads } from '../registry/local-workloads.js';
import { autoRegisteredName, autoRegisteredWorkload } from '../registry/auto-register.js';
import { isKind } from '../api/kind.js';
import { resourceKey } from '../api/resource.js';
import { WORKLOAD_GROUP } from '../api/networking/workload-group.js';
import type { Proxy } from '../model/proxy.js';
import { handleWorkloadRequest } from '../registry/workload-api.js';
import { translate } from '../translate/translate.js';
import { DiscoveryServer, listenAds, monitoringHandler } from '../xds-server/index.js';
import { formatReportRow, rowsOf } from './validate.js';
import { ConfigApi } from './config-api.js';
import { CaApi } from './ca-api.js';
import { readMeshConfigFile } from './mesh-config-file.js';
import { startMeshCa, type MeshCa } from '../ca/mesh-ca.js';
import { systemClock } from '../lib/clock.js';
import { REQUEST_AUTHENTICATION } from '../api/security/request-authentication.js';
import { JwksResolver } from '../config/jwks-resolver.js';
import { jwksSourcesOf } from '../translate/httpfilter/jwt/jwks-source.js';
import type { CliIO } from './output.js';
import { startProxyMetrics } from '../dashboard/server/proxy-metrics.js';
import type { ScrapeTarget } from '../dashboard/server/scraper.js';
import type { Connection } from '../xds-server/connection.js';
import { DEFAULT_DASHBOARD_PORT, startDashboard, type RunningDashboard } from '../dashboard/server/dashboard-server.js';
import { dashboardInfoHandler } from '../dashboard/server/dashboard-info.js';
import { buildServiceGraph } from '../dashboard/server/service-graph.js';
import { withIdleServices } from '../dashboard/server/graph-view.js';
import { buildConfigView } from '../dashboard/server/config-view.js';
import type { ProxyTables } from '../dashboard/server/proxy-view.js';
import type { DashboardInfo } from '../dashboard/shared/api-types.js';
import { proxyConfigTables } from './dashboard.js';

export interface ControlPlaneOptions {
  readonly configDir: string;
  readonly registry: KindRegistry;
  readonly host?: string;
  readonly xdsPort: number;
  readonly monitoringPort: number;
  readonly debounceMs?: number;
  readonly mesh?: MeshConfig;
  /** istiod's feature flags (PILOT_* variables), read once; Istio's defaults when absent. One object for every rebuild. */
  readonly features?: PilotFeatures;
  readonly logger?: Logger;
  /** Called with each invalid resource row after a (re)load, to report it. */
  readonly onProblem?: (line: string) => void;
  /** Istio's cacerts folder for the CA; absent = a self-signed root made at start. */
  readonly cacertsDir?: string;
  /** Default workload certificate lifetime (24h). */
  readonly workloadCertTtlMs?: number;
  /** How often the proxies' Istio metrics are scraped for /api/metrics (default 5000 ms). */
  readonly metricsScrapeIntervalMs?: number;
  /** Run the dashboard (src/dashboard/server); absent: no dashboard. */
  readonly dashboard?: DashboardSettings;
}

export interface DashboardSettings {
  /** 0 picks a free port. */
  readonly port: number;
  /** When the port cannot be bound: true runs on without a dashboard (reported through onProblem); false fails the start. */
  readonly optional?: boolean;
  /** The login token; default a random one made now. */
  readonly token?: string;
  /** How proxy tables are built; default `isthmus proxy-config`'s. */
  readonly proxyTables?: ProxyTables;
  /** The built web app; default dist/dashboard-web of this package. */
  readonly webRoot?: string;
}

export interface RunningControlPlane {
  readonly xdsAddress: string;
  readonly monitoringUrl: string;
  readonly store: ConfigStore;
  readonly workloads: LocalWorkloads;
  readonly discovery: DiscoveryServer;
  /** The CA that signs workload certificates (served on the xDS port) and issues workload tokens. */
  readonly ca: MeshCa;
  /** The dashboard's address and login token; undefined when it does not run. */
  readonly dashboard: DashboardInfo | undefined;
  /** The snapshot being served. */
  snapshot(): MeshSnapshot;
  close(): Promise<void>;
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<RunningControlPlane> {
  const logger = o.logger ?? silentLogger;
  const mesh = o.mesh ?? DEFAULT_MESH_CONFIG;
  const store = new ConfigStore();
  const workloads = new LocalWorkloads();
  const source = new FolderSource({ dir: o.configDir, registry: o.registry, store, debounceMs: o.debounceMs ?? 100, logger });
  let version = 0;
  let current: MeshSnapshot | undefined;
  // istiod fetches RequestAuthentication JWKS itself and sends the keys inline (PILOT_JWT_ENABLE_REMOTE_JWKS=false);
  // a fetched or refreshed document triggers a push. onChange only fires after a fetch, when `discovery` exists.
  const jwksResolver = new JwksResolver({ clock: systemClock, logger, onChange: () => discovery.configChanged(rebuild) });
  const rebuild = (): MeshSnapshot => {
    const entries = store.list();
    const jwks = jwksResolver.resolve(jwksSourcesOf(entries.flatMap((e) => (isKind(e.resource, REQUEST_AUTHENTICATION) ? [e.resource] : []))));
    current = snapshotFromConfig(entries, { version: String(++version), mesh, ...(o.features !== undefined ? { features: o.features } : {}), localWorkloads: workloads.list(), jwks });
    for (const p of current.problems) logger.warn('config skipped', { path: p.path, message: p.message });
    return current;
  };
  const report = (): void => {
    if (o.onProblem === undefined) return;
    for (const e of source.problems()) for (const row of rowsOf(e)) o.onProblem(formatReportRow(row));
    for (const p of current?.problems ?? []) o.onProblem(`${p.path}: ${p.message}`);
  };
  const ca = await startMeshCa({
    trustDomain: mesh.trustDomain,
    clock: systemClock,
    logger,
    ...(o.cacertsDir !== undefined ? { cacertsDir: o.cacertsDir } : {}),
    ...(o.workloadCertTtlMs !== undefined ? { workloadTtlMs: o.workloadCertTtlMs } : {}),
  });
  await source.start();
  const autoRegistered = new AutoRegistration(store, workloads, logger);
  const discovery = new DiscoveryServer({
    translate,
    snapshot: rebuild(),
    logger,
    ...(o.debounceMs !== undefined ? { debounceAfterMs: o.debounceMs } : {}),
    onConnect: (p) => autoRegistered.connected(p),
    onDisconnect: (p) => autoRegistered.disconnected(p),
  });
  report();
  source.onReload((r) => {
    if (r.batch !== undefined || [...r.problems.values()].some((p) => p.length > 0)) report();
  });
  const unsubscribe = workloads.subscribe(() => discovery.configChanged(rebuild));
  // Every change of the store (the folder's reloads, `isthmus apply` and `delete`) is pushed, debounced.
  const unsubscribeStore = store.subscribe(() => discovery.configChanged(rebuild));
  const configApi = new ConfigApi(store, o.registry);
  const caApi = new CaApi(ca);

  const host = o.host ?? '127.0.0.1';
  const ads = await listenAds(discovery, { host, port: o.xdsPort, services: [(server) => ca.addTo(server)] }).catch((e: unknown) => {
    source.stop();
    ca.close();
    jwksResolver.close();
    throw new IsthmusError('ISM_LISTEN', e instanceof Error ? e.message : String(e));
  });
  const metrics = startProxyMetrics({
    targets: () => scrapeTargets(discovery.connections()),
    clock: systemClock,
    logger,
    ...(o.metricsScrapeIntervalMs !== undefined ? { intervalMs: o.metricsScrapeIntervalMs } : {}),
  });
  let dashboard: RunningDashboard | undefined;
  if (o.dashboard !== undefined) {
    dashboard = await startDashboard({
      host,
      port: o.dashboard.port,
      clock: systemClock,
      logger,
      ...(o.dashboard.token !== undefined ? { token: o.dashboard.token } : {}),
      ...(o.dashboard.webRoot !== undefined ? { webRoot: o.dashboard.webRoot } : {}),
      graph: (q) => withIdleServices(buildServiceGraph(metrics.store, { ...q, now: systemClock.now() }), current?.services ?? [], q.namespace),
      config: () => buildConfigView(store.list(), source.problems()),
      proxies: () => discovery.syncz(),
      proxyTables: o.dashboard.proxyTables ?? proxyConfigTables,
      maxWindowMs: metrics.store.retentionMs,
      // The service and workload pages.
      snapshot: () => current,
      configEntries: () => store.list(),
      proxyNodes: () => discovery.connections().map((c) => c.proxy),
      series: metrics.store,
      scrapeIntervalMs: metrics.scraper.intervalMs,
    }).catch(async (e: unknown) => {
      const why = `the dashboard cannot listen on ${host}:${o.dashboard?.port}: ${(e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use' : e instanceof Error ? e.message : String(e)}`;
      if (o.dashboard?.optional === true) {
        o.onProblem?.(`${why}; running without it (--dashboard-port chooses another port)`);
        return undefined;
      }
      source.stop();
      ca.close();
      jwksResolver.close();
      await metrics.close();
      await ads.close();
      throw new IsthmusError('ISM_LISTEN', `${why}; choose another with --dashboard-port`);
    });
  }
  const dashboardInfo: DashboardInfo | undefined = dashboard === undefined ? undefined : { url: dashboard.url, loginUrl: dashboard.loginUrl, token: dashboard.token };
  const dashboardApi = dashboardInfoHandler(() => dashboardInfo);
  const monitor = monitoringHandler(discovery, metrics.handle);
  const http: Server = createServer((req, res) => {
    if (!handleWorkloadRequest(workloads, req, res) && !configApi.handle(req, res) && !caApi.handle(req, res) && !dashboardApi(req, res)) monitor(req, res);
  });
  const monitoringPort = await new Promise<number>((ok, fail) => {
    http.once('error', (e) => fail(new IsthmusError('ISM_LISTEN', `cannot listen for monitoring on ${host}:${o.monitoringPort}: ${e.message}`)));
    http.listen(o.monitoringPort, host, () => {
      const a = http.address();
      ok(typeof a === 'object' && a !== null ? a.port : o.monitoringPort);
    });
  }).catch(async (e: unknown) => {
    source.stop();
    ca.close();
    jwksResolver.close();
    await metrics.close();
    await ads.close();
    await dashboard?.close();
    throw e;
  });
  return {
    xdsAddress: ads.address,
    monitoringUrl: `http://${host}:${monitoringPort}`,
    store,
    workloads,
    discovery,
    ca,
    dashboard: dashboardInfo,
    snapshot: () => current as MeshSnapshot,
    async close() {
      jwksResolver.close();
      ca.close();
      unsubscribe();
      unsubscribeStore();
      source.stop();
      await metrics.close();
      await ads.close();
      await dashboard?.close();
      await new Promise<void>((ok) => {
        http.close(() => ok());
        http.closeAllConnections();
      });
    },
  };
}

/** One scrape target per proxy that sent its admin address (several streams of a proxy are one target). */
export function scrapeTargets(connections: readonly Connection[]): ScrapeTarget[] {
  const byId = new Map<string, ScrapeTarget>();
  for (const c of connections) {
    const admin = c.proxy.metadata['ISTHMUS_ADMIN_ADDRESS'];
    if (typeof admin !== 'string' || admin === '') continue;
    byId.set(c.proxy.workloadId, { id: c.proxy.workloadId, url: `http://${admin}/stats/prometheus` });
  }
  return [...byId.values()];
}

/**
 * WorkloadGroup auto-registration: a proxy whose node metadata has AUTO_REGISTER_GROUP=<group> is a
 * workload of that WorkloadGroup (in its namespace) while it has a stream open. Istio keeps the entry
 * for a grace period after a disconnect; here it goes when the last stream of the proxy closes.
 */
class AutoRegistration {
  readonly #streams = new Map<string, number>();

  constructor(
    private readonly store: ConfigStore,
    private readonly workloads: LocalWorkloads,
    private readonly logger: Logger,
  ) {}

  connected(p: Proxy): void {
    const group = p.metadata['AUTO_REGISTER_GROUP'];
    if (typeof group !== 'string' || group === '') return;
    const entry = this.store.get(resourceKey('networking.istio.io', 'WorkloadGroup', p.namespace, group));
    if (entry === undefined || !isKind(entry.resource, WORKLOAD_GROUP)) {
      this.logger.warn('auto-registration: no such WorkloadGroup; the proxy is not registered', { node: p.id, group: `${p.namespace}/${group}` });
      return;
    }
    const ip = p.ipAddresses[0];
    if (ip === undefined) {
      this.logger.warn('auto-registration: the node id has no IP address', { node: p.id });
      return;
    }
    this.#streams.set(p.id, (this.#streams.get(p.id) ?? 0) + 1);
    this.workloads.register(autoRegisteredWorkload(entry.resource, { namespace: p.namespace, ip, labels: p.labels, locality: p.locality }));
  }

  disconnected(p: Proxy): void {
    const n = this.#streams.get(p.id);
    if (n === undefined) return;
    if (n > 1) {
      this.#streams.set(p.id, n - 1);
      return;
    }
    this.#streams.delete(p.id);
    const group = p.metadata['AUTO_REGISTER_GROUP'] as string;
    this.workloads.deregister(p.namespace, autoRegisteredName(group, p.ipAddresses[0] ?? ''));
  }
}

function port(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new IsthmusError('ISM_USAGE', `invalid ${name} "${v}": must be a port number 0-65535`);
  return n;
}

export interface ControlPlaneDeps {
  readonly io: CliIO;
  readonly registry: KindRegistry;
  readonly stopSignal: () => Promise<void>;
  readonly logger?: Logger;
  /** Where istiod's PILOT_* feature variables are read from, once at start; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function registerControlPlane(program: Command, deps: ControlPlaneDeps): void {
  const { io } = deps;
  program
    .command('control-plane')
    .description('Run the control plane alone: serve the config folder to proxies over xDS (istiod\'s job)')
    .requiredOption('--config <folder>', 'the config folder (read recursively and watched)')
    .option('--xds-port <port>', 'plaintext ADS port (0 picks a free one)', '15010')
    .option('--monitoring-port <port>', 'metrics, debug and workload API port (0 picks a free one)', '15014')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--debounce <ms>', 'quiet period before a change is pushed, in milliseconds (istiod: 100)', '100')
    .option('--mesh-config <file>', "mesh-wide settings (istiod's mesh config: trustDomain, extensionProviders, accessLogFile, ...), as the MeshConfig YAML or Istio's `istio` ConfigMap")
    .option('--metrics-interval <ms>', "how often the proxies' Istio metrics are scraped for /api/metrics, in milliseconds", '5000')
    .option('--cacerts <folder>', "Istio's cacerts folder (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) for the CA; default: a self-signed root made at start")
    .option('--dashboard-port <port>', 'the dashboard (service graph, config, proxies; log in with the token printed at start); 0 picks a free port', String(DEFAULT_DASHBOARD_PORT))
    .addHelpText(
      'after',
      `
Endpoints on the monitoring port:
  /metrics   /ready   /debug/syncz   /debug/config_dump?proxyID=<id>   /debug/proxy_status?proxyID=<id>
  /v1/workloads (GET, POST), /v1/workloads/<ns>/<name> (DELETE), /v1/workloads/<ns>/<name>/health (PUT)
  /v1/config (GET, POST, DELETE)   /v1/ca/root (GET)   /v1/tokens (POST {"namespace","serviceAccount"})
  /api/metrics, /api/metrics/{names,series,rate,quantile,graph}: the proxies' Istio metrics of the last
  10 minutes, scraped from each connected proxy's /stats/prometheus (what \`isthmus x metrics\` reads)
  /api/dashboard: the dashboard's URL and login token (what \`isthmus dashboard\` prints)

The dashboard (--dashboard-port, 20001) serves the service graph, the config with its analyzer messages
and the proxies' config; it answers only after a login with the token printed at start. When the default
port is taken the control plane runs without it (a port given explicitly must be free).

The CA signs workload certificates for proxies started with --token-file (a token from /v1/tokens).

Invalid resources are reported and skipped; the last good version of each keeps serving.

Environment, read once at start (istiod's feature flags; docs/control-plane.md):
  PILOT_ENABLE_PERSISTENT_SESSION_FILTER  persistent sessions (stateful_session filter); default false
  PILOT_PERSISTENT_SESSION_LABEL          cookie session label; default istio.io/persistent-session
  PILOT_PERSISTENT_SESSION_HEADER_LABEL   header session label; default istio.io/persistent-session-header
  PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS
                                          several CUSTOM authorization providers per workload; default false

Examples:
  isthmus control-plane --config examples/
  isthmus bootstrap --proxyless --node client > bootstrap.json`,
    )
    .action(async (opts: { config: string; xdsPort: string; monitoringPort: string; host: string; debounce: string; meshConfig?: string; cacerts?: string; metricsInterval: string; dashboardPort: string }, cmd: Command) => {
      const dir = resolve(io.cwd, opts.config);
      const st = await stat(dir).catch(() => undefined);
      if (st === undefined || !st.isDirectory()) throw new IsthmusError('ISM_FILE_READ', `cannot read config ${opts.config}: not a folder`);
      const debounceMs = Number(opts.debounce);
      if (!Number.isFinite(debounceMs) || debounceMs < 0) throw new IsthmusError('ISM_USAGE', `invalid --debounce "${opts.debounce}": must be a number of milliseconds`);
      const metricsScrapeIntervalMs = Number(opts.metricsInterval);
      if (!Number.isFinite(metricsScrapeIntervalMs) || metricsScrapeIntervalMs <= 0) throw new IsthmusError('ISM_USAGE', `invalid --metrics-interval "${opts.metricsInterval}": must be a number of milliseconds > 0`);
      const mesh = await readMeshConfigFile(opts.meshConfig !== undefined ? resolve(io.cwd, opts.meshConfig) : undefined);
      const { features, problems } = pilotFeaturesFromEnv(deps.env ?? process.env);
      for (const p of problems) io.stderr(`  ! ${p.path}: ${p.message}\n`);
      const stopped = deps.stopSignal();
      const cp = await startControlPlane({
        configDir: dir,
        mesh,
        features,
        ...(opts.cacerts !== undefined ? { cacertsDir: resolve(io.cwd, opts.cacerts) } : {}),
        registry: deps.registry,
        host: opts.host,
        xdsPort: port('--xds-port', opts.xdsPort),
        monitoringPort: port('--monitoring-port', opts.monitoringPort),
        debounceMs,
        metricsScrapeIntervalMs,
        dashboard: { port: port('--dashboard-port', opts.dashboardPort), optional: cmd.getOptionValueSource('dashboardPort') === 'default' },
        ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
        onProblem: (line) => io.stderr(`  ! ${line}\n`),
      });
      const snap = cp.snapshot();
      io.stdout(`control plane serving ${opts.config}: ${cp.store.size} resources, ${snap.services.length} services\n`);
      io.stdout(`  xDS (ADS, plaintext)  ${cp.xdsAddress} (and the CA: istio.v1.auth.IstioCertificateService)\n`);
      io.stdout(`  monitoring and debug  ${cp.monitoringUrl}\n`);
      if (cp.dashboard !== undefined) io.stdout(`  dashboard             ${cp.dashboard.loginUrl} (token: ${cp.dashboard.token})\n`);
      await stopped;
      await cp.close();
      io.stdout('stopped\n');
    });
}
