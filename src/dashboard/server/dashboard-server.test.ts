// The dashboard server over a real socket with stub data sources: what is served without a session
// (the login page and its assets only), the token login and its cookie, and the JSON API.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncStatus } from '../../xds-server/sync-status.js';
import { LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { systemClock } from '../../lib/clock.js';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { snapshotFromConfig } from '../../model/build-snapshot.js';
import { parseProxy, type Proxy } from '../../model/proxy.js';
import type { ApiError, GraphResponse, ProxyRow, ProxyTableResponse, ServiceDetail, ServicesResponse, WorkloadDetail } from '../shared/api-types.js';
import { startDashboard, type RunningDashboard } from './dashboard-server.js';
import { SeriesStore } from './series-store.js';

const TOKEN = 'test-token-123';
const proxy: SyncStatus = {
  proxy: 'productpage-v1-abc.default',
  node_id: 'sidecar~127.10.0.1~productpage-v1-abc.default~default.svc.cluster.local',
  istiod: 'cp',
  connection_id: '1',
  connected_at: '2026-01-01T00:00:00.000Z',
  xds: 'sotw',
  admin_address: '127.10.0.1:15000',
  resources: { [LISTENER_TYPE]: { status: 'SYNCED' }, [ROUTE_TYPE]: { status: 'STALE' } },
};

const MESH = `apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec: {selector: {app: productpage}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: productpage-v1, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  template:
    metadata: {labels: {app: productpage, version: v1}}
    spec: {containers: [{name: productpage, image: productpage}]}
`;
const loaded = loadText(MESH, 'mesh.yaml');
const { entries } = validateDocuments(loaded.documents, createKindRegistry(ALL_KINDS), { defaultNamespace: 'default' }, loaded.problems);
const node = parseProxy({ id: proxy.node_id, metadata: { NAMESPACE: 'default', WORKLOAD_NAME: 'productpage-v1', LABELS: { app: 'productpage', version: 'v1' } } });
const proxyNodes: Proxy[] = node.ok ? [node.value] : [];

describe('dashboard server', () => {
  let d: RunningDashboard;
  let web: string;
  const graphCalls: { windowMs: number; namespace?: string }[] = [];

  before(async () => {
    web = await mkdtemp(join(tmpdir(), 'dashboard-web-'));
    await mkdir(join(web, 'assets'));
    await writeFile(join(web, 'index.html'), '<html>app</html>');
    await writeFile(join(web, 'login.html'), '<html>login</html>');
    await writeFile(join(web, 'assets/app.js'), 'app()');
    await writeFile(join(web, 'assets/login.js'), 'login()');
    await writeFile(join(web, 'assets/style.css'), 'body{}');
    d = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      clock: systemClock,
      token: TOKEN,
      webRoot: web,
      maxWindowMs: 600_000,
      graph: (q) => {
        graphCalls.push(q);
        return { timestamp: new Date(0).toISOString(), windowMs: q.windowMs, nodes: [], edges: [] };
      },
      config: () => ({ resources: [], messages: [] }),
      proxies: () => [proxy],
      proxyTables: (admin, section) => Promise.resolve({ headers: ['NAME'], rows: [[`${section} of ${admin}`]] }),
      snapshot: () => snapshotFromConfig(entries),
      configEntries: () => entries,
      proxyNodes: () => proxyNodes,
      series: new SeriesStore(),
      scrapeIntervalMs: 5000,
    });
  });

  after(async () => {
    await d.close();
    await rm(web, { recursive: true, force: true });
  });

  const get = (path: string, cookie?: string): Promise<Response> => fetch(`${d.url}${path}`, { redirect: 'manual', ...(cookie !== undefined ? { headers: { cookie } } : {}) });

  async function login(token: string): Promise<Response> {
    return fetch(`${d.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  }

  async function session(): Promise<string> {
    const r = await login(TOKEN);
    assert.equal(r.status, 204);
    return (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }

  it('serves the login page and its assets without a session, and nothing else', async () => {
    const cases: [string, number, string | null][] = [
      ['/login', 200, null],
      ['/assets/login.js', 200, null],
      ['/assets/style.css', 200, null],
      ['/', 302, '/login'],
      ['/graph?window=10s', 302, '/login?next=%2Fgraph%3Fwindow%3D10s'],
      ['/assets/app.js', 302, '/login?next=%2Fassets%2Fapp.js'],
      ['/api/graph', 401, null],
      ['/api/config', 401, null],
      ['/api/proxies', 401, null],
      ['/api/proxies/x/routes', 401, null],
      ['/api/services', 401, null],
      ['/api/workloads/default/productpage-v1', 401, null],
    ];
    for (const [path, status, location] of cases) {
      const r = await get(path);
      assert.equal(r.status, status, path);
      assert.equal(r.headers.get('location'), location, path);
    }
    assert.equal(await (await get('/login')).text(), '<html>login</html>');
  });

  it('logs in with the token only, setting an HttpOnly SameSite=Strict cookie', async () => {
    assert.equal((await login('wrong')).status, 401);
    assert.equal((await login('')).status, 401);
    const r = await login(TOKEN);
    assert.equal(r.status, 204);
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^isthmus-dashboard-session=[A-Za-z0-9_-]{20,}; /);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.equal((await get('/api/graph', 'isthmus-dashboard-session=forged')).status, 401);
  });

  it('serves the app and the API with a session, and logs out', async () => {
    const c = await session();
    assert.equal(await (await get('/graph', c)).text(), '<html>app</html>');
    assert.equal(await (await get('/proxies/a.default/routes', c)).text(), '<html>app</html>');
    assert.equal(await (await get('/assets/app.js', c)).text(), 'app()');
    assert.equal((await get('/assets/nope.js', c)).status, 404);
    const g = (await (await get('/api/graph?window=10s&namespace=default', c)).json()) as GraphResponse;
    assert.equal(g.windowMs, 10_000);
    assert.deepEqual(graphCalls.at(-1), { windowMs: 10_000, namespace: 'default' });
    assert.equal((await get('/api/graph?window=1d', c)).status, 400);
    assert.equal((await get('/api/graph?window=20m', c)).status, 400);
    const rows = (await (await get('/api/proxies', c)).json()) as ProxyRow[];
    assert.deepEqual(rows.map((r) => [r.id, r.type, r.status]), [['productpage-v1-abc.default', 'sidecar', { CDS: 'IGNORED', LDS: 'SYNCED', EDS: 'IGNORED', RDS: 'STALE' }]]);
    const t = (await (await get('/api/proxies/productpage-v1-abc.default/routes', c)).json()) as ProxyTableResponse;
    assert.deepEqual(t.table.rows, [['routes of http://127.10.0.1:15000']]);
    assert.equal((await get('/api/proxies/productpage-v1-abc.default/secrets', c)).status, 404);
    assert.equal((await get('/api/proxies/nobody.default/routes', c)).status, 404);
    const out = await fetch(`${d.url}/api/logout`, { method: 'POST', headers: { cookie: c } });
    assert.equal(out.status, 204);
    assert.equal((await get('/api/config', c)).status, 401);
  });

  it('serves the service and workload lists and pages, and a 404 naming what is unknown', async () => {
    const c = await session();
    const list = (await (await get('/api/services', c)).json()) as ServicesResponse;
    assert.equal(list.windowMs, 60_000);
    assert.deepEqual(list.services.map((s) => [s.namespace, s.name, s.workloads, s.proxies, s.requestsPerSecond]), [['default', 'productpage', 1, 1, 0]]);
    const svc = (await (await get('/api/services/default/productpage?window=1m', c)).json()) as ServiceDetail;
    assert.deepEqual(svc.workloads.map((w) => [w.name, w.kind, w.app, w.version]), [['productpage-v1', 'Deployment', 'productpage', 'v1']]);
    assert.deepEqual(svc.proxies.map((p) => p.id), ['productpage-v1-abc.default']);
    assert.deepEqual(svc.config.map((x) => x.id), ['core/Service/default/productpage']);
    assert.equal(svc.traffic.windowMs, 60_000);
    const wl = (await (await get('/api/workloads/default/productpage-v1', c)).json()) as WorkloadDetail;
    assert.equal(wl.traffic.windowMs, 600_000, 'the pages chart 10 minutes by default');
    assert.deepEqual(wl.workload.services, ['productpage']);
    const cases: [string, number, RegExp][] = [
      ['/api/services/default/nope', 404, /no service nope in namespace default/],
      ['/api/workloads/other/productpage-v1', 404, /no workload productpage-v1 in namespace other/],
      ['/api/services?window=1d', 400, /invalid window "1d"/],
      ['/api/workloads/default/productpage-v1?window=20m', 400, /at most 600s/],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(path, c);
      assert.equal(r.status, status, path);
      assert.match(((await r.json()) as ApiError).error, message, path);
    }
  });
});
