// Proxyless gRPC against the control plane, with clients nobody here wrote: @grpc/grpc-js-xds (child
// process, bootstrap from `isthmus bootstrap --proxyless`) and, where it fits, gRPC C-core through
// Debian's python3-grpcio. The workloads are real gRPC servers on 127.0.0.1; the config is Istio YAML
// written to the folder the control plane watches, so every step also exercises the live reload.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { startControlPlane, type RunningControlPlane } from '../../src/cli/control-plane.js';
import { grpcBootstrap } from '../../src/cli/bootstrap.js';
import { startEchoServer, type EchoServer } from './support/echo-server.js';
import { startClient, type CallSummary, type ClientProcess } from './support/client-process.js';
import { waitFor } from '../support/wait.js';
import { proxyStatus } from '../../src/cli/proxy-status.js';
import type { SyncStatus } from '../../src/xds-server/index.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';

const HOST = 'reviews.default.svc.cluster.local';
const TARGET = `${HOST}:9080`;

const PLATFORM = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: grpc, port: 9080, targetPort: grpc}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]
`;

function routes(http: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
${http}`;
}

const ALL_V1 = routes(`  - route: [{destination: {host: reviews, subset: v1}}]`);

function only(s: CallSummary, server: string): boolean {
  return Object.keys(s.errors).length === 0 && Object.keys(s.servers).length === 1 && s.servers[server] !== undefined;
}

describe('proxyless gRPC through the control plane', { timeout: 180_000 }, () => {
  let dir: string;
  let cp: RunningControlPlane;
  const servers: EchoServer[] = [];
  let client: ClientProcess;

  const writeRoutes = (yaml: string): Promise<void> => writeFile(join(dir, 'routes.yaml'), yaml);
  /** Calls until the answer satisfies `ok` (config propagates asynchronously), then returns that answer. */
  const until = (ok: (s: CallSummary) => boolean, what: string, count = 20, metadata?: Record<string, string>, c: ClientProcess = client): Promise<CallSummary> =>
    waitFor(async () => {
      const s = await c.calls(TARGET, count, metadata !== undefined ? { metadata } : {});
      return ok(s) ? s : undefined;
    }, what, 20_000, 50);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isthmus-interop-'));
    await writeFile(join(dir, 'platform.yaml'), PLATFORM);
    await writeRoutes(ALL_V1);
    cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 20 });
    for (const v of ['v1', 'v2', 'v3']) {
      const s = await startEchoServer(`reviews-${v}`);
      servers.push(s);
      cp.workloads.register({ name: `reviews-${v}`, namespace: 'default', address: '127.0.0.1', labels: { app: 'reviews', version: v }, ports: { grpc: s.port } });
    }
    const boot = grpcBootstrap({
      node: 'client', proxyless: true, xdsAddress: cp.xdsAddress, namespace: 'default', type: 'sidecar', ip: '127.0.0.1',
      labels: { app: 'client' }, serviceAccount: 'client', locality: { region: '', zone: '', subZone: '' },
    });
    client = startClient('grpc-js-xds', boot);
  });

  after(async () => {
    await client?.close();
    await cp?.close();
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('routes every call to the subset the VirtualService names', async () => {
    const s = await until((x) => only(x, 'reviews-v1'), 'all calls on reviews-v1');
    assert.equal(s.servers['reviews-v1'], 20);
  });

  it('routes by header match, and the change reaches the running client', async () => {
    await writeRoutes(routes(`  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]`));
    await until((x) => only(x, 'reviews-v2'), 'jason on reviews-v2', 10, { 'end-user': 'jason' });
    const others = await client.calls(TARGET, 10, { metadata: { 'end-user': 'bob' } });
    assert.deepEqual(others.servers, { 'reviews-v1': 10 });
  });

  it('splits traffic by weight within a few percent', async () => {
    await writeRoutes(routes(`  - route: [{destination: {host: reviews, subset: v1}, weight: 80}, {destination: {host: reviews, subset: v3}, weight: 20}]`));
    await until((x) => (x.servers['reviews-v3'] ?? 0) > 0 && (x.servers['reviews-v2'] ?? 0) === 0, 'the 80/20 split to start', 50);
    const s = await client.calls(TARGET, 1000);
    assert.deepEqual(s.errors, {});
    const v3 = (s.servers['reviews-v3'] ?? 0) / 1000;
    assert.ok(Math.abs(v3 - 0.2) < 0.05, `v3 share ${v3} should be 0.20 ± 0.05 (${JSON.stringify(s.servers)})`);
  });

  it('injects aborts as the fault says', async () => {
    await writeRoutes(routes(`  - fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: reviews, subset: v1}}]`));
    const s = await until((x) => (x.errors['UNAVAILABLE'] ?? 0) === 10, 'every call aborted', 10);
    assert.deepEqual(s.servers, {});
  });

  it('delays calls as the fault says and times them out at the route timeout', async () => {
    await writeRoutes(routes(`  - fault: {delay: {fixedDelay: 3s, percentage: {value: 100}}}
    timeout: 0.3s
    route: [{destination: {host: reviews, subset: v1}}]`));
    // The client's own deadline (10 s) outlasts the 3 s delay: without the route timeout these calls would
    // reach reviews-v1 late; with it, each ends DEADLINE_EXCEEDED.
    const s = await waitFor(async () => {
      const x = await client.calls(TARGET, 3, { deadlineMs: 10_000 });
      return (x.errors['DEADLINE_EXCEEDED'] ?? 0) === 3 ? x : undefined;
    }, 'the route timeout to cut the delayed calls', 30_000, 50);
    assert.deepEqual(s.servers, {});
  });

  it('retries failed calls as the VirtualService says', async () => {
    const flaky = await startEchoServer('reviews-flaky', { failFirst: 2 });
    servers.push(flaky);
    cp.workloads.register({ name: 'reviews-flaky', namespace: 'default', address: '127.0.0.1', labels: { app: 'reviews', version: 'flaky' }, ports: { grpc: flaky.port } });
    await writeFile(join(dir, 'platform.yaml'), PLATFORM.replace('{name: v3, labels: {version: v3}}]', '{name: v3, labels: {version: v3}}, {name: flaky, labels: {version: flaky}}]'));
    await writeRoutes(routes(`  - retries: {attempts: 3, retryOn: unavailable}
    route: [{destination: {host: reviews, subset: flaky}}]`));
    const s = await until((x) => (x.servers['reviews-flaky'] ?? 0) === 1, 'a call that succeeds after retries', 1);
    assert.deepEqual(s.errors, {});
    assert.equal(flaky.calls(), 3, 'two failed attempts, then the one that answered');
  });

  it('records a NACKed resource in proxy-status while traffic keeps flowing on the last good config', async () => {
    await writeRoutes(ALL_V1);
    await until((x) => only(x, 'reviews-v1'), 'back on reviews-v1');
    // Istio accepts Maglev, grpc-js-xds does not (lb_policy MAGLEV): the client must NACK the cluster.
    await writeFile(join(dir, 'platform.yaml'), PLATFORM.replace('  host: reviews\n', '  host: reviews\n  trafficPolicy: {loadBalancer: {consistentHash: {maglev: {tableSize: 65537}, useSourceIp: true}}}\n'));
    const cds = await waitFor(async () => {
      const res = await fetch(`${cp.monitoringUrl}/debug/syncz`);
      const rows = (await res.json()) as SyncStatus[];
      const r = rows.find((x) => x.proxy === 'client.default')?.resources[CLUSTER_TYPE];
      return r?.status === 'ERROR' ? r : undefined;
    }, 'the client NACK of the Maglev cluster in /debug/syncz', 20_000);
    assert.match(cds.lastError ?? '', /MAGLEV|lb_policy|Maglev/i, 'the proxy-status shows the client\'s own reason');
    const out: string[] = [];
    await proxyStatus({ stdout: (x) => out.push(x), stderr: (x) => out.push(x), stdin: async () => '', cwd: dir, setExitCode: () => undefined }, { controlPlane: cp.monitoringUrl, output: 'table' });
    assert.match(out.join(''), /client\.default\s+\S*\s*ERROR/, out.join(''));
    const s = await client.calls(TARGET, 20);
    assert.deepEqual(s.servers, { 'reviews-v1': 20 }, 'the last good config keeps serving');
  });
});

describe('proxyless gRPC with gRPC C-core (python3-grpcio)', { timeout: 120_000 }, () => {
  it('follows routing and weighted splits', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-interop-py-'));
    const servers: EchoServer[] = [];
    let cp: RunningControlPlane | undefined;
    let py: ClientProcess | undefined;
    t.after(async () => {
      await py?.close();
      await cp?.close();
      for (const s of servers) await s.close();
      await rm(dir, { recursive: true, force: true });
    });
    await writeFile(join(dir, 'platform.yaml'), PLATFORM);
    await writeFile(join(dir, 'routes.yaml'), ALL_V1);
    cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 20 });
    for (const v of ['v1', 'v2']) {
      const s = await startEchoServer(`reviews-${v}`);
      servers.push(s);
      cp.workloads.register({ name: `reviews-${v}`, namespace: 'default', address: '127.0.0.1', labels: { app: 'reviews', version: v }, ports: { grpc: s.port } });
    }
    py = startClient('python-grpcio', grpcBootstrap({
      node: 'py-client', proxyless: true, xdsAddress: cp.xdsAddress, namespace: 'default', type: 'sidecar', ip: '127.0.0.1',
      labels: { app: 'py-client' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' },
    }));
    const c = py;
    await waitFor(async () => {
      const s = await c.calls(TARGET, 10);
      return only(s, 'reviews-v1') ? s : undefined;
    }, 'python client on reviews-v1', 30_000, 100);
    await writeFile(join(dir, 'routes.yaml'), routes(`  - route: [{destination: {host: reviews, subset: v1}, weight: 50}, {destination: {host: reviews, subset: v2}, weight: 50}]`));
    await waitFor(async () => {
      const s = await c.calls(TARGET, 20);
      return (s.servers['reviews-v2'] ?? 0) > 0 ? s : undefined;
    }, 'python client to see the split', 30_000, 100);
    const s = await c.calls(TARGET, 400);
    assert.deepEqual(s.errors, {});
    const v2 = (s.servers['reviews-v2'] ?? 0) / 400;
    assert.ok(Math.abs(v2 - 0.5) < 0.08, `v2 share ${v2} should be 0.50 ± 0.08`);
  });
});
