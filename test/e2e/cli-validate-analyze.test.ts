// `isthmus validate` and `isthmus analyze` as a new user runs them (README), in real child processes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runIsthmus } from '../support/cli.js';

const BAD_VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 70
    - destination: {host: reviews, subset: v2}
      weight: 20
    timeout: 1.5ms
    retries: {attempts: 3, retryOn: "5xx,sometimes"}
  tcpx: []
`;

const BAD_SERVICE = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80}]
  loadBalancerSourceRanges: ["59.100.192.6"]
`;

describe('isthmus validate', () => {
  it('accepts the bundled examples and Istio’s own Bookinfo samples', async () => {
    const ex = await runIsthmus(['validate', '-f', 'examples']);
    assert.equal(ex.code, 0, ex.stdout + ex.stderr);
    assert.match(ex.stderr, /validation succeed: \d+ valid, 0 invalid/);
    const corpus = await runIsthmus(['validate', '-f', '../shared/corpus/istio-bookinfo']);
    assert.equal(corpus.code, 0, corpus.stdout + corpus.stderr);
    assert.match(corpus.stderr, /validation succeed: 58 valid, 0 invalid \(23 files\)/);
  });

  it('prints every problem as file:line kind namespace/name field: message and exits 1', async () => {
    const r = await runIsthmus(['validate', '-f', '-'], { input: BAD_VS + '---\n' + BAD_SERVICE });
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('-:12 VirtualService default/reviews spec.http[0].timeout: only durations to ms precision are supported'), r.stdout);
    assert.ok(lines.includes('-:13 VirtualService default/reviews spec.http[0].retries.retryOn: "sometimes" is not a valid retryOn policy'), r.stdout);
    assert.ok(lines.includes('-:14 VirtualService default/reviews spec.tcpx: unknown field "tcpx"'), r.stdout);
    assert.ok(
      lines.includes(
        '-:23 Service shop/web spec.loadBalancerSourceRanges[0]: Invalid value: "59.100.192.6": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64) (did you mean "59.100.192.6/32"?)',
      ),
      r.stdout,
    );
    assert.match(r.stderr, /validation failed: 0 valid, 2 invalid \(1 file\)/);
  });

  it('gives the same findings as JSON with -o json', async () => {
    const r = await runIsthmus(['validate', '-o', 'json', '-f', '-'], { input: BAD_SERVICE });
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { valid: number; invalid: number; issues: { file: string; line: number; kind: string; namespace: string; name: string; field: string; message: string }[] };
    assert.equal(out.invalid, 1);
    assert.deepEqual(
      out.issues.map((i) => [i.line, i.kind, i.namespace, i.name, i.field]),
      [[8, 'Service', 'shop', 'web', 'spec.loadBalancerSourceRanges[0]']],
    );
  });

  it('reports unknown kinds and unserved versions', async () => {
    const r = await runIsthmus(['validate', '-f', '-'], {
      input: 'apiVersion: networking.istio.io/v2\nkind: VirtualService\nmetadata: {name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: b}\n',
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /-:1 VirtualService default\/a apiVersion: version "v2" of VirtualService is not served; use one of networking.istio.io\/v1, networking.istio.io\/v1beta1, networking.istio.io\/v1alpha3/);
    assert.match(r.stdout, /-:6 Widget b kind: unknown kind "Widget" in apiVersion "example.com\/v1"/);
  });

  it('fails clearly on a path that does not exist', async () => {
    const r = await runIsthmus(['validate', '-f', 'no/such/dir']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: cannot read no/such/dir: no such file or directory\n');
  });
});

describe('isthmus analyze', () => {
  const broken = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews-bogus}
`;

  it('finds nothing in the examples and says so', async () => {
    const r = await runIsthmus(['analyze', 'examples']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /✔ No validation issues found when analyzing examples\./);
  });

  it('prints Istio’s message for a missing host and exits 79', async () => {
    const r = await runIsthmus(['analyze', '-'], { input: broken });
    assert.equal(r.code, 79);
    assert.equal(r.stdout, 'Error [IST0101] (VirtualService default/reviews -:8) Referenced host not found: "reviews-bogus"\n');
  });

  it('prints istioctl’s JSON fields with -o json', async () => {
    const r = await runIsthmus(['analyze', '-o', 'json', '-'], { input: broken });
    assert.equal(r.code, 79);
    assert.deepEqual(JSON.parse(r.stdout), [
      {
        code: 'IST0101',
        level: 'Error',
        origin: 'VirtualService default/reviews',
        reference: '-:8',
        message: 'Referenced host not found: "reviews-bogus"',
        documentationUrl: 'https://istio.io/latest/docs/reference/config/analysis/ist0101/',
      },
    ]);
  });

  it('honours --suppress and --failure-threshold', async () => {
    const suppressed = await runIsthmus(['analyze', '-S', 'IST0101=VirtualService default/*', '-'], { input: broken });
    assert.equal(suppressed.code, 0);
    assert.equal(suppressed.stdout, '');
    const warningsOnly = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api}
spec:
  host: api.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: TLS}]
  resolution: DNS
`;
    const relaxed = await runIsthmus(['analyze', '-'], { input: warningsOnly });
    assert.equal(relaxed.code, 0, relaxed.stdout + relaxed.stderr);
    assert.match(relaxed.stdout, /^Warning \[IST0128\] \(DestinationRule default\/api -:\d+\) DestinationRule default\/api in namespace default has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: api.example.com$/m);
    const strict = await runIsthmus(['analyze', '--failure-threshold', 'Warning', '-'], { input: warningsOnly });
    assert.equal(strict.code, 79);
    const quiet = await runIsthmus(['analyze', '--output-threshold', 'Error', '-'], { input: warningsOnly });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stdout, '');
    const badLevel = await runIsthmus(['analyze', '--failure-threshold', 'Fatal', '-'], { input: warningsOnly });
    assert.equal(badLevel.code, 64);
    assert.match(badLevel.stderr, /invalid --failure-threshold "Fatal": must be one of Info, Warning, Error/);
  });

  it('turns schema errors into IST0106 and unparsable files into exit 65', async () => {
    const schema = await runIsthmus(['analyze', '-'], { input: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  servers: []\n' });
    assert.equal(schema.code, 79);
    assert.match(schema.stdout, /^Error \[IST0106\] \(Gateway default\/g -:\d+\) Schema validation error: /m);
    const unparsable = await runIsthmus(['analyze', '-'], { input: 'kind: [oops\n' });
    assert.equal(unparsable.code, 65);
    assert.match(unparsable.stderr, /failed to parse -:\d+: yaml:/);
  });
});

describe('the command line', () => {
  it('has --help on every command and exits 64 on misuse', async () => {
    for (const cmd of [[], ['validate'], ['analyze'], ['watch']]) {
      const r = await runIsthmus([...cmd, '--help']);
      assert.equal(r.code, 0, `${cmd.join(' ')} --help`);
      assert.match(r.stdout, /^Usage: isthmus/);
    }
    const unknown = await runIsthmus(['analyse', 'x']);
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /unknown command 'analyse'/);
    const badFormat = await runIsthmus(['validate', '-o', 'xml', '-f', 'examples']);
    assert.equal(badFormat.code, 64);
    assert.match(badFormat.stderr, /invalid output format "xml"/);
  });
});
