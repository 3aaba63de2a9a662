// Isthmus as the proxy under test, set up the way a user would run it as an Istio ingress gateway: the
// control plane serves a config folder (a Gateway on the listen port, a VirtualService routing to the
// upstream, a ServiceEntry naming the upstream's address) with MeshConfig accessLogFile set (Istio's
// default TEXT access log, to a file in the bench's temp folder), `isthmus bootstrap` writes the gateway's
// bootstrap, and `isthmus proxy`, built (dist/), runs pinned to the proxy core. Ready means a request
// through the listen port answers 200; when that never happens the result says why instead of throwing,
// so the bench can print the row as unavailable and carry on with the native peers.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST_ENTRY } from './dist-build.js';
import { processTree } from './measure.js';
import { makeTempDir, probe, probeTls, removeTempDir, runToEnd, spawnChild, waitFor200, type Child } from './processes.js';
import type { BenchCert } from './tls-cert.js';

/**
 * How to run the isthmus command, from the repository root: the build (see dist-build.ts), as deployed.
 * BENCH_ISTHMUS_NODE_FLAGS (space-separated) adds Node/V8 flags to the proxy's process, for experiments.
 */
export const ISTHMUS_COMMAND: readonly string[] = [process.execPath, ...(process.env['BENCH_ISTHMUS_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== ''), DIST_ENTRY];

/** The control plane with an access log file in MeshConfig (not measured: it idles on the load core). */
const CONTROL_PLANE_COMMAND: readonly string[] = [process.execPath, '--import', 'tsx', 'bench/data-plane/bench-control-plane.ts'];

/**
 * `isthmus proxy` flags besides the bootstrap: loopback listeners like the native peers, every side port
 * picked free (two proxies run at once), no drain wait when the bench stops it.
 */
const PROXY_FLAGS: readonly string[] = ['--bind-address', '127.0.0.1', '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0', '--drain-time', '0'];

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROXY_CORE = 0;
const CONTROL_PLANE_CORE = 1;
const READY_DEADLINE_MS = 20_000;
const XDS_LINE = /xDS \(ADS, plaintext\)\s+(\S+)/;
const READINESS_LINE = /readiness\s+http:\/\/[^:/]+:(\d+)(\/\S*)/;
const ADMIN_LINE = /admin\s+(http:\/\/\S+)/;
const GATEWAY_NAMESPACE = 'istio-system';
const UPSTREAM_HOST = 'upstream.bench.svc';

export interface IsthmusTarget {
  /** The proxy's pid. */
  readonly pid: number;
  /** The proxy's admin base URL (`http://127.0.0.1:<port>`), once it printed it. */
  readonly adminUrl: string | undefined;
  /** The proxy's processes (the proxy and any children it starts). */
  pids(): number[];
  /** Stops the proxy and its control plane and removes the config folder. */
  stop(): Promise<void>;
}

export type IsthmusStart = IsthmusTarget | { readonly unavailable: string };

/** Which gateway: HTTP, HTTPS (TLS terminated with the bench's certificate from a Kubernetes Secret), or TCP. */
export type GatewayKind = 'http' | 'https' | 'tcp';

/**
 * The Istio config the control plane serves: one gateway server, one route, one upstream (plaintext
 * HTTP/1.1 or TCP); for HTTPS a SIMPLE TLS server whose credentialName names a Secret holding `cert`.
 */
export function gatewayConfig(kind: GatewayKind, upstreamPort: number, listenPort: number, cert?: BenchCert, upstreamH2 = false): string {
  if (kind === 'https' && cert === undefined) throw new Error('an HTTPS gateway needs a certificate');
  if (kind === 'tcp' && upstreamH2) throw new Error('a TCP gateway has no HTTP/2 upstream');
  const upstream = kind === 'tcp' ? 'tcp' : upstreamH2 ? 'http2' : 'http';
  const protocol = kind === 'tcp' ? 'TCP' : 'HTTP';
  const upstreamProtocol = upstreamH2 ? 'HTTP2' : protocol;
  const server =
    kind === 'https'
      ? [`  - port: {number: ${listenPort}, name: https, protocol: HTTPS}`, '    hosts: ["*"]', '    tls: {mode: SIMPLE, credentialName: bench-cred}']
      : [`  - port: {number: ${listenPort}, name: ${upstream}, protocol: ${protocol}}`, '    hosts: ["*"]'];
  const route =
    kind === 'tcp'
      ? ['  tcp:', `  - match: [{port: ${listenPort}}]`, '    route:', `    - destination: {host: ${UPSTREAM_HOST}, port: {number: 80}}`]
      : ['  http:', '  - route:', `    - destination: {host: ${UPSTREAM_HOST}, port: {number: 80}}`];
  const b64 = (t: string): string => Buffer.from(t).toString('base64');
  const secret =
    kind === 'https' && cert !== undefined
      ? ['---', 'apiVersion: v1', 'kind: Secret', `metadata: {name: bench-cred, namespace: ${GATEWAY_NAMESPACE}}`, 'type: kubernetes.io/tls', 'data:', `  tls.crt: ${b64(cert.cert)}`, `  tls.key: ${b64(cert.key)}`]
      : [];
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: Gateway',
    `metadata: {name: bench-gateway, namespace: ${GATEWAY_NAMESPACE}}`,
    'spec:',
    '  selector: {istio: ingressgateway}',
    '  servers:',
    ...server,
    '---',
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    `metadata: {name: bench, namespace: ${GATEWAY_NAMESPACE}}`,
    'spec:',
    '  hosts: ["*"]',
    '  gateways: [bench-gateway]',
    ...route,
    '---',
    'apiVersion: networking.istio.io/v1',
    'kind: ServiceEntry',
    `metadata: {name: upstream, namespace: ${GATEWAY_NAMESPACE}}`,
    'spec:',
    `  hosts: [${UPSTREAM_HOST}]`,
    // A TCP service needs a VIP for sidecars to tell it apart (IST0134); the gateway does not use it.
    ...(kind === 'tcp' ? ['  addresses: [240.240.0.10]'] : []),
    '  location: MESH_INTERNAL',
    `  ports: [{number: 80, name: ${upstream}, protocol: ${upstreamProtocol}}]`,
    '  resolution: STATIC',
    `  endpoints: [{address: 127.0.0.1, ports: {${upstream}: ${upstreamPort}}}]`,
    ...secret,
    '',
  ].join('\n');
}

/** Why a proxy that serves nothing on the listen port might be so, for the "unavailable" line. */
async function proxyState(proxy: Child, readiness: { port: number; path: string } | undefined): Promise<string> {
  if (!proxy.isRunning()) return `\n${proxy.tail()}`;
  if (readiness === undefined) return '; the proxy never printed its readiness address';
  const ready = await probe(readiness.port, readiness.path);
  return ready === 200 ? '; the proxy is ready (config applied) but the listener does not answer 200' : '; the proxy never became ready (no config applied)';
}

export interface IsthmusStartOptions {
  /** How to run the isthmus command (default ISTHMUS_COMMAND): the memory bench compares builds and flags. */
  readonly command?: readonly string[];
  /** The checkout the control plane runs from (default this one), e.g. a `git archive HEAD` copy. */
  readonly controlPlaneRoot?: string;
  /** The certificate an HTTPS gateway serves. */
  readonly cert?: BenchCert;
  /** HTTP/2 (h2c, prior knowledge) to the upstream, as to a gRPC service (ServiceEntry protocol HTTP2). */
  readonly upstreamH2?: boolean;
}

/** Starts control plane + gateway proxy; resolves once a request through listenPort answers 200. */
export async function startIsthmus(kind: GatewayKind, upstreamPort: number, listenPort: number, o: IsthmusStartOptions = {}): Promise<IsthmusStart> {
  const command = o.command ?? ISTHMUS_COMMAND;
  const dir = makeTempDir(`isthmus-bench-${kind}-`);
  const children: Child[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of [...children].reverse()) await c.stop();
    removeTempDir(dir);
  };
  try {
    const configDir = join(dir, 'config');
    const bootstrapFile = join(dir, 'bootstrap.json');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'bench.yaml'), gatewayConfig(kind, upstreamPort, listenPort, o.cert, o.upstreamH2 === true));

    let xdsAddress: string | undefined;
    let announced: () => void = () => undefined;
    const announcedP = new Promise<void>((ok) => (announced = ok));
    const cp = await spawnChild(
      'isthmus control-plane',
      [...CONTROL_PLANE_COMMAND, configDir, join(dir, 'access.log')],
      {
        cwd: o.controlPlaneRoot ?? REPO_ROOT,
        core: CONTROL_PLANE_CORE,
        onLine: (line) => {
          const m = XDS_LINE.exec(line);
          if (m?.[1] !== undefined) {
            xdsAddress = m[1];
            announced();
          }
        },
      },
    );
    children.push(cp);
    const deadline = new Promise<void>((ok) => setTimeout(ok, READY_DEADLINE_MS).unref());
    await Promise.race([announcedP, cp.exited, deadline]);
    if (xdsAddress === undefined) {
      const why = cp.isRunning() ? `no xDS address printed within ${READY_DEADLINE_MS / 1000} s` : `it exited (${await cp.exited})`;
      await stopAll();
      return { unavailable: `control plane: ${why}\n${cp.tail()}`.trim() };
    }

    const bootstrap = await runToEnd(
      'isthmus bootstrap',
      [...command, 'bootstrap', '--type', 'router', '--node', 'ingressgateway', '--labels', 'istio=ingressgateway', '-n', GATEWAY_NAMESPACE, '--xds-address', xdsAddress],
      { cwd: REPO_ROOT, core: CONTROL_PLANE_CORE },
    );
    writeFileSync(bootstrapFile, bootstrap + '\n');

    let readiness: { port: number; path: string } | undefined;
    let adminUrl: string | undefined;
    const proxy = await spawnChild('isthmus proxy', [...command, 'proxy', '--bootstrap', bootstrapFile, ...PROXY_FLAGS], {
      cwd: REPO_ROOT,
      core: PROXY_CORE,
      onLine: (line) => {
        const m = READINESS_LINE.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined) readiness = { port: Number(m[1]), path: m[2] };
        const a = ADMIN_LINE.exec(line);
        if (a?.[1] !== undefined) adminUrl = a[1];
      },
    });
    children.push(proxy);
    const why = await waitFor200(listenPort, READY_DEADLINE_MS, proxy.isRunning, kind === 'https' ? (p) => probeTls(p) : undefined);
    if (why !== undefined) {
      const state = await proxyState(proxy, readiness);
      await stopAll();
      return { unavailable: `${why}${state}` };
    }
    return { pid: proxy.pid, adminUrl, pids: () => processTree(proxy.pid), stop: stopAll };
  } catch (e) {
    await stopAll();
    return { unavailable: e instanceof Error ? e.message : String(e) };
  }
}
