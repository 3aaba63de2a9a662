// A real mesh in one process for data-plane tests: the control plane on a temp config folder, proxies
// (gateways bound to 127.0.0.1, sidecars capturing on their own loopback IP) fed by its xDS, upstream
// HTTP/TCP servers that record what reaches them, and clients that go through the proxies.

import { mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../src/model/mesh-config.js';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../../src/cli/control-plane.js';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { parseBootstrap } from '../../src/proxy/bootstrap.js';
import { startProxy, type ProxyOptions, type RunningProxy } from '../../src/proxy/proxy.js';
import { waitFor } from './wait.js';

export interface TestMesh {
  readonly cp: RunningControlPlane;
  readonly dir: string;
  write(file: string, yaml: string): Promise<void>;
  remove(file: string): Promise<void>;
}

export async function startMesh(t: TestContext, files: Record<string, string>, mesh: Partial<MeshConfig> = {}, extra: Partial<ControlPlaneOptions> = {}): Promise<TestMesh> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-dp-'));
  for (const [f, y] of Object.entries(files)) await writeFile(join(dir, f), y);
  const cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 10, mesh: { ...DEFAULT_MESH_CONFIG, ...mesh }, ...extra });
  t.after(async () => {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    cp,
    dir,
    write: (f, y) => writeFile(join(dir, f), y),
    remove: (f) => unlink(join(dir, f)),
  };
}

/**
 * Ports for config that must name one (a Gateway server) come from a block of this test process's own,
 * below the kernel's ephemeral range: test files run two at a time, and two processes asking the kernel
 * for a free port (listen on 0, close) can be handed the same one before either binds it.
 */
const PORT_BLOCK = 250;
const PORT_BASE = 20_000 + (process.pid % 40) * PORT_BLOCK;
let portCursor = Math.floor(Math.random() * PORT_BLOCK);

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createNetServer();
    s.once('error', () => ok(false));
    s.listen(port, host, () => s.close(() => ok(true)));
  });
}

/** A port free right now on `host` (127.0.0.1 by default), from this process's block. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < PORT_BLOCK; i++) {
    const port = PORT_BASE + (portCursor++ % PORT_BLOCK);
    if (await canListen(host, port)) return port;
  }
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

export interface ProxySpec {
  readonly node: string;
  readonly namespace?: string;
  readonly type?: 'sidecar' | 'router';
  readonly ip?: string;
  readonly labels?: Record<string, string>;
  readonly serviceAccount?: string;
  /** More node metadata (isthmus bootstrap --meta). */
  readonly metadata?: Record<string, string>;
  /** The node's locality (none by default). */
  readonly locality?: { readonly region: string; readonly zone: string; readonly subZone: string };
}

export async function startTestProxy(t: TestContext, mesh: TestMesh, spec: ProxySpec, extra: Partial<ProxyOptions> = {}): Promise<RunningProxy> {
  const boot = parseBootstrap(
    envoyBootstrap({
      node: spec.node,
      proxyless: false,
      xdsAddress: mesh.cp.xdsAddress,
      namespace: spec.namespace ?? 'default',
      type: spec.type ?? 'sidecar',
      ip: spec.ip ?? '127.0.0.1',
      labels: spec.labels ?? {},
      serviceAccount: spec.serviceAccount ?? 'default',
      locality: spec.locality ?? { region: '', zone: '', subZone: '' },
      ...(spec.metadata !== undefined ? { metadata: spec.metadata } : {}),
    }),
    'test bootstrap',
  );
  const proxy = await startProxy({
    bootstrap: boot,
    adminPort: 0,
    readinessPort: 0,
    prometheusPort: 0,
    readinessHost: '127.0.0.1',
    ...(spec.type === 'router' ? { bindAddress: '127.0.0.1' } : { captureAddress: spec.ip ?? '127.0.0.1' }),
    ...extra,
  });
  t.after(() => proxy.close());
  // Generous: a test that starts several proxies at once on a busy 2-core machine has seen one take over 10 s
  // to get its certificate and config; a ready proxy passes at once either way.
  await waitFor(async () => (await fetch(proxy.readinessUrl)).status === 200, `${spec.node} to be ready`, 30_000);
  return proxy;
}

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface TestUpstream {
  readonly port: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: string, n: number) => void;

/** An HTTP/1.1 server on host:port (0 = free) recording each request; by default answers 200 with its name. */
export async function startUpstream(t: TestContext, name: string, host = '127.0.0.1', port = 0, handler?: UpstreamHandler): Promise<TestUpstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler !== undefined) return handler(req, res, body, seen.length);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
      res.end(name);
    });
  });
  await new Promise<void>((r) => server.listen(port, host, () => r()));
  const close = (): Promise<void> =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  t.after(close);
  return { port: (server.address() as AddressInfo).port, seen, close };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request straight to host:port (a gateway listener), with a Host header. */
export function send(host: string, port: number, opts: { path?: string; method?: string; authority?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = httpRequest({ host, port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: { ...(opts.authority !== undefined ? { host: opts.authority } : {}), ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

/** A request through a sidecar's HTTP proxy (as an app with HTTP_PROXY does): absolute-form URI. */
export function viaSidecar(captureIp: string, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: captureIp, port: 15001, path: url, method: opts.method ?? 'GET', headers: { host: u.host, ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}
