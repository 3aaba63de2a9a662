// `x describe` on Istio's Bookinfo: our demo folder (examples/bookinfo: platform, DestinationRules,
// mesh-wide PERMISSIVE mTLS, the reviews-viewer AuthorizationPolicy, the ingress gateway) and Istio's own
// networking samples (../shared/corpus/istio-bookinfo), loaded with the real loader and validator, then
// described for one workload and rendered as istioctl x describe pod prints it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { describeWorkload } from './describe-workload.js';
import { renderDescribeText } from './render-text.js';
import type { ConfigInput, DescribeInput, WorkloadDescription, WorkloadInfo } from './types.js';

const REGISTRY = createKindRegistry(ALL_KINDS);
const EXAMPLES = new URL('../../../examples/bookinfo/', import.meta.url);
const CORPUS = new URL('../../../../shared/corpus/istio-bookinfo/', import.meta.url);
const example = (f: string): [string, string] => [`examples/bookinfo/${f}`, readFileSync(new URL(f, EXAMPLES), 'utf8')];
const sample = (f: string): [string, string] => [f, readFileSync(new URL(`networking/${f}`, CORPUS), 'utf8')];
const inline = (text: string): [string, string] => ['inline.yaml', text];

/** The demo folder's platform, DestinationRules and security, plus `more`. */
function bookinfo(...more: [string, string][]): ConfigInput[] {
  return configOf([example('platform.yaml'), example('destination-rules.yaml'), example('security.yaml'), ...more]);
}

function configOf(files: readonly [string, string][]): ConfigInput[] {
  return files.flatMap(([file, text]) => {
    const loaded = loadText(text, file);
    const v = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
    assert.deepEqual(v.invalid, [], `${file} is valid`);
    return v.entries;
  });
}

function pod(name: string, labels: Record<string, string>, o: Partial<WorkloadInfo> = {}): WorkloadInfo {
  return { name, namespace: 'default', labels, address: '127.10.0.7', serviceAccount: 'bookinfo-reviews', ports: { http: 9080 }, ...o };
}

const REVIEWS_V1 = pod('reviews-v1-7f9c8d6b5-x2k4p', { app: 'reviews', version: 'v1' });
const REVIEWS_V2 = pod('reviews-v2-5b6c8d9f7d-q8j2m', { app: 'reviews', version: 'v2' });
const PRODUCTPAGE = pod('productpage-v1-6d8bc9b7f7-cvbr8', { app: 'productpage', version: 'v1' }, { serviceAccount: 'bookinfo-productpage' });
const INGRESS = pod('istio-ingressgateway-5d9f8c7b6-abcde', { app: 'istio-ingressgateway', istio: 'ingressgateway' }, { namespace: 'istio-system', ports: { http2: 8080 } });
const PROXY = { id: 'x.default', type: 'sidecar', status: 'SYNCED' };

/** Described with a connected sidecar unless `meshed` is false. */
function describeIt(workload: WorkloadInfo, config: readonly ConfigInput[], o: Partial<DescribeInput> = {}, meshed = true): WorkloadDescription {
  return describeWorkload({ workload, config, workloads: [workload], ...(meshed ? { proxy: PROXY } : {}), ...o });
}

function text(workload: WorkloadInfo, config: readonly ConfigInput[], o: Partial<DescribeInput> = {}, meshed = true): string {
  return renderDescribeText(describeIt(workload, config, o, meshed));
}

describe('x describe on Bookinfo', () => {
  it('reviews-v2 with virtual-service-reviews-test-v2: the jason route reaches it, the default route does not', () => {
    assert.equal(
      text(REVIEWS_V2, bookinfo(sample('virtual-service-reviews-test-v2.yaml'))),
      `Pod: reviews-v2-5b6c8d9f7d-q8j2m
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
  });

  it('the same VirtualService seen from reviews-v1: the catch-all route reaches it, jason goes elsewhere', () => {
    const out = text(REVIEWS_V1, bookinfo(sample('virtual-service-reviews-test-v2.yaml')));
    assert.match(
      out,
      /\nVirtualService: reviews\n {3}Route to host "reviews" subset "v1"\n {3}1 additional destination\(s\) that will not reach this pod\n {6}Route to non-matching subset v2 for \(Match: when headers are end-user=jason\)\n/,
    );
    assert.match(out, /\n {3}Matching subsets: v1\n {6}\(Non-matching subsets v2,v3\)\n/);
  });

  const splits: { name: string; file: string; workload: WorkloadInfo; lines: string[] }[] = [
    {
      name: '50/50 v1/v3, from v1',
      file: 'virtual-service-reviews-50-v3.yaml',
      workload: REVIEWS_V1,
      lines: ['VirtualService: reviews', '   Route to host "reviews" subset "v1" with weight 50%', '   Route to host "reviews" subset "v3" with weight 50% (non-matching subset)'],
    },
    {
      name: '80/20 v1/v2, from v2',
      file: 'virtual-service-reviews-80-20.yaml',
      workload: REVIEWS_V2,
      lines: ['VirtualService: reviews', '   Route to host "reviews" subset "v1" with weight 80% (non-matching subset)', '   Route to host "reviews" subset "v2" with weight 20%'],
    },
    {
      name: '50/50 v1/v3, from v2: nothing reaches it',
      file: 'virtual-service-reviews-50-v3.yaml',
      workload: REVIEWS_V2,
      lines: [
        'VirtualService: reviews',
        '   WARNING: No destinations match pod subsets (checked 1 HTTP routes)',
        '      Route to non-matching subset v1 for (everything)',
        '      Route to non-matching subset v3 for (everything)',
      ],
    },
  ];
  for (const c of splits)
    it(`a weighted split shows the weights: ${c.name}`, () => {
      const out = text(c.workload, bookinfo(sample(c.file)));
      const from = out.indexOf('VirtualService: ');
      assert.deepEqual(out.slice(from).split('\n').slice(0, c.lines.length), c.lines);
      const vs = describeIt(c.workload, bookinfo(sample(c.file))).services[0]?.virtualServices[0];
      assert.deepEqual(
        vs?.routes[0]?.destinations.map((d) => [d.subset, d.weight, d.target]),
        vs?.routes[0]?.destinations.map((d) => [d.subset, d.weight, c.workload.labels['version'] === d.subset ? 'workload' : 'other-subset']),
      );
    });

  it('a workload no Service selects says so, in istioctl\'s words', () => {
    const lonely = pod('batch-job-1', { app: 'batch', version: 'v1' });
    const d = describeIt(lonely, bookinfo());
    assert.deepEqual(d.services, []);
    assert.equal(
      renderDescribeText(d).split('\n').slice(0, 5).join('\n'),
      `Pod: batch-job-1
   Pod Revision: default
   Pod Ports: 9080 (http)
Warning: No Kubernetes Services select pod batch-job-1 (see https://istio.io/docs/setup/kubernetes/additional-setup/requirements/ )
--------------------`,
    );
  });

  it('a workload without a sidecar is not part of the mesh; one without app/version labels gets istioctl\'s suggestions', () => {
    assert.match(text(REVIEWS_V1, bookinfo(), {}, false), /^Pod: reviews-v1-7f9c8d6b5-x2k4p\n(?:.*\n){2}WARNING: reviews-v1-7f9c8d6b5-x2k4p is not part of mesh; no Istio sidecar\n/);
    const unlabelled = text(pod('tool-1', { role: 'tool' }, { ports: {} }), bookinfo());
    assert.match(unlabelled, /\n {3}Pod does not expose ports\nSuggestion: add required service name label for Istio telemetry\. See https:\/\/istio\.io\/latest\/docs\/ops\/deployment\/application-requirements\/\.\nSuggestion: add required service revision label/);
  });

  it("Istio's destination-rule-all-mtls: the traffic policy's TLS mode", () => {
    const config = configOf([example('platform.yaml'), sample('destination-rule-all-mtls.yaml')]);
    assert.match(text(REVIEWS_V2, config), /\nDestinationRule: reviews for "reviews"\n {3}Matching subsets: v2\n {6}\(Non-matching subsets v1,v3\)\n {3}Traffic Policy TLS Mode: ISTIO_MUTUAL\n/);
  });

  it('policies and port-level settings, as istioctl lists them', () => {
    const dr = inline(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-policies}
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    connectionPool: {tcp: {maxConnections: 10}}
    outlierDetection: {consecutive5xxErrors: 5}
    portLevelSettings:
    - port: {number: 9080}
      tls: {mode: DISABLE}
      loadBalancer: {simple: LEAST_REQUEST}
`);
    const out = text(REVIEWS_V1, configOf([example('platform.yaml'), dr]));
    assert.match(
      out,
      /\nDestinationRule: reviews-policies for "reviews\.default\.svc\.cluster\.local"\n {3}Policies: load balancer\/connection pool\/outlier detection\n {3}Port Level Settings:\n {4}9080:\n {6}TLS Mode: DISABLE\n {6}Policies: load balancer\n/,
    );
  });

  const hostForms: { name: string; host: string; note: boolean }[] = [
    { name: 'short name', host: 'reviews', note: false },
    { name: 'name.namespace', host: 'reviews.default', note: true },
    { name: 'FQDN', host: 'reviews.default.svc.cluster.local', note: false },
  ];
  for (const c of hostForms)
    it(`a DestinationRule and VirtualService naming the Service by its ${c.name} apply to it`, () => {
      const config = configOf([
        example('platform.yaml'),
        inline(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: ${c.host}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [${c.host}]
  http: [{route: [{destination: {host: ${c.host}, subset: v1}}]}]
`),
      ]);
      const s = describeIt(REVIEWS_V1, config).services[0];
      assert.equal(s?.destinationRule?.host, c.host);
      assert.deepEqual(s?.destinationRule?.matchingSubsets, ['v1']);
      assert.deepEqual(s?.virtualServices.map((v) => [v.name, v.routes[0]?.reachesWorkload]), [['reviews', true]]);
      assert.equal((s?.destinationRule?.notes.length ?? 0) > 0, c.note);
      if (c.note) assert.match(text(REVIEWS_V1, config), /\n {3}Note: host "reviews\.default" is not fully qualified: Istio reads it as written/);
    });

  it('a DestinationRule for another namespace\'s reviews does not apply', () => {
    const config = configOf([example('platform.yaml'), inline('apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: shop}\nspec:\n  host: reviews\n')]);
    assert.equal(describeIt(REVIEWS_V1, config).services[0]?.destinationRule, undefined);
  });

  const unknownSubsets: { name: string; rules: [string, string][]; line: string }[] = [
    { name: 'a subset the DestinationRule lacks', rules: [example('destination-rules.yaml')], line: '      Warning: Route to UNKNOWN subset v9; check DestinationRule reviews' },
    { name: 'no DestinationRule at all', rules: [], line: '      Warning: Route to subset v9 but NO DESTINATION RULE defining subsets!' },
  ];
  for (const c of unknownSubsets)
    it(`a route to an unknown subset warns: ${c.name}`, () => {
      const vs = inline('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews, subset: v9}}]}]\n');
      const lines = text(REVIEWS_V1, configOf([example('platform.yaml'), ...c.rules, vs])).split('\n');
      const at = lines.indexOf('VirtualService: reviews');
      assert.deepEqual(lines.slice(at, at + 3), ['VirtualService: reviews', '   WARNING: No destinations match pod subsets (checked 1 HTTP routes)', c.line]);
    });

  it('fault injection and match conditions of the route that reaches the pod (virtual-service-ratings-test-abort)', () => {
    const ratings = pod('ratings-v1-1', { app: 'ratings', version: 'v1' });
    const out = text(ratings, bookinfo(sample('virtual-service-ratings-test-abort.yaml')));
    assert.match(out, /\nVirtualService: ratings\n {3}Route to host "ratings" subset "v1"\n {3}Fault injection abort 500 \(100%\), Match: when headers are end-user=jason\n {3}Route to host "ratings" subset "v1"\n/);
  });

  it('the product page exposed on the ingress gateway, with the VirtualService that routes there', () => {
    const config = bookinfo(example('gateway.yaml'), example('ingress-gateway.yaml'));
    const d = describeIt(PRODUCTPAGE, config, { workloads: [PRODUCTPAGE, INGRESS] });
    assert.deepEqual(
      d.ingress.map((e) => [e.gateway, e.urls, e.pods, e.service, e.virtualService.name]),
      [['default/bookinfo-gateway', ['http://127.0.0.1:8080'], ['istio-ingressgateway-5d9f8c7b6-abcde.istio-system'], 'productpage.default', 'bookinfo']],
    );
    const out = renderDescribeText(d);
    assert.ok(
      out.endsWith(`--------------------
Exposed on Ingress Gateway http://127.0.0.1:8080
VirtualService: bookinfo
   Route to host "productpage"
   Match: /productpage, Match: /static*, Match: /login, Match: /logout, Match: /api/v1/products*
`),
      out,
    );
    // The sidecars' VirtualServices do not include the gateway's.
    assert.deepEqual(d.services[0]?.virtualServices, []);
    // Without a gateway pod, istioctl's note.
    assert.match(text(PRODUCTPAGE, config), /\nSkipping Gateway information \(no ingress gateway pods\)\n$/);
  });

  it('the structured description names each object and the file and line it came from', () => {
    const d = describeIt(REVIEWS_V2, bookinfo(sample('virtual-service-reviews-test-v2.yaml')));
    const s = d.services[0];
    assert.deepEqual([s?.name, s?.namespace, s?.host, s?.origin?.file], ['reviews', 'default', 'reviews.default.svc.cluster.local', 'examples/bookinfo/platform.yaml']);
    assert.deepEqual(s?.ports, [{ name: 'http', port: 9080, protocol: 'HTTP', targetPort: 9080 }]);
    assert.deepEqual([s?.destinationRule?.name, s?.destinationRule?.origin?.file], ['reviews', 'examples/bookinfo/destination-rules.yaml']);
    assert.deepEqual(
      s?.virtualServices[0]?.routes.map((r) => [r.protocol, r.index, r.reachesWorkload, r.match, r.destinations.map((x) => `${x.host}/${x.subset ?? ''}:${x.target}`)]),
      [
        ['http', 0, true, ['when headers are end-user=jason'], ['reviews/v2:workload']],
        ['http', 1, false, [], ['reviews/v1:other-subset']],
      ],
    );
    assert.deepEqual(d.peerAuthentication, { mode: 'PERMISSIVE', portLevel: [], applied: [{ name: 'default', namespace: 'istio-system', origin: { file: 'examples/bookinfo/security.yaml', line: 3 } }] });
    assert.deepEqual(
      d.authorizationPolicies.map((p) => [p.name, p.namespace, p.action, p.dryRun, p.rules]),
      [['reviews-viewer', 'default', 'ALLOW', false, 1]],
    );
  });
});

describe('x describe: effective PeerAuthentication', () => {
  const pa = (name: string, ns: string, body: string, created = '2024-01-01T00:00:00Z'): string =>
    `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}, namespace: ${ns}, creationTimestamp: "${created}"}\nspec:\n${body}\n---\n`;
  const MESH_STRICT = pa('mesh', 'istio-system', '  mtls: {mode: STRICT}');
  const NS_PERMISSIVE = pa('ns', 'default', '  mtls: {mode: PERMISSIVE}');
  const cases: { name: string; yaml: string; mode: string; ports?: [number, string][]; applied: string[] }[] = [
    { name: 'nothing: PERMISSIVE', yaml: '', mode: 'PERMISSIVE', applied: [] },
    { name: 'mesh-wide STRICT', yaml: MESH_STRICT, mode: 'STRICT', applied: ['mesh.istio-system'] },
    { name: 'the namespace overrides the mesh', yaml: MESH_STRICT + NS_PERMISSIVE, mode: 'PERMISSIVE', applied: ['mesh.istio-system', 'ns.default'] },
    {
      name: 'the workload overrides the namespace, with port-level modes (UNSET inherits)',
      yaml: MESH_STRICT + NS_PERMISSIVE + pa('wl', 'default', '  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: DISABLE}\n  portLevelMtls:\n    "9080": {mode: STRICT}\n    "8080": {mode: UNSET}'),
      mode: 'DISABLE',
      ports: [
        [8080, 'DISABLE'],
        [9080, 'STRICT'],
      ],
      applied: ['mesh.istio-system', 'ns.default', 'wl.default'],
    },
    { name: 'an UNSET workload policy inherits the namespace mode', yaml: MESH_STRICT + NS_PERMISSIVE + pa('wl', 'default', '  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: UNSET}'), mode: 'PERMISSIVE', applied: ['mesh.istio-system', 'ns.default', 'wl.default'] },
    { name: 'a selector the workload does not match is ignored', yaml: MESH_STRICT + pa('other', 'default', '  selector: {matchLabels: {app: ratings}}\n  mtls: {mode: DISABLE}'), mode: 'STRICT', applied: ['mesh.istio-system'] },
    { name: 'another namespace is ignored', yaml: pa('shop', 'shop', '  mtls: {mode: STRICT}'), mode: 'PERMISSIVE', applied: [] },
    {
      name: 'of two namespace policies the oldest wins',
      yaml: pa('newer', 'default', '  mtls: {mode: STRICT}', '2024-06-01T00:00:00Z') + pa('older', 'default', '  mtls: {mode: DISABLE}', '2023-01-01T00:00:00Z'),
      mode: 'DISABLE',
      applied: ['older.default', 'newer.default'],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const config = c.yaml === '' ? [] : configOf([inline(c.yaml)]);
      const got = describeIt(REVIEWS_V1, config).peerAuthentication;
      assert.equal(got.mode, c.mode);
      assert.deepEqual(got.portLevel.map((p) => [p.port, p.mode]), c.ports ?? []);
      assert.deepEqual(got.applied.map((r) => `${r.name}.${r.namespace}`), c.applied);
    });

  it('renders port-level modes as istioctl does', () => {
    const yaml = pa('wl', 'default', '  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    "9080": {mode: PERMISSIVE}');
    assert.match(text(REVIEWS_V1, configOf([inline(yaml)])), /\nEffective PeerAuthentication:\n {3}Workload mTLS mode: STRICT\n {3}Port Level mTLS mode:\n {6}9080: PERMISSIVE\nApplied PeerAuthentication:\n {3}wl\.default\n/);
  });
});

describe('x describe: AuthorizationPolicies that select the workload', () => {
  const ap = (name: string, ns: string, body: string, annotations = ''): string =>
    `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}${annotations}}\nspec:\n${body}\n---\n`;
  const yaml =
    ap('deny-all-mesh', 'istio-system', '  action: DENY\n  rules: [{to: [{operation: {paths: [/admin]}}]}]') +
    ap('reviews-viewer', 'default', '  selector: {matchLabels: {app: reviews}}\n  rules: [{}]') +
    ap('ratings-only', 'default', '  selector: {matchLabels: {app: ratings}}\n  rules: [{}]') +
    ap('namespace-trial', 'default', '  action: DENY\n  rules: [{}]', ', annotations: {istio.io/dry-run: "true"}') +
    ap('other-namespace', 'shop', '  rules: [{}]') +
    ap('gateway-only', 'default', '  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n  rules: [{}]');

  it('root-namespace policies apply mesh-wide, namespace policies by selector; targeted and other-namespace ones do not', () => {
    const got = describeIt(REVIEWS_V1, configOf([inline(yaml)])).authorizationPolicies;
    assert.deepEqual(
      got.map((p) => [`${p.name}.${p.namespace}`, p.action, p.dryRun]),
      [
        ['deny-all-mesh.istio-system', 'DENY', false],
        ['namespace-trial.default', 'DENY', true],
        ['reviews-viewer.default', 'ALLOW', false],
      ],
    );
    assert.match(text(REVIEWS_V1, configOf([inline(yaml)])), /\nApplied AuthorizationPolicy:\n {3}deny-all-mesh\.istio-system \(DENY\), namespace-trial\.default \(DENY, dry run\), reviews-viewer\.default \(ALLOW\)\n/);
  });

  it('says nothing when no policy selects the workload', () => {
    assert.doesNotMatch(text(pod('details-v1-1', { app: 'details', version: 'v1' }), configOf([inline(ap('ratings-only', 'default', '  selector: {matchLabels: {app: ratings}}\n  rules: [{}]'))])), /AuthorizationPolicy/);
  });
});
