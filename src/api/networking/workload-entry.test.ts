import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { WORKLOAD_ENTRY, workloadEntryIssues } from './workload-entry.js';

const K = [WORKLOAD_ENTRY];
const head = (spec: string, version = 'v1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: WorkloadEntry\nmetadata: {name: we, namespace: foo}\nspec:\n${spec}`;

describe('WorkloadEntry', () => {
  const valid: { name: string; spec: string }[] = [
    {
      name: 'docs: VM with mTLS identity',
      spec: `  serviceAccount: details-legacy
  address: 2.2.2.2
  labels:
    app: details-legacy
    instance-id: vm1
`,
    },
    { name: 'docs: DNS name address', spec: '  address: vm1.vpc01.corp.net\n  labels: {app: details-legacy}\n  serviceAccount: details-legacy\n' },
    { name: 'IPv6 address with named ports', spec: '  address: "2001:db8::1"\n  ports: {http: 8080, grpc-api: 9090}\n' },
    { name: 'abstract unix socket', spec: '  address: "unix://@envoy-admin"\n' },
  ];
  for (const c of valid) it(`accepts ${c.name}`, () => void expectValid(head(c.spec), K));

  it('accepts the v1alpha3 alias', () => void expectValid(head('  address: 10.0.0.1\n', 'v1alpha3'), K));

  it('validates a full-featured resource', () => {
    const w = expectValid(
      head(`  address: 10.128.0.5
  ports: {http: 8080, https: 8443}
  labels: {app: ratings, version: v1, topology.istio.io/network: vm-net}
  network: vm-net
  locality: us-central1/us-central1-a/rack-3
  weight: 100
  serviceAccount: ratings
`),
      K,
    );
    assert.deepEqual(w, []);
  });

  it('warns when only a network is given (reached through its gateway)', () => {
    const w = expectValid(head('  network: remote-net\n  labels: {app: a}\n'), K);
    assert.deepEqual(w.map((i) => `${i.path}: ${i.message}`), ['spec.address: address is unset with network "remote-net"']);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'no address and no network', spec: '  labels: {app: a}\n', path: 'spec.address', message: 'address is required' },
    { name: 'bad hostname', spec: '  address: "not_a_host"\n', path: 'spec.address', message: 'endpoint address "not_a_host" is not a valid FQDN or an IP address' },
    { name: 'relative unix path', spec: '  address: "unix://var/run/sock"\n', path: 'spec.address', message: 'var/run/sock is not an absolute path to a file' },
    { name: 'empty unix path', spec: '  address: "unix://"\n', path: 'spec.address', message: 'unix address must not be empty' },
    { name: 'unix socket with ports', spec: '  address: "unix:///sock"\n  ports: {http: 80}\n', path: 'spec.ports', message: 'unix endpoint unix:///sock must not include ports' },
    { name: 'port out of range', spec: '  address: 1.1.1.1\n  ports: {http: 0}\n', path: 'spec.ports.http', message: 'port number 0 must be in the range 1..65535' },
    { name: 'invalid port name', spec: '  address: 1.1.1.1\n  ports: {"http_1": 80}\n', path: 'spec.ports.http_1', message: 'invalid port name: http_1' },
    { name: 'invalid label key', spec: '  address: 1.1.1.1\n  labels: {"-app": a}\n', path: 'spec.labels["-app"]', message: 'invalid tag key: "-app"' },
    { name: 'negative weight', spec: '  address: 1.1.1.1\n  weight: -1\n', path: 'spec.weight', message: 'must be >= 0' },
    { name: 'unknown field', spec: '  address: 1.1.1.1\n  port: 80\n', path: 'spec.port', message: 'unknown field "port"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('checks endpoint ports against service ports when used by a ServiceEntry', () => {
    const issues = workloadEntryIssues('spec.endpoints[0]', { address: '1.1.1.1', ports: { http: 80, grpc: 90 } }, {
      servicePorts: new Set(['http']),
      allowFqdnAddresses: false,
    });
    assert.deepEqual(
      issues.map((i) => `${i.path}: ${i.message}`),
      ['spec.endpoints[0].ports.grpc: endpoint port 90 is not defined by the service entry'],
    );
  });
});
