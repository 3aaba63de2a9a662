// `isthmus x envoy-stats` end to end: an ingress gateway under a control plane, a request through it, then
// the command (found by name through the control plane, or at --admin) prints the proxy's Envoy stats in
// istioctl's shapes, and refuses what istioctl refuses with its words.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { createKindRegistry } from '../api/kind.js';
import { ALL_KINDS } from '../api/kinds.js';
import { serviceEntryYaml, startGateway, virtualServiceYaml } from '../../test/data-plane/resilience-mesh.js';
import { startUpstream } from '../../test/support/data-plane.js';
import type { CliIO } from './output.js';
import { runCli } from './program.js';
import { renderStats, statsPath } from './envoy-stats.js';

const REGISTRY = createKindRegistry(ALL_KINDS);
const CLUSTER = 'cluster.outbound|80||app.example.internal;';

function bufferIO(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: async () => '', cwd: process.cwd(), setExitCode: () => undefined, out: () => out, err: () => err };
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIO();
  const code = await runCli(args, { io, registry: REGISTRY });
  return { code, out: io.out(), err: io.err() };
}

describe('statsPath and renderStats', () => {
  it("asks the admin paths istioctl asks", () => {
    assert.deepEqual(
      [statsPath('server', 'short'), statsPath('server', 'json'), statsPath('', 'yaml'), statsPath('server', 'prom'), statsPath('clusters', 'short'), statsPath('cluster', 'json')],
      ['/stats', '/stats?format=json', '/stats?format=json', '/stats/prometheus', '/clusters', '/clusters?format=json'],
    );
  });
  it("refuses an unknown type and a format the type has no printer for, in istioctl's words", () => {
    assert.throws(() => statsPath('listeners', 'short'), /unknown stats type listeners/);
    assert.throws(() => statsPath('clusters', 'prom'), /unable to match a printer suitable for the output format prom, allowed formats are: short,json,yaml/);
    assert.throws(() => statsPath('server', 'table'), /allowed formats are: short,json,yaml,prom/);
  });
  it('says which proxy answered something that is not JSON', () => {
    assert.throws(() => renderStats('gw.istio-system', 'json', 'oops', 'http://127.0.0.1:1/stats?format=json'), /http:\/\/127\.0\.0\.1:1\/stats\?format=json did not answer JSON/);
  });
});

it('isthmus x envoy-stats reads a live gateway', async (t) => {
  const app = await startUpstream(t, 'app');
  const gw = await startGateway(t, () => ({
    'app.yaml': serviceEntryYaml('app', [{ port: app.port }]),
    'vs.yaml': virtualServiceYaml(`  - match: [{uri: {prefix: /app}}]
    route: [{destination: {host: app.example.internal, port: {number: 80}}}]
`),
  }));
  assert.equal((await gw.get('/app/x')).status, 200);
  const cp = ['--control-plane', gw.mesh.cp.monitoringUrl.replace(/^http:\/\//, ''), '-n', 'istio-system'];

  await t.test('server stats by name through the control plane: the cluster stats of the request just made', async () => {
    const r = await cli(['x', 'envoy-stats', 'ingressgateway', ...cp]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\nThe result of pod ingressgateway\.istio-system:\n\n/);
    assert.match(r.out, new RegExp(`^${CLUSTER.replaceAll('.', '\\.').replaceAll('|', '\\|')}\\.upstream_rq_200: 1$`, 'm'));
    assert.match(r.out, /^cluster_manager\.cds\.update_success: [1-9]\d*$/m);
    assert.match(r.out, /^control_plane\.connected_state: 1$/m);
  });

  await t.test('-o json and -o yaml carry the same stats; -o prom is Prometheus text', async () => {
    const json = await cli(['x', 'es', 'ingressgateway', ...cp, '-o', 'json']);
    const body = JSON.parse(json.out.replace(/^\nThe result of pod [^\n]*:\n\n/, '')) as { stats: { name?: string; value?: number }[] };
    assert.equal(body.stats.find((s) => s.name === `${CLUSTER}.upstream_rq_completed`)?.value, 1);
    assert.match(json.out, /\n {4}"stats": \[/, 'indented by four spaces, as istioctl');
    const yaml = await cli(['x', 'es', 'ingressgateway', ...cp, '-o', 'yaml']);
    const fromYaml = parse(yaml.out.replace(/^\nThe result of pod [^\n]*:\n\n/, '')) as typeof body;
    assert.equal(fromYaml.stats.find((s) => s.name === `${CLUSTER}.upstream_rq_completed`)?.value, 1);
    const prom = await cli(['x', 'es', 'ingressgateway', ...cp, '-o', 'prom']);
    assert.match(prom.out, /^envoy_cluster_upstream_rq_completed\{cluster_name="outbound\|80\|\|app\.example\.internal"\} 1$/m);
    // Istio's tag extraction alone (use_all_default_tags false): no envoy_cluster_name cut at the first dot, and
    // a cluster name without dots (BlackHoleCluster;) leaves `cluster.<stat>`, not `cluster<stat>`.
    assert.doesNotMatch(prom.out, /envoy_cluster_name=|envoy_clusterupstream/);
    assert.match(prom.out, /^envoy_cluster_upstream_rq_total\{cluster_name="BlackHoleCluster"\} 0$/m);
  });

  await t.test('--type clusters at --admin: the hosts with their rq_active', async () => {
    const r = await cli(['x', 'envoy-stats', '--admin', gw.proxy.adminUrl, '--type', 'clusters']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^outbound\\|80\\|\\|app\\.example\\.internal::127\\.0\\.0\\.1:${app.port}::rq_active::0$`, 'm'));
  });

  await t.test('a proxy the control plane does not know, and a bad --type, fail with a message and change nothing', async () => {
    const missing = await cli(['x', 'envoy-stats', 'nosuchpod', ...cp]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /no proxy "nosuchpod" in namespace istio-system; connected: ingressgateway/);
    const bad = await cli(['x', 'envoy-stats', 'ingressgateway', ...cp, '--type', 'listeners']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /unknown stats type listeners/);
    assert.equal((await gw.get('/app/after')).status, 200);
  });
});
