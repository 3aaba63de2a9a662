// `isthmus x describe` against a running control plane on the demo's Bookinfo config: registered
// workloads, a connected sidecar whose config dump is checked against the config, config applied live
// through /v1/config, a proxy no registry knows, and the errors a user meets.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { freePort, startMesh, startTestProxy } from '../../test/support/data-plane.js';
import { waitFor } from '../../test/support/wait.js';
import type { CliIO } from './output.js';
import { runCommand } from './run-command.js';
import { registerDescribe, workloadArgument } from './describe.js';
import type { WorkloadDescription } from './describe/types.js';

const EXAMPLES = new URL('../../examples/bookinfo/', import.meta.url);
const CORPUS = new URL('../../../shared/corpus/istio-bookinfo/networking/', import.meta.url);
const example = (f: string): string => readFileSync(new URL(f, EXAMPLES), 'utf8');
const sample = (f: string): string => readFileSync(new URL(f, CORPUS), 'utf8');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function isthmus(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined };
  const code = await runCommand(args, io, (cio) => {
    const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: cio.stdout, writeErr: cio.stderr });
    registerDescribe(program, cio);
    return program;
  });
  return { code, stdout, stderr };
}

async function describeJson(args: readonly string[]): Promise<WorkloadDescription> {
  const r = await isthmus([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as WorkloadDescription;
}

const REVIEWS_V2 = 'reviews-v2-5b6c8d9f7d-q8j2m';

describe('isthmus x describe', () => {
  it('describes a registered workload from a running control plane and its sidecar', async (t) => {
    const mesh = await startMesh(t, {
      'platform.yaml': example('platform.yaml'),
      'destination-rules.yaml': example('destination-rules.yaml'),
      'security.yaml': example('security.yaml'),
      'gateway.yaml': example('gateway.yaml'),
      'ingress-gateway.yaml': example('ingress-gateway.yaml'),
      'reviews.yaml': sample('virtual-service-reviews-test-v2.yaml'),
    });
    const cp = ['--control-plane', mesh.cp.monitoringUrl];
    mesh.cp.workloads.register({ name: REVIEWS_V2, namespace: 'default', address: '127.0.0.72', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews', ports: { http: 9080 }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'ratings-v1-abc', namespace: 'default', address: '127.0.0.73', labels: { app: 'ratings', version: 'v1' }, ports: { http: 9080 }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'productpage-v1-abc', namespace: 'default', address: '127.0.0.74', labels: { app: 'productpage', version: 'v1' }, ports: { http: 9080 }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'istio-ingressgateway-abc', namespace: 'istio-system', address: '127.0.0.75', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: REVIEWS_V2, ip: '127.0.0.72', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews' });
    // The sidecar's cluster for reviews carries the DestinationRule once it has its first push.
    await waitFor(async () => (await describeJson(['x', 'describe', 'reviews-v2', ...cp])).services[0]?.sidecar?.every((c) => c.agrees), 'the sidecar to agree with the config', 10_000);

    await t.test('the text is istioctl x describe pod\'s, for the workload named by a prefix', async () => {
      const r = await isthmus(['x', 'describe', 'reviews-v2', ...cp]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(
        r.stdout,
        `Pod: ${REVIEWS_V2}
   Pod Revision: default
   Pod Ports: 9080 (http)
--------------------
Service: reviews
   Port: http 9080/HTTP targets pod port 9080
DestinationRule: reviews for "reviews"
   Matching subsets: v2
      (Non-matching subsets v1,v3)
   No Traffic Policy
VirtualService: reviews
   Route to host "reviews" subset "v2"
   Match: when headers are end-user=jason
   1 additional destination(s) that will not reach this pod
      Route to non-matching subset v1 for (everything)
--------------------
Effective PeerAuthentication:
   Workload mTLS mode: PERMISSIVE
Applied PeerAuthentication:
   default.istio-system
Applied AuthorizationPolicy:
   reviews-viewer.default (ALLOW)
`,
      );
      // istioctl's spellings give the same answer.
      for (const args of [
        ['x', 'describe', 'pod', REVIEWS_V2],
        ['experimental', 'describe', 'pod', `${REVIEWS_V2}.default`],
        ['x', 'describe', 'po/reviews-v2', '-n', 'default'],
      ])
        assert.equal((await isthmus([...args, ...cp])).stdout, r.stdout, args.join(' '));
    });

    await t.test('-o json and -o yaml give the structured description, with the proxy and what its sidecar has', async () => {
      const d = await describeJson(['x', 'describe', 'reviews-v2', ...cp]);
      assert.deepEqual([d.pod.name, d.pod.namespace, d.pod.address, d.pod.source, d.pod.labels], [REVIEWS_V2, 'default', '127.0.0.72', 'workload API', { app: 'reviews', version: 'v2' }]);
      assert.deepEqual([d.pod.proxy?.id, d.pod.proxy?.type, d.pod.proxy?.status], [`${REVIEWS_V2}.default`, 'sidecar', 'SYNCED']);
      const s = d.services[0];
      assert.deepEqual([s?.name, s?.host, s?.origin?.file.endsWith('platform.yaml'), s?.destinationRule?.name, s?.virtualServices.map((v) => v.name)], ['reviews', 'reviews.default.svc.cluster.local', true, 'reviews', ['reviews']]);
      assert.deepEqual(s?.sidecar, [{ port: 9080, hasCluster: true, destinationRule: 'reviews.default', virtualServices: ['reviews.default'], agrees: true }]);
      assert.deepEqual(d.peerAuthentication.mode, 'PERMISSIVE');
      const y = parseYaml((await isthmus(['x', 'describe', 'reviews-v2', '-o', 'yaml', ...cp])).stdout) as WorkloadDescription;
      assert.deepEqual(y, d);
    });

    await t.test('config applied to the control plane shows at once: a 50/50 split', async () => {
      const applied = await fetch(`${mesh.cp.monitoringUrl}/v1/config?file=50-v3.yaml`, { method: 'POST', body: sample('virtual-service-reviews-50-v3.yaml') });
      assert.equal(applied.status, 200);
      const v2 = (await isthmus(['x', 'describe', 'reviews-v2', ...cp])).stdout;
      assert.match(v2, /\nVirtualService: reviews\n {3}WARNING: No destinations match pod subsets \(checked 1 HTTP routes\)\n {6}Route to non-matching subset v1 for \(everything\)\n {6}Route to non-matching subset v3 for \(everything\)\n/);
      mesh.cp.workloads.register({ name: 'reviews-v3-abc', namespace: 'default', address: '127.0.0.76', labels: { app: 'reviews', version: 'v3' }, ports: { http: 9080 }, tlsMode: 'disabled' });
      const v3 = await isthmus(['x', 'describe', 'reviews-v3', ...cp]);
      assert.match(v3.stdout, /\nVirtualService: reviews\n {3}Route to host "reviews" subset "v1" with weight 50% \(non-matching subset\)\n {3}Route to host "reviews" subset "v3" with weight 50%\n/);
      await fetch(`${mesh.cp.monitoringUrl}/v1/config`, { method: 'DELETE', body: sample('virtual-service-reviews-50-v3.yaml') });
    });

    await t.test('a workload without a sidecar is described from the config, with istioctl\'s warning', async () => {
      const r = await isthmus(['x', 'describe', 'ratings', ...cp]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Pod: ratings-v1-abc\n {3}Pod Revision: default\n {3}Pod Ports: 9080 \(http\)\nWARNING: ratings-v1-abc is not part of mesh; no Istio sidecar\n--------------------\nService: ratings\n/);
    });

    await t.test('the product page is exposed on the ingress gateway', async () => {
      const r = await isthmus(['x', 'describe', 'productpage', ...cp]);
      assert.match(r.stdout, /\n--------------------\nExposed on Ingress Gateway http:\/\/127\.0\.0\.1:8080\nVirtualService: bookinfo\n {3}Route to host "productpage"\n {3}Match: \/productpage, Match: \/static\*, Match: \/login, Match: \/logout, Match: \/api\/v1\/products\*\n$/);
    });

    await t.test('a proxy no registry knows is described from its node metadata', async () => {
      await startTestProxy(t, mesh, { node: 'details-v1-xyz', ip: '127.0.0.77', labels: { app: 'details', version: 'v1' }, serviceAccount: 'bookinfo-details' });
      const d = await waitFor(async () => {
        const r = await isthmus(['x', 'describe', 'details-v1', '-o', 'json', ...cp]);
        return r.code === 0 ? (JSON.parse(r.stdout) as WorkloadDescription) : undefined;
      }, 'the details proxy to connect', 10_000);
      assert.deepEqual([d.pod.name, d.pod.source, d.pod.labels, d.pod.serviceAccount], ['details-v1-xyz', 'proxy', { app: 'details', version: 'v1' }, 'bookinfo-details']);
      assert.deepEqual(d.services.map((s) => s.name), ['details']);
      assert.deepEqual(d.services[0]?.destinationRule?.matchingSubsets, ['v1']);
    });

    await t.test('errors name what is wrong', async () => {
      const dead = await freePort();
      const cases: { name: string; args: string[]; code: number; error: RegExp }[] = [
        { name: 'unknown workload', args: ['x', 'describe', 'ghost', ...cp], code: 1, error: /^error: no workload "ghost" in namespace default; known: .*reviews-v2-5b6c8d9f7d-q8j2m\.default/ },
        { name: 'ambiguous prefix', args: ['x', 'describe', 'r', ...cp], code: 1, error: /^error: "r" matches several workloads in namespace default: ratings-v1-abc, reviews-v2-5b6c8d9f7d-q8j2m/ },
        { name: 'unreachable control plane', args: ['x', 'describe', 'reviews-v2', '--control-plane', `127.0.0.1:${dead}`], code: 1, error: /^error: cannot reach the control plane at 127\.0\.0\.1:\d+: .*--control-plane sets the address/ },
        { name: 'bad -o', args: ['x', 'describe', 'reviews-v2', '-o', 'table', ...cp], code: 64, error: /^error: invalid output format "table": must be one of json, yaml/ },
        { name: 'a kind other than pod', args: ['x', 'describe', 'service', 'reviews', ...cp], code: 64, error: /^error: unknown resource type "service": describe a pod/ },
      ];
      for (const c of cases) {
        const r = await isthmus(c.args);
        assert.equal(r.code, c.code, c.name);
        assert.match(r.stderr, c.error, c.name);
        assert.equal(r.stdout, '', c.name);
      }
    });
  });

  it('takes the workload as istioctl does: pod <name>, pod/<name> or <name>', () => {
    assert.equal(workloadArgument('pod', 'reviews-v1'), 'reviews-v1');
    assert.equal(workloadArgument('po', 'reviews-v1.default'), 'reviews-v1.default');
    assert.equal(workloadArgument('pods/reviews-v1', undefined), 'reviews-v1');
    assert.equal(workloadArgument('reviews-v1', undefined), 'reviews-v1');
    assert.throws(() => workloadArgument('deployment', 'reviews-v1'), { code: 'ISM_USAGE' });
  });
});
