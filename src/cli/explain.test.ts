// `isthmus explain` against a real mesh: the control plane turns Istio config into the sidecar's xDS,
// the command reads that sidecar's admin and explains requests; --send checks the explanation against
// what the sidecar really answers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { Command } from 'commander';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar } from '../../test/support/data-plane.js';
import { waitFor } from '../../test/support/wait.js';
import type { CliIO } from './output.js';
import { registerExplain } from './explain.js';
import type { ExplainReport } from './explain/types.js';
import { serviceYaml } from '../../test/support/mesh-yaml.js';


const CONFIG = {
  'dr.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`,
  'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - fault: {abort: {httpStatus: 500, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: default}
spec:
  hosts: [details]
  http:
  - match: [{uri: {prefix: /details}}]
    route: [{destination: {host: details}}]
`,
};

async function explain(args: readonly string[]): Promise<string> {
  let out = '';
  const io: CliIO = { stdout: (s) => void (out += s), stderr: () => undefined, stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined };
  const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerExplain(program, io);
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(['explain', ...args], { from: 'user' });
  return out;
}

async function explainJson(args: readonly string[]): Promise<ExplainReport> {
  return JSON.parse(await explain([...args, '-o', 'json'])) as ExplainReport;
}

describe('isthmus explain', () => {
  it("follows requests through a sidecar's real config", async (t) => {
    const v1Port = await freePort();
    await startUpstream(t, 'reviews-v1', '127.0.0.1', v1Port);
    // v2 has no sidecar: its endpoint is the app itself, on its own loopback address.
    await startUpstream(t, 'reviews-v2', '127.0.0.53', v1Port);
    // `held` answers nothing until its latch opens; its DestinationRule allows one connection and one pending request.
    let openHeld: () => void = () => undefined;
    const heldLatch = new Promise<void>((r) => (openHeld = r));
    const held = await startUpstream(t, 'held', '127.0.0.54', v1Port, (_req, res) => void heldLatch.then(() => res.end('held')));
    t.after(() => openHeld());
    const HELD_DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: held, namespace: default}
spec:
  host: held
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}
`;
    // reviews, ratings and details; only reviews has workloads. Hosts outside the registry are blocked.
    const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('reviews', 9080, v1Port) + serviceYaml('ratings', 9080, 9080) + serviceYaml('details', 9080, 9080) + serviceYaml('productpage', 9080, 9080) + serviceYaml('held', 9080, v1Port), 'held-dr.yaml': HELD_DR, ...CONFIG }, { outboundTrafficPolicy: 'REGISTRY_ONLY' });
    mesh.cp.workloads.register({ name: 'held-v1', namespace: 'default', address: '127.0.0.54', labels: { app: 'held' }, ports: { http: v1Port }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.0.52', labels: { app: 'reviews', version: 'v1' }, ports: { http: v1Port }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'reviews-v2', namespace: 'default', address: '127.0.0.53', labels: { app: 'reviews', version: 'v2' }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.0.51', labels: { app: 'productpage', version: 'v1' }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.0.52', labels: { app: 'reviews', version: 'v1' } });
    const productpage = await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.0.51', labels: { app: 'productpage', version: 'v1' } });
    await waitFor(async () => (await viaSidecar('127.0.0.51', 'http://reviews:9080/').catch(() => undefined))?.body === 'reviews-v1', 'reviews v1 through the sidecars', 10_000);
    await waitFor(async () => (await viaSidecar('127.0.0.51', 'http://reviews:9080/', { headers: { 'end-user': 'jason' } }).catch(() => undefined))?.body === 'reviews-v2', 'reviews v2 for jason', 10_000);
    const from = ['--control-plane', mesh.cp.monitoringUrl, '--from', 'productpage'];
    const REVIEWS_VS = '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews';
    const v1Cluster = 'outbound|9080|v1|reviews.default.svc.cluster.local';

    await t.test('a header-matched route: without the header, route 1 does not match and says why; the default route goes to v1', async () => {
      const r = await explainJson([...from, 'http://reviews:9080/reviews/0']);
      const routes = r.steps.filter((s) => s.step === 'route');
      assert.deepEqual(
        routes.map((s) => [s.resource, s.decision, s.istioResource]),
        [
          ['reviews.default.svc.cluster.local:9080/routes[0]', 'no match', REVIEWS_VS],
          ['reviews.default.svc.cluster.local:9080/routes[1]', 'matched', REVIEWS_VS],
        ],
      );
      assert.match(routes[0]?.detail ?? '', /header end-user exact "jason" does not hold: header end-user is absent/);
      assert.deepEqual(
        r.steps.map((s) => s.step),
        // The endpoint is reviews-v1's sidecar: explain follows the request into its inbound chain (no policies there).
        // HTTP filters: istio.metadata_exchange, istio.alpn, fault, cors, istio.stats (listed, as the proxy compiles it
        // apart from the chain), router.
        ['proxy', 'listener', 'filter-chain', 'route-config', 'virtual-host', 'route', 'route', 'http-filter', 'http-filter', 'http-filter', 'http-filter', 'http-filter', 'http-filter', 'route-action', 'cluster', 'endpoints', 'inbound'],
      );
      assert.deepEqual([r.steps[1]?.resource, r.steps[4]?.resource], ['0.0.0.0_9080', 'reviews.default.svc.cluster.local:9080']);
      assert.match(r.steps[4]?.detail ?? '', /authority "reviews:9080" matches domain "reviews" \(exact\)/);
      assert.equal(r.steps.find((s) => s.step === 'cluster')?.istioResource, '/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews');
      assert.equal(r.verdict.outcome, 'routed');
      assert.equal(r.verdict.cluster, v1Cluster);
      assert.match(r.verdict.endpoint ?? '', /^127\.0\.0\.52:\d+$/);

      const text = await explain([...from, 'http://reviews:9080/reviews/0']);
      assert.match(text, /^GET http:\/\/reviews:9080\/reviews\/0 from productpage-v1\.default\n/);
      assert.match(text, /\n 6\. route +reviews\.default\.svc\.cluster\.local:9080\/routes\[0\]: no match\n +match prefix "\/" and header end-user exact "jason": header end-user exact "jason" does not hold: header end-user is absent\n +Istio: VirtualService default\/reviews\n/);
      assert.match(text, /\nVerdict: routed to cluster outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local, endpoint 127\.0\.0\.52:\d+\n/);
    });

    await t.test('with the header, route 1 matches and the v2 subset serves it; --send agrees', async () => {
      const r = await explainJson([...from, '-H', 'end-user: jason', '--send', 'http://reviews:9080/reviews/0']);
      assert.deepEqual(r.steps.filter((s) => s.step === 'route').map((s) => s.decision), ['matched']);
      assert.equal(r.verdict.cluster, 'outbound|9080|v2|reviews.default.svc.cluster.local');
      assert.equal(r.verdict.endpoint, `127.0.0.53:${v1Port}`);
      assert.deepEqual([r.sent?.status, r.sent?.responseFlag, r.sent?.asExplained], [200, undefined, true]);
    });

    await t.test('a fault abort names the VirtualService and the status', async () => {
      const r = await explainJson([...from, '--send', 'http://ratings:9080/ratings/0']);
      assert.deepEqual([r.verdict.outcome, r.verdict.status, r.verdict.responseFlag], ['rejected', 500, 'FI']);
      assert.match(r.verdict.summary, /aborts the request with HTTP 500 "fault filter abort", injected by VirtualService default\/ratings/);
      const fault = r.steps.at(-1);
      assert.deepEqual([fault?.step, fault?.resource, fault?.decision, fault?.istioResource], ['http-filter', 'envoy.filters.http.fault', 'aborts', '/apis/networking.istio.io/v1/namespaces/default/virtual-service/ratings']);
      assert.match(fault?.detail ?? '', /aborts 100% of requests with HTTP 500/);
      assert.deepEqual([r.sent?.status, r.sent?.responseFlag, r.sent?.asExplained], [500, 'FI', true]);
    });

    await t.test('no healthy endpoints: 503 UH, naming the cluster', async () => {
      const text = await explain([...from, '--send', 'http://details:9080/details/0']);
      assert.match(text, /\nVerdict: rejected with 503 UH\. no healthy upstream in cluster outbound\|9080\|\|details\.default\.svc\.cluster\.local \(it has no endpoints\): 503 UH\n/);
      assert.match(text, /\nDecided at step \d+ \(endpoints outbound\|9080\|\|details\.default\.svc\.cluster\.local\)\.\n/);
      assert.match(text, /\nSent: 503 UH in \d+ ms, as explained\.\n/);
    });

    await t.test('no route for the path: 404 NR, listing the routes the virtual host has', async () => {
      const r = await explainJson([...from, 'http://details:9080/other']);
      assert.deepEqual([r.verdict.status, r.verdict.responseFlag], [404, 'NR']);
      assert.equal(r.verdict.summary, 'no route matched: virtual host details.default.svc.cluster.local:9080 has routes routes[0] prefix "/details", none matches path /other');
      assert.match(r.steps.find((s) => s.step === 'route')?.detail ?? '', /prefix "\/details" does not hold: path is "\/other"/);
    });

    await t.test('an unknown host: 404 NR on a port with no listener, the block_all direct response on a known port', async () => {
      const unknownPort = await explainJson([...from, '--send', 'http://unknown.example:7777/']);
      assert.deepEqual([unknownPort.verdict.outcome, unknownPort.verdict.status, unknownPort.verdict.responseFlag], ['rejected', 404, 'NR']);
      assert.match(unknownPort.steps.at(-1)?.detail ?? '', /no listener serves port 7777 .*BlackHoleCluster \(outboundTrafficPolicy REGISTRY_ONLY/);
      assert.deepEqual([unknownPort.sent?.status, unknownPort.sent?.responseFlag, unknownPort.sent?.asExplained], [404, 'NR', true]);

      const knownPort = await explainJson([...from, '--send', 'http://unknown.example:9080/']);
      assert.deepEqual([knownPort.verdict.status, knownPort.steps.find((s) => s.step === 'virtual-host')?.resource], [502, 'block_all']);
      assert.match(knownPort.verdict.summary, /not in the mesh's registry and outboundTrafficPolicy is REGISTRY_ONLY: direct response 502/);
      assert.equal(knownPort.sent?.status, 502);
    });

    await t.test("a breaker at its limit now: the live state from the proxy's /stats, and what it does to a new request", async () => {
      const first = viaSidecar('127.0.0.51', 'http://held:9080/1');
      await waitFor(() => held.seen.length === 1, 'the first request to hold the only connection', 10_000);
      const second = viaSidecar('127.0.0.51', 'http://held:9080/2');
      const r = await waitFor(async () => {
        const x = await explainJson([...from, 'http://held:9080/3']);
        return x.steps.some((s) => s.step === 'circuit-breakers') ? x : undefined;
      }, 'explain to see the pending request', 10_000);
      const step = r.steps.find((s) => s.step === 'circuit-breakers');
      assert.deepEqual([step?.resource, step?.decision], ['outbound|9080||held.default.svc.cluster.local', 'open now']);
      assert.match(step?.detail ?? '', /connections \(1\) and pending requests \(1; 1 waiting\): a new HTTP\/1\.1 request finds no free connection and no room to wait, 503 with x-envoy-overloaded \(UO\)/);
      openHeld();
      assert.deepEqual((await Promise.all([first, second])).map((x) => x.status), [200, 200]);
      // Once the held requests are answered the breakers close, and explain says nothing about them.
      const after = await waitFor(async () => {
        const x = await explainJson([...from, 'http://held:9080/4']);
        return x.steps.some((s) => s.step === 'circuit-breakers') ? undefined : x;
      }, 'the breakers to close', 10_000);
      assert.equal(after.verdict.outcome, 'routed');
    });

    await t.test('-o yaml gives the same structure', async () => {
      const r = parseYaml(await explain([...from, 'http://reviews:9080/', '-o', 'yaml'])) as ExplainReport;
      assert.equal(r.proxy, 'productpage-v1.default');
      assert.equal(r.verdict.cluster, v1Cluster);
      assert.ok(r.steps.every((s) => typeof s.step === 'string' && typeof s.resource === 'string' && typeof s.decision === 'string' && typeof s.detail === 'string'));
    });

    await t.test("an admin that will not give /stats or /clusters: the config still explains the request, and the report says what it could not read", async (t) => {
      // A stand-in admin in front of the sidecar's real one (no real proxy can be made to refuse only these
      // two): the config dump passes through, /stats and /clusters answer 503, as a restricted admin might.
      const front = createServer((req, res) => {
        if (/^\/(stats|clusters)\b/.test(req.url ?? '')) {
          res.writeHead(503).end('not here');
          return;
        }
        void fetch(`${productpage.adminUrl}${req.url ?? '/'}`).then(async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(Buffer.from(await r.arrayBuffer())));
      });
      await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
      t.after(() => new Promise<void>((r) => front.close(() => r())));
      const admin = `127.0.0.1:${(front.address() as AddressInfo).port}`;
      const r = await explainJson([...from, '--admin', admin, 'http://reviews:9080/']);
      assert.deepEqual([r.verdict.outcome, r.verdict.cluster], ['routed', v1Cluster]);
      assert.equal(r.steps.some((s) => s.step === 'circuit-breakers'), false);
      assert.deepEqual(
        r.problems.map((p) => p.replace(/ at .*$|: .*$/, '')),
        ['endpoint health from /clusters is not available', 'circuit breaker state from /stats is not available'],
      );
      assert.match(r.problems.join('\n'), /\/stats\?format=json[^\n]*: HTTP 503: not here/);
    });

    await t.test('bad input names the thing that is wrong', async () => {
      const cases: { name: string; args: string[]; error: RegExp }[] = [
        { name: 'unknown workload', args: ['--control-plane', mesh.cp.monitoringUrl, '--from', 'ghost', 'http://reviews:9080/'], error: /no proxy "ghost" in namespace default/ },
        { name: 'malformed URL', args: [...from, 'http://[::1'], error: /invalid URL "http:\/\/\[::1"/ },
        { name: 'malformed header', args: [...from, '-H', ': jason', 'http://reviews:9080/'], error: /invalid header ": jason"/ },
        { name: 'bad output format', args: [...from, '-o', 'table', 'http://reviews:9080/'], error: /invalid output format "table": must be one of json, yaml/ },
      ];
      for (const c of cases) await assert.rejects(explain(c.args), c.error, c.name);
      const dead = await freePort();
      await assert.rejects(explain(['--control-plane', `127.0.0.1:${dead}`, '--from', 'productpage', 'http://reviews:9080/']), /cannot reach the control plane at 127\.0\.0\.1:\d+/);
      await assert.rejects(explain([...from, '--admin', `127.0.0.1:${dead}`, 'http://reviews:9080/']), /cannot reach the admin of proxy productpage-v1\.default at http:\/\/127\.0\.0\.1:\d+\/config_dump/);
    });
  });

  it('follows the request into the destination sidecar and names the policy that denies it (mTLS identity)', async (t) => {
    const port = await freePort();
    await startUpstream(t, 'ratings', '127.0.0.1', port);
    const mesh = await startMesh(t, {
      'svc.yaml': serviceYaml('ratings', 9080, port) + serviceYaml('productpage', 9080, 9080) + serviceYaml('reviews', 9080, 9080),
      'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-from-reviews, namespace: default}
spec:
  selector: {matchLabels: {app: ratings}}
  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/reviews]}}], to: [{operation: {methods: [GET]}}]}]
`,
    });
    const id = (sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }) } });
    mesh.cp.workloads.register({ name: 'ratings-v1', namespace: 'default', address: '127.0.19.3', labels: { app: 'ratings' }, serviceAccount: 'ratings', ports: { http: port }, tlsMode: 'istio' });
    for (const [name, ip] of [['productpage', '127.0.19.1'], ['reviews', '127.0.19.2']] as const) {
      mesh.cp.workloads.register({ name: `${name}-v1`, namespace: 'default', address: ip, labels: { app: name }, serviceAccount: name, tlsMode: 'istio' });
    }
    await startTestProxy(t, mesh, { node: 'ratings-v1', ip: '127.0.19.3', labels: { app: 'ratings' }, serviceAccount: 'ratings' }, id('ratings'));
    await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.19.1', labels: { app: 'productpage' }, serviceAccount: 'productpage' }, id('productpage'));
    await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.19.2', labels: { app: 'reviews' }, serviceAccount: 'reviews' }, id('reviews'));
    const cp = mesh.cp.monitoringUrl.replace('http://', '');
    await waitFor(async () => (await viaSidecar('127.0.19.2', 'http://ratings:9080/ratings/0').catch(() => undefined))?.status === 200, 'reviews -> ratings over mTLS', 10_000);

    const denied = await explainJson(['--from', 'productpage-v1', '--control-plane', cp, '--send', 'http://ratings:9080/ratings/0']);
    assert.equal(denied.verdict.outcome, 'rejected');
    assert.equal(denied.verdict.status, 403);
    assert.match(denied.verdict.summary, /^denied by the destination ratings-v1\.default: 403 RBAC: access denied \(rbac_access_denied_matched_policy\[none\]\)$/);
    const inbound = denied.steps.find((x) => x.step === 'inbound');
    assert.match(inbound?.detail ?? '', /mTLS from spiffe:\/\/cluster\.local\/ns\/default\/sa\/productpage from 127\.0\.19\.1/);
    assert.equal(denied.sent?.status, 403);
    assert.equal(denied.sent?.asExplained, true, 'the proxy answers what explain predicted');

    const allowed = await explainJson(['--from', 'reviews-v1', '--control-plane', cp, 'http://ratings:9080/ratings/0']);
    assert.equal(allowed.verdict.outcome, 'routed');
    const authz = allowed.steps.filter((x) => x.step === 'inbound-authz');
    assert.deepEqual(authz.map((x) => x.decision), ['allowed']);
    assert.match(authz[0]?.detail ?? '', /policy ns\[default\]-policy\[ratings-from-reviews\]-rule\[0\]/);
    const post = await explainJson(['--from', 'reviews-v1', '--control-plane', cp, '-X', 'POST', 'http://ratings:9080/ratings/0']);
    assert.equal(post.verdict.status, 403, 'the rule allows only GET');
  });
});
