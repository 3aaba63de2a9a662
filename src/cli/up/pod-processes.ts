// The processes of one local pod, shared by `isthmus up` and `isthmus run`: its proxy (a sidecar
// capturing on the pod IP with the app behind --app-address, or a gateway bound on 127.0.0.1) and its app
// containers, with the environment a pod gives them (HOSTNAME, POD_NAME, POD_NAMESPACE, INSTANCE_IP,
// HOST/PORT where to listen, HTTP_PROXY through the sidecar). Also the pod's network readiness checks
// and its workload registration, which waits for them.

import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import type { LocalWorkloadSpec } from '../../registry/local-workloads.js';
import { envoyBootstrap } from '../bootstrap.js';
import type { Launcher } from './launch.js';
import type { PodPlan } from './pod-plan.js';
import type { ProcessSpec } from './supervisor.js';
import type { HostedProxySpec } from '../proxy-host.js';

export interface PodPlacement {
  /** The pod IP: the proxy's capture address and its admin/readiness host. */
  readonly ip: string;
  /** The app's own address (the pod's localhost stand-in). */
  readonly appAddress: string;
}

export interface PodProcessOptions {
  readonly launcher: Launcher;
  readonly xdsAddress: string;
  /** Where bootstrap files go. */
  readonly stateDir: string;
  /** Working directory for apps without workingDir (the config folder). */
  readonly cwd: string;
  /** A gateway's HTTP listener port 8080 is bound on this port instead. */
  readonly ingressPort?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The pod's workload token (the CA's `issueToken`); with it the proxy gets an mTLS certificate. */
  readonly token?: (identity: { namespace: string; serviceAccount: string }) => Promise<string>;
}

export interface PodProcesses {
  readonly proxy: ProcessSpec;
  /** The same proxy as an entry of `isthmus proxies` (one process hosting every pod's proxy). */
  readonly hosted: HostedProxySpec;
  readonly apps: readonly ProcessSpec[];
  /** Containers that cannot run here, with the reason. */
  readonly problems: readonly string[];
}

/** `127.<net>.h.l` for pod index n (1-based; l in 1..254). */
export function podAddress(n: number, net = 10): string {
  return `127.${net}.${Math.floor((n - 1) / 254)}.${((n - 1) % 254) + 1}`;
}

export function placementOf(n: number): PodPlacement {
  return { ip: podAddress(n), appAddress: podAddress(n, 11) };
}

/** Writes the proxy's bootstrap and returns the pod's process specs. */
export async function podProcesses(plan: PodPlan, at: PodPlacement, o: PodProcessOptions): Promise<PodProcesses> {
  const baseEnv = o.env ?? process.env;
  const bootstrapFile = join(o.stateDir, `${plan.name}.${plan.namespace}.json`);
  const bootstrap = envoyBootstrap({
    node: plan.name,
    proxyless: false,
    xdsAddress: o.xdsAddress,
    namespace: plan.namespace,
    type: plan.role === 'gateway' ? 'router' : 'sidecar',
    ip: at.ip,
    labels: plan.labels,
    serviceAccount: plan.serviceAccount,
    locality: { region: '', zone: '', subZone: '' },
    adminHost: at.ip,
    workloadName: plan.deployment,
  });
  await writeFile(bootstrapFile, JSON.stringify(bootstrap, null, 2));
  const proxyArgs = [...o.launcher.isthmusArgs, 'proxy', '--bootstrap', bootstrapFile, '--log-level', 'warn'];
  // The pod's projected service-account token, as Kubernetes mounts it for istio-agent (0600).
  let tokenFile: string | undefined;
  if (o.token !== undefined) {
    tokenFile = join(o.stateDir, `${plan.name}.${plan.namespace}.token`);
    await writeFile(tokenFile, await o.token({ namespace: plan.namespace, serviceAccount: plan.serviceAccount }), { mode: 0o600 });
    proxyArgs.push('--token-file', tokenFile);
  }
  const withToken = tokenFile !== undefined ? { tokenFile } : {};
  const mapped = o.ingressPort !== undefined && o.ingressPort !== 8080;
  let hosted: HostedProxySpec;
  if (plan.role === 'gateway') {
    proxyArgs.push('--bind-address', '127.0.0.1');
    if (mapped) proxyArgs.push('--port-map', `8080=${o.ingressPort}`);
    hosted = { name: `${plan.name}.${plan.namespace}`, bootstrap: bootstrapFile, bindAddress: '127.0.0.1', ...(mapped ? { portMap: [[8080, o.ingressPort as number]] } : {}), ...withToken };
  } else {
    proxyArgs.push('--capture-address', at.ip, '--app-address', at.appAddress);
    hosted = { name: `${plan.name}.${plan.namespace}`, bootstrap: bootstrapFile, captureAddress: at.ip, appAddress: at.appAddress, ...withToken };
  }
  const proxy: ProcessSpec = { name: `${plan.name} (${plan.role === 'gateway' ? 'gateway' : 'sidecar'})`, command: o.launcher.node, args: proxyArgs, env: baseEnv, cwd: o.cwd };
  const apps: ProcessSpec[] = [];
  const problems: string[] = [];
  if (plan.role === 'app') {
    const proxyUrl = `http://${at.ip}:15001`;
    for (const c of plan.containers) {
      let command: string;
      let args: string[];
      if (c.command.length > 0) {
        const [first = '', ...rest] = c.command;
        command = first === 'node' ? o.launcher.node : first;
        args = [...rest, ...c.args];
      } else {
        const bundled = o.launcher.bundled(c.image);
        if (bundled === undefined) {
          problems.push(`Deployment ${plan.owner}: container ${c.name}: image "${c.image}" cannot run on this machine; give the container a command (spec.template.spec.containers[].command)`);
          continue;
        }
        command = o.launcher.node;
        args = [...bundled, ...c.args];
      }
      const firstPort = c.ports[0]?.containerPort;
      apps.push({
        name: `${plan.name} (app${plan.containers.length > 1 ? ` ${c.name}` : ''})`,
        command,
        args,
        cwd: c.workingDir !== undefined ? (isAbsolute(c.workingDir) ? c.workingDir : resolve(o.cwd, c.workingDir)) : o.cwd,
        env: {
          ...baseEnv,
          ...c.env,
          HOSTNAME: plan.name,
          POD_NAME: plan.name,
          POD_NAMESPACE: plan.namespace,
          INSTANCE_IP: at.ip,
          SERVICE_ACCOUNT: plan.serviceAccount,
          HOST: at.appAddress,
          ...(firstPort !== undefined ? { PORT: String(firstPort) } : {}),
          HTTP_PROXY: proxyUrl,
          http_proxy: proxyUrl,
          NO_PROXY: 'localhost,127.0.0.1',
          no_proxy: 'localhost,127.0.0.1',
        },
      });
    }
  }
  return { proxy, hosted, apps, problems };
}

/** The workload the control plane registers for the pod once it is ready. */
export function podWorkload(plan: PodPlan, at: PodPlacement, mtls: boolean): LocalWorkloadSpec {
  return {
    name: plan.name,
    namespace: plan.namespace,
    address: at.ip,
    labels: plan.labels,
    serviceAccount: plan.serviceAccount,
    ports: plan.namedPorts,
    // Istio's sidecar injector labels pods `security.istio.io/tlsMode: istio`, and auto mTLS keys on it: a pod
    // whose proxy has a workload certificate gets mTLS from its peers; one without is sent plaintext.
    tlsMode: mtls ? 'istio' : 'disabled',
  };
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const c = connect({ host, port });
    c.once('connect', () => {
      c.destroy();
      ok(true);
    });
    c.once('error', () => ok(false));
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
}

/** Polls until the pod's proxy is ready and its apps listen on their ports; false once `stopped()`. */
export async function waitPodReady(plan: PodPlan, at: PodPlacement, stopped: () => boolean): Promise<boolean> {
  const appPorts = plan.role === 'app' ? plan.containers.flatMap((c) => c.ports.map((p) => p.containerPort)) : [];
  while (!stopped()) {
    const proxyReady = await httpOk(`http://${at.ip}:15021/healthz/ready`);
    const appsReady = proxyReady && (await Promise.all(appPorts.map((p) => tcpOpen(at.appAddress, p)))).every(Boolean);
    if (proxyReady && appsReady) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
