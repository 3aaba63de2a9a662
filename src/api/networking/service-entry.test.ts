import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { loadText } from '../load.js';
import { createKindRegistry } from '../kind.js';
import { validateObject } from '../validate.js';
import { effectiveLocation, effectiveResolution, SERVICE_ENTRY, shouldAutoAllocateIp } from './service-entry.js';

const K = [SERVICE_ENTRY];
const head = (spec: string, meta = '{name: se, namespace: foo}'): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: ${meta}\nspec:\n${spec}`;

const BOOKINFO = fileURLToPath(new URL('../../../../shared/corpus/istio-bookinfo/networking/', import.meta.url));

describe('ServiceEntry', () => {
  it("accepts Bookinfo's egress-rule-google-apis.yaml ServiceEntry", () => {
    const loaded = loadText(readFileSync(BOOKINFO + 'egress-rule-google-apis.yaml', 'utf8'), 'egress-rule-google-apis.yaml');
    assert.equal(loaded.problems.length, 0);
    const registry = createKindRegistry(K);
    let checked = 0;
    for (const d of loaded.documents) {
      if ((d.raw as { kind?: unknown }).kind !== 'ServiceEntry') continue;
      const out = validateObject(d.raw, registry);
      assert.ok(out.ok, JSON.stringify(out.ok ? [] : out.issues));
      assert.deepEqual(out.warnings, []);
      checked++;
    }
    assert.equal(checked, 1);
  });

  const valid: { name: string; spec: string; meta?: string }[] = [
    {
      name: 'docs: external HTTPS APIs with DNS resolution',
      spec: `  hosts:
  - api.dropboxapi.com
  - www.googleapis.com
  ports:
  - number: 443
    name: https
    protocol: TLS
  resolution: DNS
  location: MESH_EXTERNAL
`,
    },
    {
      name: 'docs: MongoDB cluster with static endpoints',
      spec: `  hosts:
  - mymongodb.somedomain
  addresses:
  - 192.192.192.192/24
  ports:
  - number: 27018
    name: mongodb
    protocol: MONGO
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 2.2.2.2
  - address: 3.3.3.3
`,
    },
    {
      name: 'docs: unix domain socket endpoint',
      spec: `  hosts:
  - "example.unix.local"
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: STATIC
  endpoints:
  - address: unix:///var/run/example/socket
`,
    },
    {
      name: 'docs: DNS endpoints with ports and locality',
      spec: `  hosts:
  - foo.bar.com
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  - number: 443
    name: https
    protocol: TLS
  resolution: DNS
  endpoints:
  - address: us.foo.bar.com
    ports:
      http: 8080
    locality: us-east-1/us-east-1a
  - address: uk.foo.bar.com
    ports:
      https: 9443
    weight: 2
`,
    },
    {
      name: 'docs: workload selector for VMs',
      spec: `  hosts:
  - details.bookinfo.com
  location: MESH_INTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
    targetPort: 8080
  resolution: STATIC
  workloadSelector:
    labels:
      app: details-legacy
`,
    },
    {
      name: 'docs: wildcard hosts with resolution NONE and exportTo none',
      spec: `  hosts:
  - "*.bar.com"
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: NONE
  exportTo: ["~"]
  subjectAltNames: ["spiffe://cluster.local/ns/foo/sa/bar"]
`,
    },
    {
      name: 'DYNAMIC_DNS with wildcard host and HTTP/TLS ports',
      spec: `  hosts: ["*.example.com"]
  ports:
  - {number: 80, name: http, protocol: HTTP}
  - {number: 443, name: tls, protocol: TLS}
  resolution: DYNAMIC_DNS
`,
    },
  ];
  for (const c of valid) it(`accepts ${c.name}`, () => void expectValid(head(c.spec, c.meta), K));

  it('validates a full-featured resource', () => {
    const w = expectValid(
      head(
        `  hosts: [db.internal.example.com]
  addresses: [10.10.0.0/16, 240.0.0.1]
  ports:
  - {number: 3306, name: tcp-mysql, protocol: TCP, targetPort: 13306}
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 10.10.1.1
    ports: {tcp-mysql: 3306}
    labels: {app: mysql, version: v1}
    network: vm-net
    locality: us-east1/us-east1-b/rack1
    weight: 10
    serviceAccount: mysql-sa
  - address: 10.10.1.2
  exportTo: [".", bar]
  subjectAltNames: [spiffe://cluster.local/ns/foo/sa/mysql-sa]
`,
        '{name: mysql, namespace: foo, labels: {networking.istio.io/enable-autoallocate-ip: "false"}}',
      ),
      K,
    );
    assert.deepEqual(w, []);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'no hosts', spec: '  ports: [{number: 80, name: http, protocol: HTTP}]\n', path: 'spec.hosts', message: 'service entry must have at least one host' },
    { name: 'full wildcard host', spec: '  hosts: ["*"]\n', path: 'spec.hosts[0]', message: 'invalid host *' },
    { name: 'invalid host', spec: '  hosts: ["foo_bar.com"]\n', path: 'spec.hosts[0]', message: 'domain name "foo_bar.com" invalid (label "foo_bar" invalid)' },
    { name: 'invalid address', spec: '  hosts: [a.com]\n  addresses: [300.1.1.1]\n', path: 'spec.addresses[0]', message: '300.1.1.1 is not a valid IP' },
    {
      name: 'CIDR with DNS resolution',
      spec: '  hosts: [a.com]\n  addresses: [10.0.0.0/8]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}]\n',
      path: 'spec.addresses',
      message: 'CIDR addresses are allowed only for NONE/STATIC resolution types',
    },
    {
      name: 'duplicate port number',
      spec: '  hosts: [a.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 80, name: http2, protocol: HTTP2}\n',
      path: 'spec.ports[1].number',
      message: 'service entry port 80 already defined',
    },
    {
      name: 'duplicate port name',
      spec: '  hosts: [a.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 81, name: http, protocol: HTTP}\n',
      path: 'spec.ports[1].name',
      message: 'service entry port name "http" already defined',
    },
    {
      name: 'unsupported protocol',
      spec: '  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: SPDY}]\n',
      path: 'spec.ports[0].protocol',
      message: 'unsupported protocol: SPDY',
    },
    { name: 'invalid port name', spec: '  hosts: [a.com]\n  ports: [{number: 80, name: "http.web", protocol: HTTP}]\n', path: 'spec.ports[0].name', message: 'invalid port name: http.web' },
    { name: 'port out of range', spec: '  hosts: [a.com]\n  ports: [{number: 0, name: http, protocol: HTTP}]\n', path: 'spec.ports[0].number', message: 'port number 0 must be in the range 1..65535' },
    { name: 'missing port name', spec: '  hosts: [a.com]\n  ports: [{number: 80, protocol: HTTP}]\n', path: 'spec.ports[0].name', message: 'required field is missing' },
    {
      name: 'target port out of range',
      spec: '  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 70000}]\n',
      path: 'spec.ports[0].targetPort',
      message: 'port number 70000 must be in the range 1..65535',
    },
    {
      name: 'endpoints with resolution NONE',
      spec: '  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: 1.1.1.1}]\n',
      path: 'spec.endpoints',
      message: 'no endpoints should be provided for resolution type none',
    },
    {
      name: 'STATIC endpoint that is a hostname',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: b.com}]\n',
      path: 'spec.endpoints[0].address',
      message: 'endpoint address "b.com" is not a valid IP address',
    },
    {
      name: 'STATIC endpoint port not defined by the service',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: 1.1.1.1, ports: {grpc: 9090}}]\n',
      path: 'spec.endpoints[0].ports.grpc',
      message: 'endpoint port 9090 is not defined by the service entry',
    },
    {
      name: 'unix endpoint with ports',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: "unix:///sock", ports: {http: 80}}]\n',
      path: 'spec.endpoints[0].ports',
      message: 'unix endpoint unix:///sock must not include ports',
    },
    {
      name: 'unix endpoint that is a directory',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: "unix:///var/run/"}]\n',
      path: 'spec.endpoints[0].address',
      message: '/var/run/ is not an absolute path to a file',
    },
    {
      name: 'unix endpoint with several service ports',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: http2, protocol: HTTP}]\n  endpoints: [{address: "unix:///sock"}]\n',
      path: 'spec.endpoints[0]',
      message: 'exactly 1 service port required for unix endpoints',
    },
    {
      name: 'DNS endpoint that is neither IP nor FQDN',
      spec: '  hosts: [a.com]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: "b_c.com"}]\n',
      path: 'spec.endpoints[0].address',
      message: 'endpoint address "b_c.com" is not a valid FQDN or an IP address',
    },
    {
      name: 'DNS without endpoints and a wildcard host',
      spec: '  hosts: ["*.a.com"]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}]\n',
      path: 'spec.hosts[0]',
      message: 'hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode DNS, domain name "*.a.com" invalid (label "*" invalid)',
    },
    {
      name: 'DNS_ROUND_ROBIN with two endpoints',
      spec: '  hosts: [a.com]\n  resolution: DNS_ROUND_ROBIN\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: b.com}, {address: c.com}]\n',
      path: 'spec.endpoints',
      message: 'there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN',
    },
    {
      name: 'several hosts with a TCP port',
      spec: '  hosts: [a.com, b.com]\n  addresses: [1.1.1.1]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 3306, name: tcp, protocol: TCP}]\n',
      path: 'spec.ports[1].protocol',
      message: 'multiple hosts provided with non-HTTP, non-TLS ports',
    },
    {
      name: 'workload selector with endpoints',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  workloadSelector: {labels: {app: a}}\n  endpoints: [{address: 1.1.1.1}]\n',
      path: 'spec',
      message: 'only one of WorkloadSelector or Endpoints is allowed in Service Entry',
    },
    {
      name: 'wildcard in the workload selector',
      spec: '  hosts: [a.com]\n  resolution: STATIC\n  workloadSelector: {labels: {app: "a*"}}\n',
      path: 'spec.workloadSelector.labels.app',
      message: 'wildcard is not supported in selector: "app=a*"',
    },
    {
      name: 'DYNAMIC_DNS with a plain host',
      spec: '  hosts: [a.com]\n  resolution: DYNAMIC_DNS\n  ports: [{number: 80, name: http, protocol: HTTP}]\n',
      path: 'spec.hosts[0]',
      message: 'host must be wildcarded for resolution mode DYNAMIC_DNS',
    },
    {
      name: 'DYNAMIC_DNS with a TCP port',
      spec: '  hosts: ["*.a.com"]\n  resolution: DYNAMIC_DNS\n  ports: [{number: 3306, name: tcp, protocol: TCP}]\n',
      path: 'spec.ports[0].protocol',
      message: 'only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type DYNAMIC_DNS',
    },
    {
      name: 'exportTo none and someone',
      spec: '  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  exportTo: ["~", bar]\n',
      path: 'spec.exportTo',
      message: 'cannot export service entry to no one (~) and someone',
    },
    { name: 'unknown resolution', spec: '  hosts: [a.com]\n  resolution: DNS_ONLY\n', path: 'spec.resolution', message: 'must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS' },
    { name: 'matchLabels in the Sidecar-style selector', spec: '  hosts: [a.com]\n  workloadSelector: {matchLabels: {app: a}}\n', path: 'spec.workloadSelector.matchLabels', message: 'unknown field "matchLabels"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns as Istio does', () => {
    const w = expectValid(
      head(
        '  hosts: ["*foo.a.com"]\n  resolution: NONE\n  ports: [{number: 3306, name: tcp}]\n  workloadSelector: {}\n',
        '{name: se, namespace: foo}',
      ),
      K,
    );
    assert.deepEqual(
      w.map((i) => `${i.path}: ${i.message}`),
      [
        'spec.workloadSelector: service entry: workload selector specified without labels, will be applied to all services in namespace',
        'spec.hosts[0]: partial wildcard "*foo.a.com" not allowed',
        'spec.ports[0]: addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled',
        'spec.workloadSelector: workloadSelector should not be set when resolution mode is NONE',
      ],
    );
  });

  it('warns about unset addresses only when automatic allocation is off', () => {
    const spec = '  hosts: [a.com]\n  resolution: DNS\n  ports: [{number: 3306, name: tcp, protocol: TCP}]\n';
    assert.deepEqual(expectValid(head(spec), K), []);
    const off = expectValid(head(spec, '{name: se, labels: {networking.istio.io/enable-autoallocate-ip: "False"}}'), K);
    assert.equal(off.length, 1);
  });

  it('applies defaults: MESH_EXTERNAL, NONE, auto-allocation', () => {
    assert.equal(effectiveLocation({}), 'MESH_EXTERNAL');
    assert.equal(effectiveResolution({}), 'NONE');
    assert.equal(effectiveResolution({ resolution: 'DNS' }), 'DNS');
    assert.equal(shouldAutoAllocateIp({ metadata: { name: 'a' }, spec: { resolution: 'DNS' } }), true);
    assert.equal(shouldAutoAllocateIp({ metadata: { name: 'a' }, spec: {} }), false);
    assert.equal(shouldAutoAllocateIp({ metadata: { name: 'a' }, spec: { resolution: 'DNS', addresses: ['1.1.1.1'] } }), false);
  });
});
