// Access logging from the Telemetry API, end to end: a control plane whose mesh config declares an
// envoyFileAccessLog provider with JSON labels, two sidecars (productpage -> reviews), and a root-namespace
// Telemetry logging through that provider with `filter.expression: response.code >= 400`. Only the failing
// requests reach the log file (from both sidecars: the client's outbound listener and the server's inbound one);
// changing the Telemetry's filter applies live. Istio: https://istio.io/latest/docs/tasks/observability/logs/telemetry-api/

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { serviceYaml } from '../support/mesh-yaml.js';
import { parseMeshConfig } from '../../src/model/mesh-config.js';

const CLIENT_IP = '127.0.11.21';
const SERVER_IP = '127.0.11.22';

function telemetry(expression: string): string {
  return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging:
  - providers: [{name: json-file}]
    filter:
      expression: ${JSON.stringify(expression)}
`;
}

interface Line {
  readonly code: number;
  readonly path: string;
  readonly cluster: string;
  readonly local: string | null;
}

async function lines(file: string): Promise<Line[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

async function setUp(t: TestContext): Promise<{ mesh: TestMesh; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-telemetry-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'access.json');
  const meshConfig = parseMeshConfig({
    extensionProviders: [{ name: 'json-file', envoyFileAccessLog: { path: log, logFormat: { labels: { code: '%RESPONSE_CODE%', path: '%REQ(:PATH)%', cluster: '%UPSTREAM_CLUSTER_RAW%', local: '%UPSTREAM_LOCAL_ADDRESS%' } } } }],
  });
  assert.ok(meshConfig.ok);
  const target = await freePort();
  // The app fails every request under /fail.
  await startUpstream(t, 'reviews', '127.0.0.1', target, (req, res) => {
    res.writeHead((req.url ?? '').startsWith('/fail') ? 503 : 200, { 'content-type': 'text/plain' });
    res.end('reviews');
  });
  const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('reviews', 9080, target) + serviceYaml('productpage', 9080, 9080), 'telemetry.yaml': telemetry('response.code >= 400') }, meshConfig.value);
  mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: SERVER_IP, labels: { app: 'reviews', version: 'v1' }, ports: { http: target }, tlsMode: 'disabled' });
  mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: CLIENT_IP, labels: { app: 'productpage', version: 'v1' }, tlsMode: 'disabled' });
  await startTestProxy(t, mesh, { node: 'reviews-v1', ip: SERVER_IP, labels: { app: 'reviews', version: 'v1' } });
  await startTestProxy(t, mesh, { node: 'productpage-v1', ip: CLIENT_IP, labels: { app: 'productpage', version: 'v1' } });
  return { mesh, log };
}

async function get(path: string): Promise<number> {
  return (await viaSidecar(CLIENT_IP, `http://reviews:9080${path}`)).status;
}

describe('Telemetry access logging with a CEL filter between two sidecars', () => {
  it('logs only the failing requests, on both sides, and follows a change of the Telemetry live', async (t) => {
    const { mesh, log } = await setUp(t);
    await waitFor(async () => ((await get('/ok/0').catch(() => 0)) === 200 ? true : undefined), 'reviews through the sidecars', 15_000);
    for (let i = 1; i <= 3; i++) assert.equal(await get(`/ok/${i}`), 200);
    for (let i = 1; i <= 2; i++) assert.equal(await get(`/fail/${i}`), 503);

    // Two failing requests, each logged by the client's outbound and the server's inbound listener.
    const failing = await waitFor(async () => {
      const l = await lines(log);
      return l.filter((x) => x.path.startsWith('/fail/')).length >= 4 ? l : undefined;
    }, 'the failing requests in the log', 15_000);
    assert.ok(failing.every((x) => x.code === 503), JSON.stringify(failing));
    assert.deepEqual([...new Set(failing.map((x) => x.path))].sort(), ['/fail/1', '/fail/2']);
    const clusters = new Set(failing.map((x) => x.cluster));
    assert.ok(clusters.has('outbound|9080||reviews.default.svc.cluster.local'), [...clusters].join(' '));
    assert.ok([...clusters].some((c) => c.startsWith('inbound|')), [...clusters].join(' '));
    // Each went out on an upstream connection whose local address:port is logged, as Envoy logs it.
    for (const x of failing) assert.match(String(x.local), /^\d+\.\d+\.\d+\.\d+:\d+$/, JSON.stringify(x));

    // The filter flips: successes are logged from now on, failures no more.
    await mesh.write('telemetry.yaml', telemetry('response.code < 400'));
    await waitFor(async () => {
      await get('/ok/live');
      return (await lines(log)).some((x) => x.path === '/ok/live') ? true : undefined;
    }, 'successes logged after the Telemetry change', 15_000);
    assert.equal(await get('/fail/after'), 503);
    assert.equal(await get('/ok/marker'), 200);
    const after = await waitFor(async () => {
      const l = await lines(log);
      return l.filter((x) => x.path === '/ok/marker').length >= 2 ? l : undefined;
    }, 'the marker request on both sides', 15_000);
    assert.equal(after.filter((x) => x.path === '/fail/after').length, 0, 'failures are no longer logged');
    assert.equal(after.filter((x) => x.path.startsWith('/ok/') && x.path !== '/ok/live' && x.path !== '/ok/marker').length, 0, 'successes before the change were not logged');
  });
});
