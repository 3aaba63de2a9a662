// `isthmus up`'s engine: a whole mesh on one machine, no cluster. The control plane runs in this process
// on the folder's config; every pod the Deployments call for runs as processes of its own:
// - its IP is a loopback address of its own, 127.10.x.y (Linux routes all of 127/8 to lo), so every pod
//   keeps the ports the config names (9080 for each Bookinfo service) as pods in a cluster do;
// - an app pod's sidecar (`isthmus proxy --capture-address <pod IP>`) serves the pod IP's ports (inbound)
//   and the outbound HTTP proxy on <pod IP>:15001; the app gets HTTP_PROXY pointing there, listens on its
//   own address 127.11.x.y (HOST, PORT), which stands in for the pod's localhost: the sidecar's inbound
//   clusters (127.0.0.1:<port>) are dialled there (`--app-address`), so the sidecar is the only way in;
// - the proxy's admin, readiness and Prometheus ports are the pod IP's 15000, 15021 and 15090;
// - the proxies of all pods run in one `isthmus proxies` process (src/cli/proxy-host.ts), each still its own
//   proxy with its own node, xDS stream and ports; --isolate-proxies gives each a process of its own;
// - a gateway pod runs the proxy alone, its listeners bound on 127.0.0.1, port 8080 mapped to
//   --ingress-port.
// Each pod is registered as a local workload once its app listens (its endpoints become ready then), and
// deregistered when it stops. Deployments added, changed or removed in the folder are rolled out live.

import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KindRegistry } from '../../api/kind.js';
import { IsthmusError } from '../../lib/errors.js';
import { startControlPlane, type DashboardSettings, type RunningControlPlane } from '../control-plane.js';
import type { MeshConfig } from '../../model/mesh-config.js';
import type { PilotFeatures } from '../../model/pilot-features.js';
import type { Launcher } from './launch.js';
import { planPods, type PodPlan } from './pod-plan.js';
import { placementOf, podProcesses, podWorkload, waitPodReady, type PodPlacement } from './pod-processes.js';
import { Supervisor, type SupervisorEvent } from './supervisor.js';
import type { HostedProxySpec } from '../proxy-host.js';

export interface LocalMeshOptions {
  readonly configDir: string;
  readonly registry: KindRegistry;
  readonly launcher: Launcher;
  readonly xdsPort: number;
  readonly monitoringPort: number;
  /** The port the ingress gateway's HTTP listener (8080 in the config) is bound on, on 127.0.0.1. */
  readonly ingressPort: number;
  /** Progress and reports, one line each. */
  readonly report: (line: string) => void;
  readonly onLine?: (name: string, line: string) => void;
  /** First pod address index; a second mesh on the same machine needs another range. */
  readonly addressBase?: number;
  /** Mesh-wide settings (`--mesh-config`); Istio's defaults otherwise. */
  readonly mesh?: MeshConfig;
  /** istiod's feature flags (PILOT_* variables, read once by `isthmus up`); Istio's defaults otherwise. */
  readonly features?: PilotFeatures;
  /** Istio's cacerts folder for the CA (`--cacerts`); a self-signed root otherwise. */
  readonly cacertsDir?: string;
  readonly readyTimeoutMs?: number;
  /** A process per proxy instead of one process hosting them all (`isthmus proxies`). */
  readonly isolateProxies?: boolean;
  /** The control plane's dashboard (`--dashboard-port`); absent: none. */
  readonly dashboard?: DashboardSettings;
  /** How often the proxies' metrics are scraped (`--metrics-interval`); default 5 s. */
  readonly metricsScrapeIntervalMs?: number;
}

export type PodPhase = 'Starting' | 'Running' | 'Failed';

export interface PodStatus {
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly role: 'gateway' | 'app';
  readonly ip: string;
  readonly appAddress: string;
  readonly adminUrl: string;
  phase: PodPhase;
  restarts: number;
}

export interface RunningLocalMesh {
  readonly cp: RunningControlPlane;
  readonly ingressUrl: string | undefined;
  pods(): readonly PodStatus[];
  /** Process ids by process name (`<pod> (sidecar)`, `<pod> (app <container>)`). */
  pids(): ReadonlyMap<string, number>;
  /** Resolves once every pod present now is ready (or the timeout passes; the pods not ready are named). */
  ready(): Promise<readonly string[]>;
  stop(): Promise<void>;
}

async function assertPortFree(host: string, port: number, what: string, flag: string): Promise<void> {
  const s = createServer();
  await new Promise<void>((ok, fail) => {
    s.once('error', (e: NodeJS.ErrnoException) =>
      fail(new IsthmusError('ISM_LISTEN', `${what} cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}; choose another with ${flag}`)),
    );
    s.listen(port, host, () => s.close(() => ok()));
  });
}

interface LivePod {
  readonly plan: PodPlan;
  readonly status: PodStatus;
  readonly at: PodPlacement;
  readonly processes: string[];
  /** Resolves true once ready (and registered), false if it stopped first. */
  ready: Promise<boolean>;
  stopped: boolean;
}

export async function startLocalMesh(o: LocalMeshOptions): Promise<RunningLocalMesh> {
  await assertPortFree('127.0.0.1', o.ingressPort, 'the ingress gateway (HTTP)', '--ingress-port');
  const cp = await startControlPlane({
    configDir: o.configDir,
    registry: o.registry,
    xdsPort: o.xdsPort,
    monitoringPort: o.monitoringPort,
    onProblem: (line) => o.report(`  ! ${line}`),
    ...(o.mesh !== undefined ? { mesh: o.mesh } : {}),
    ...(o.features !== undefined ? { features: o.features } : {}),
    ...(o.cacertsDir !== undefined ? { cacertsDir: o.cacertsDir } : {}),
    ...(o.dashboard !== undefined ? { dashboard: o.dashboard } : {}),
    ...(o.metricsScrapeIntervalMs !== undefined ? { metricsScrapeIntervalMs: o.metricsScrapeIntervalMs } : {}),
  });
  const stateDir = await mkdtemp(join(tmpdir(), 'isthmus-up-'));
  const readyTimeout = o.readyTimeoutMs ?? 20_000;
  const live = new Map<string, LivePod>();
  const usedIndexes = new Set<number>();
  let gatewaySeen = false;
  let stopping = false;
  // The pods' proxies, hosted by one `isthmus proxies` process unless isolateProxies.
  const HOST = 'proxies';
  const hostSpecFile = join(stateDir, 'proxies.json');
  const hostedProxies = new Map<string, HostedProxySpec>();
  let hostStarted = false;
  const writeHostSpec = async (): Promise<void> => {
    const tmp = `${hostSpecFile}.tmp`;
    await writeFile(tmp, JSON.stringify({ proxies: [...hostedProxies.values()] }, null, 2));
    await rename(tmp, hostSpecFile);
  };
  const supervisor = new Supervisor({
    onEvent: (e) => onSupervisorEvent(e),
    ...(o.onLine !== undefined ? { onLine: o.onLine } : {}),
  });

  function onSupervisorEvent(e: SupervisorEvent): void {
    if (stopping) return;
    // The proxy host's exit concerns every pod whose proxy it runs.
    const pods = e.name === HOST ? [...live.values()].filter((p) => hostedProxies.has(p.plan.name)) : [...live.values()].filter((p) => p.processes.includes(e.name));
    if (e.type === 'exited') {
      const why = e.signal !== null ? `signal ${e.signal}` : `code ${e.code ?? '?'}`;
      o.report(`! ${e.name} exited (${why}); restarting in ${Math.round(e.restartInMs / 1000)}s`);
      for (const l of e.lastLines.slice(-5)) o.report(`    | ${l}`);
      for (const pod of pods) pod.status.phase = 'Failed';
    } else if (e.type === 'restarted') {
      o.report(`  ${e.name} restarted (restart ${e.restarts})`);
      for (const pod of pods) {
        pod.status.restarts = e.restarts;
        void waitPodReady(pod.plan, pod.at, () => pod.stopped || stopping).then((ok) => {
          if (ok && !pod.stopped) pod.status.phase = 'Running';
        });
      }
    } else o.report(`! ${e.name} cannot start: ${e.error}`);
  }

  /** The next pod index whose address neither this mesh nor a workload from `isthmus run` uses. */
  const nextIndex = (): number => {
    const taken = new Set(cp.workloads.list().map((w) => w.address));
    let n = o.addressBase ?? 1;
    while (usedIndexes.has(n) || taken.has(placementOf(n).ip)) n++;
    usedIndexes.add(n);
    return n;
  };

  async function startPod(plan: PodPlan): Promise<void> {
    const at = placementOf(nextIndex());
    const status: PodStatus = { name: plan.name, namespace: plan.namespace, owner: plan.owner, role: plan.role, ip: at.ip, appAddress: at.appAddress, adminUrl: `http://${at.ip}:15000`, phase: 'Starting', restarts: 0 };
    const specs = await podProcesses(plan, at, { launcher: o.launcher, xdsAddress: cp.xdsAddress, stateDir, cwd: o.configDir, ingressPort: o.ingressPort, token: (id) => cp.ca.issueToken(id) });
    for (const p of specs.problems) o.report(`! ${p}`);
    const processes: string[] = [];
    if (o.isolateProxies === true) {
      supervisor.start(specs.proxy);
      processes.push(specs.proxy.name);
    } else hostedProxies.set(plan.name, specs.hosted);
    for (const spec of specs.apps) {
      supervisor.start(spec);
      processes.push(spec.name);
    }
    const pod: LivePod = { plan, status, at, processes, stopped: false, ready: Promise.resolve(false) };
    pod.ready = waitPodReady(plan, at, () => pod.stopped || stopping).then((ok) => {
      if (pod.stopped || !ok) return false;
      status.phase = 'Running';
      cp.workloads.register(podWorkload(plan, at, true));
      return true;
    });
    live.set(plan.name, pod);
  }

  async function stopPod(name: string): Promise<void> {
    const pod = live.get(name);
    if (pod === undefined) return;
    pod.stopped = true;
    live.delete(name);
    cp.workloads.deregister(pod.plan.namespace, pod.plan.name);
    if (hostedProxies.delete(name)) await writeHostSpec();
    // Apps first, then the sidecar: in-flight calls out of the app still have their proxy.
    for (const p of pod.processes.filter((x) => !x.endsWith('(sidecar)') && !x.endsWith('(gateway)'))) await supervisor.stop(p);
    for (const p of pod.processes) await supervisor.stop(p);
  }

  /** Starts the pods the config calls for and stops those it no longer does (a changed template rolls). */
  let reconciling: Promise<void> = Promise.resolve();
  function reconcile(): Promise<void> {
    reconciling = reconciling.then(async () => {
      if (stopping) return;
      const { pods, problems } = planPods(cp.store.list());
      for (const p of problems) o.report(`! ${p}`);
      const want = new Map(pods.map((p) => [p.name, p]));
      for (const name of [...live.keys()]) if (!want.has(name)) {
        o.report(`  stopping ${name}`);
        await stopPod(name);
      }
      const added = pods.filter((p) => !live.has(p.name));
      if (added.length > 0 && live.size > 0) for (const p of added) o.report(`  starting ${p.name}.${p.namespace}`);
      for (const p of added) await startPod(p);
      if (added.length > 0 && o.isolateProxies !== true) {
        await writeHostSpec();
        if (!hostStarted) {
          hostStarted = true;
          supervisor.start({
            name: HOST,
            command: o.launcher.node,
            args: [...o.launcher.isthmusArgs, 'proxies', '--spec', hostSpecFile, '--log-level', 'warn'],
            env: process.env,
            cwd: o.configDir,
          });
        }
      }
      if (!gatewaySeen && pods.some((p) => p.role === 'gateway')) gatewaySeen = true;
    });
    return reconciling;
  }

  try {
    await reconcile();
  } catch (e) {
    await supervisor.stopAll(1000);
    await cp.close();
    await rm(stateDir, { recursive: true, force: true });
    throw e;
  }
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe = cp.store.subscribe((batch) => {
    if (!batch.changes.some((c) => c.entry.kind.kind === 'Deployment')) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reconcile(), 200);
  });

  return {
    cp,
    get ingressUrl() {
      return gatewaySeen ? `http://127.0.0.1:${o.ingressPort}` : undefined;
    },
    pods: () => [...live.values()].map((p) => ({ ...p.status })),
    pids: () => supervisor.pids(),
    async ready() {
      await reconciling;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), readyTimeout)));
      const results = await Promise.all([...live.values()].map(async (p) => ((await Promise.race([p.ready, timeout])) ? undefined : `${p.plan.name}.${p.plan.namespace}`)));
      // Every pod registered: push that now rather than after the debounce, and wait until every proxy
      // acknowledged it, so the mesh routes to every pod when this resolves.
      cp.discovery.flushPending();
      let waited = false;
      void timeout.then(() => (waited = true));
      for (let turn = 0; turn < 2 * live.size; turn++) await new Promise((r) => setImmediate(r));
      while (!waited && cp.discovery.syncz().some((e) => Object.values(e.resources).some((r) => r.status === 'STALE'))) await new Promise((r) => setTimeout(r, 20));
      clearTimeout(timer);
      return results.filter((x): x is string => x !== undefined);
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      unsubscribe();
      await reconciling.catch(() => undefined);
      for (const p of live.values()) p.stopped = true;
      // Apps first, then proxies (as stopPod, for all pods at once).
      const all = [...live.values()];
      live.clear();
      await Promise.all(all.flatMap((p) => p.processes.filter((x) => !x.endsWith('(sidecar)') && !x.endsWith('(gateway)')).map((x) => supervisor.stop(x))));
      await supervisor.stopAll();
      await cp.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
