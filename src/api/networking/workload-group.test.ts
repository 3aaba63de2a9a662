import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { WORKLOAD_GROUP } from './workload-group.js';

const K = [WORKLOAD_GROUP];
const head = (spec: string, version = 'v1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: WorkloadGroup\nmetadata: {name: wg, namespace: foo}\nspec:\n${spec}`;

describe('WorkloadGroup', () => {
  const valid: { name: string; spec: string }[] = [
    {
      name: 'docs: reviews with an HTTP probe',
      spec: `  metadata:
    labels:
      app.kubernetes.io/name: reviews
      app.kubernetes.io/version: "1.3.4"
  template:
    ports:
      grpc: 3550
      http: 8080
    serviceAccount: default
  probe:
    initialDelaySeconds: 5
    timeoutSeconds: 3
    periodSeconds: 4
    successThreshold: 3
    failureThreshold: 3
    httpGet:
      path: /foo/bar
      host: 127.0.0.1
      port: 3100
      scheme: HTTPS
      httpHeaders:
      - name: Lit-Header
        value: Im-The-Best
`,
    },
    {
      name: 'docs: VM onboarding group with a network',
      spec: `  metadata:
    labels:
      app: python-http
  template:
    serviceAccount: python-http
    network: vm-network
`,
    },
    { name: 'TCP socket probe', spec: '  template: {serviceAccount: db}\n  probe: {tcpSocket: {port: 3306}}\n' },
    { name: 'exec probe', spec: '  template: {}\n  probe: {exec: {command: [./healthcheck, --quick]}}\n' },
  ];
  for (const c of valid) it(`accepts ${c.name}`, () => void expectValid(head(c.spec), K));

  it('accepts the v1beta1 alias', () => void expectValid(head('  template: {}\n', 'v1beta1'), K));

  it('validates a full-featured resource', () => {
    const w = expectValid(
      head(`  metadata:
    labels: {app: ratings, version: v2}
    annotations: {sidecar.istio.io/logLevel: debug, "example.com/anything": "any value at all"}
  template:
    ports: {http: 9080}
    labels: {tier: backend}
    network: vm-net
    locality: us-west1/us-west1-b
    weight: 5
    serviceAccount: ratings
  probe:
    initialDelaySeconds: 1
    timeoutSeconds: 1
    periodSeconds: 10
    successThreshold: 1
    failureThreshold: 3
    httpGet: {path: /health, port: 9080, scheme: HTTP, httpHeaders: [{name: X-Probe, value: "1"}]}
`),
      K,
    );
    assert.deepEqual(w, []);
  });

  it('warns about an address in the template (it is filled in per workload)', () => {
    const w = expectValid(head('  template: {address: 10.0.0.1}\n'), K);
    assert.deepEqual(w.map((i) => i.path), ['spec.template.address']);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'missing template', spec: '  metadata: {labels: {app: a}}\n', path: 'spec.template', message: 'required field is missing' },
    { name: 'bad metadata label', spec: '  metadata: {labels: {"a b": c}}\n  template: {}\n', path: 'spec.metadata.labels["a b"]', message: 'invalid labels: invalid tag key: "a b"' },
    { name: 'probe without a method', spec: '  template: {}\n  probe: {periodSeconds: 5}\n', path: 'spec.probe', message: 'unknown health check method <nil>' },
    {
      name: 'two probe methods',
      spec: '  template: {}\n  probe: {tcpSocket: {port: 80}, exec: {command: [x]}}\n',
      path: 'spec.probe',
      message: 'only one of httpGet, tcpSocket, exec, grpc may be set (got tcpSocket and exec)',
    },
    { name: 'gRPC probe (no webhook support)', spec: '  template: {}\n  probe: {grpc: {port: 50051}}\n', path: 'spec.probe.grpc', message: 'unknown health check method *v1alpha3.ReadinessProbe_Grpc' },
    { name: 'negative period', spec: '  template: {}\n  probe: {periodSeconds: -1, tcpSocket: {port: 80}}\n', path: 'spec.probe.periodSeconds', message: 'periodSeconds must be non-negative' },
    { name: 'negative failure threshold', spec: '  template: {}\n  probe: {failureThreshold: -3, tcpSocket: {port: 80}}\n', path: 'spec.probe.failureThreshold', message: 'failureThreshold must be non-negative' },
    { name: 'http probe port 0', spec: '  template: {}\n  probe: {httpGet: {port: 0}}\n', path: 'spec.probe.httpGet.port', message: 'port number 0 must be in the range 1..65535' },
    { name: 'http probe without port', spec: '  template: {}\n  probe: {httpGet: {path: /}}\n', path: 'spec.probe.httpGet.port', message: 'required field is missing' },
    { name: 'http probe scheme', spec: '  template: {}\n  probe: {httpGet: {port: 80, scheme: FTP}}\n', path: 'spec.probe.httpGet.scheme', message: 'httpGet.scheme must be one of "HTTPS", "HTTP"' },
    {
      name: 'http probe header name',
      spec: '  template: {}\n  probe: {httpGet: {port: 80, httpHeaders: [{name: "x_y", value: v}]}}\n',
      path: 'spec.probe.httpGet.httpHeaders[0].name',
      message: 'header name x_y is not a valid header name',
    },
    { name: 'tcp probe port', spec: '  template: {}\n  probe: {tcpSocket: {port: 65536}}\n', path: 'spec.probe.tcpSocket.port', message: 'port number 65536 must be in the range 1..65535' },
    { name: 'empty exec command', spec: '  template: {}\n  probe: {exec: {command: []}}\n', path: 'spec.probe.exec.command', message: 'exec.command is required' },
    { name: 'template port out of range', spec: '  template: {ports: {http: 0}}\n', path: 'spec.template.ports.http', message: 'port number 0 must be in the range 1..65535' },
    { name: 'unknown template field', spec: '  template: {adress: 1.1.1.1}\n', path: 'spec.template.adress', message: 'unknown field "adress"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });
});
