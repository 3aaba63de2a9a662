// Shared setup for the resilience suites (retries, timeouts and faults, load balancing, circuit breaking,
// outlier detection, mirroring): an ingress gateway on a free port fed by the real control plane, Istio
// YAML builders for the services and rules those suites use, upstreams that answer on cue, and the
// gateway's access log read back as Istio's default text format.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ProxyOptions, RunningProxy } from '../../src/proxy/proxy.js';
import type { ControlPlaneOptions } from '../../src/cli/control-plane.js';
import { freePort, send, startMesh, startTestProxy, type ProxySpec, type Reply, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

/** Every gateway VirtualService carries this route first, so tests know when their routes are served. */
export const READY_PATH = '/__ready';

export function gatewayYaml(port: number, protocol: 'HTTP' | 'GRPC-WEB' = 'HTTP'): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: ${protocol.toLowerCase()}, protocol: ${protocol}}
    hosts: ["*"]
`;
}

export interface EndpointSpec {
  readonly port: number;
  readonly address?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** `region/zone[/subzone]`. */
  readonly locality?: string;
}

export interface ServiceEntrySpec {
  /** The port's protocol (HTTP by default); its name is the protocol in lower case. */
  readonly protocol?: 'HTTP' | 'HTTP2' | 'GRPC';
  readonly resolution?: 'STATIC' | 'DNS';
  readonly location?: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
}

/** A ServiceEntry `<name>.example.internal:80` (MESH_INTERNAL, STATIC, HTTP unless `spec` says otherwise) with these endpoints (none: no endpoints at all). */
export function serviceEntryYaml(name: string, endpoints: readonly EndpointSpec[], spec: ServiceEntrySpec = {}): string {
  const protocol = spec.protocol ?? 'HTTP';
  const portName = protocol.toLowerCase();
  const eps = endpoints
    .map((e) => {
      const labels = e.labels !== undefined ? `, labels: {${Object.entries(e.labels).map(([k, v]) => `${k}: ${v}`).join(', ')}}` : '';
      const locality = e.locality !== undefined ? `, locality: ${e.locality}` : '';
      return `  - {address: ${e.address ?? '127.0.0.1'}, ports: {${portName}: ${e.port}}${labels}${locality}}`;
    })
    .join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${name}.example.internal]
  location: ${spec.location ?? 'MESH_INTERNAL'}
  resolution: ${spec.resolution ?? 'STATIC'}
  ports: [{number: 80, name: ${portName}, protocol: ${protocol}}]
${endpoints.length > 0 ? `  endpoints:\n${eps}\n` : '  endpoints: []\n'}`;
}

/** A DestinationRule for `<host>.example.internal`; `spec` is the YAML under `spec:` after `host:`, indented 2. */
export function destinationRuleYaml(host: string, spec: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host}, namespace: default}
spec:
  host: ${host}.example.internal
${spec}`;
}

/** A gateway VirtualService; `routes` is the YAML of further `http:` entries (each starting `  - `). */
export function virtualServiceYaml(routes: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {exact: ${READY_PATH}}}]
    directResponse: {status: 200, body: {string: ready}}
${routes}`;
}

export interface AccessLogLine {
  readonly raw: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** %RESPONSE_FLAGS%: '-' when none. */
  readonly flags: string;
  readonly details: string;
  readonly upstreamHost: string;
}

/** Parses one line of Istio's default TEXT access log format (flags are field 6, details field 7). */
export function parseAccessLogLine(raw: string): AccessLogLine {
  const f = raw.split(' ');
  const quoted = raw.match(/"[^"]*"/g) ?? [];
  return {
    raw,
    method: (f[1] ?? '').replace(/^"/, ''),
    path: f[2] ?? '',
    status: Number(f[4]),
    flags: f[5] ?? '',
    details: f[6] ?? '',
    // quoted fields: request line, transport failure, xff, user agent, request id, authority, upstream host
    upstreamHost: (quoted[6] ?? '').replaceAll('"', ''),
  };
}

export interface Gateway {
  readonly mesh: TestMesh;
  readonly proxy: RunningProxy;
  readonly port: number;
  /** A request to the gateway (Host defaults to `app.example.com`). */
  get(path: string, opts?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply>;
  /** Waits until the access log has a line for `path` (the sink flushes every second) and returns the last such. */
  logFor(path: string, timeoutMs?: number): Promise<AccessLogLine>;
  /** Every access log line written so far. */
  logLines(): Promise<AccessLogLine[]>;
  /**
   * The proxy's Envoy stats for the cluster of `<svc>.example.internal` port 80, from admin `/stats?format=json`,
   * by name under `cluster.outbound|80||<svc>.example.internal;.` (`upstream_rq_total`, `circuit_breakers.default.rq_open`).
   */
  clusterStats(svc: string): Promise<Record<string, number>>;
  /** The per-host stats /clusters prints for the service's cluster (`cx_total`, `rq_total`, ...), summed over its hosts. */
  hostStats(svc: string): Promise<Record<string, number>>;
}

/**
 * Starts the control plane on `files` plus a Gateway on a free port, an ingress gateway proxy with an
 * access log file, and waits until the gateway answers READY_PATH (the VirtualService must include it:
 * use virtualServiceYaml).
 */
export async function startGateway(
  t: TestContext,
  files: (port: number) => Record<string, string>,
  extra: Partial<ProxyOptions> = {},
  spec: Partial<ProxySpec> = {},
  controlPlane: Partial<ControlPlaneOptions> = {},
): Promise<Gateway> {
  const port = await freePort();
  const logDir = await mkdtemp(join(tmpdir(), 'isthmus-al-'));
  t.after(() => rm(logDir, { recursive: true, force: true }));
  const logFile = join(logDir, 'access.log');
  const mesh = await startMesh(t, { 'gw.yaml': gatewayYaml(port), ...files(port) }, { accessLogFile: logFile }, controlPlane);
  const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' }, ...spec }, extra);
  await waitFor(async () => (await send('127.0.0.1', port, { path: READY_PATH }).catch(() => undefined))?.status === 200, 'the gateway to serve its routes', 10_000);
  const logLines = async (): Promise<AccessLogLine[]> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '').map(parseAccessLogLine);
  };
  return {
    mesh,
    proxy,
    port,
    get: (path, opts = {}) => send('127.0.0.1', port, { path, authority: 'app.example.com', ...opts }),
    logLines,
    clusterStats: async (svc) => {
      const prefix = `cluster.outbound|80||${svc}.example.internal;.`;
      // Envoy's JSON: {name, value} per counter and gauge, and one entry holding the histograms.
      const json = (await (await fetch(`${proxy.adminUrl}/stats?format=json`)).json()) as { stats: { name?: string; value?: number }[] };
      const out: Record<string, number> = {};
      for (const s of json.stats) if (s.name?.startsWith(prefix) === true && s.value !== undefined) out[s.name.slice(prefix.length)] = s.value;
      return out;
    },
    hostStats: async (svc) => {
      const prefix = `outbound|80||${svc}.example.internal::`;
      const out: Record<string, number> = {};
      for (const line of (await (await fetch(`${proxy.adminUrl}/clusters`)).text()).split('\n')) {
        const m = line.startsWith(prefix) ? /::((?:cx|rq)_[a-z_]+)::(\d+)$/.exec(line) : null;
        if (m !== null) out[m[1] as string] = (out[m[1] as string] ?? 0) + Number(m[2]);
      }
      return out;
    },
    logFor: (path, timeoutMs = 5000) => waitFor(async () => (await logLines()).filter((l) => l.path === path).at(-1), `an access log line for ${path}`, timeoutMs),
  };
}

/** A latch: upstream handlers wait on it; `open()` lets every waiter (and every later one) through. */
export function latch(): { wait(): Promise<void>; open(): void } {
  let release!: () => void;
  const p = new Promise<void>((r) => (release = r));
  return { wait: () => p, open: () => release() };
}

/** Counts of `values`, e.g. which upstream answered each request. */
export function tally(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Runs `n` requests `concurrency` at a time (a steady load without opening hundreds of sockets at once). */
export async function load<T>(n: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}
