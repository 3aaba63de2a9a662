import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { SIDECAR, splitHostPort } from './sidecar.js';

const K = [SIDECAR];
const head = (spec: string, v = 'v1'): string =>
  `apiVersion: networking.istio.io/${v}\nkind: Sidecar\nmetadata: {name: default, namespace: prod-us1}\nspec:\n${spec}`;

describe('Sidecar', () => {
  it('accepts the served versions and the namespace-wide default from the Istio docs', () => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3'])
      expectValid(head('  egress:\n  - hosts: ["./*", "istio-system/*"]\n', v), K);
  });

  it('accepts realistic sidecars from the Istio docs', () => {
    // https://istio.io/latest/docs/reference/config/networking/sidecar/
    expectValid(
      head(`  workloadSelector:
    labels: {app: ratings}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: somename}
    defaultEndpoint: unix:///var/run/someuds.sock
  egress:
  - port: {number: 9080, protocol: HTTP, name: egresshttp}
    hosts: ["prod-us1/*"]
  - hosts: ["istio-system/*"]
`),
      K,
    );
    expectValid(
      head(`  workloadSelector:
    labels: {app: productpage}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: somename}
    defaultEndpoint: 127.0.0.1:8080
    captureMode: NONE
  egress:
  - captureMode: IPTABLES
    hosts: ["*/*"]
`),
      K,
    );
    expectValid(
      head(`  workloadSelector:
    labels: {app: productpage}
  ingress:
  - bind: 172.16.1.32
    port: {number: 80, protocol: HTTP, name: somename}
    defaultEndpoint: 127.0.0.1:8080
    captureMode: NONE
  egress:
  - port: {number: 3306, protocol: MYSQL, name: egressmysql}
    captureMode: NONE
    bind: 127.0.0.1
    hosts: ["*/mysql.foo.com"]
  - port: {number: 0, protocol: HTTP, name: uds}
    bind: unix:///var/run/egress.sock
    hosts: ["~/*"]
`),
      K,
    );
    // ingress TLS termination on the sidecar
    expectValid(
      head(`  workloadSelector:
    labels: {app: ratings}
  ingress:
  - port: {number: 80, protocol: HTTPS, name: somename}
    defaultEndpoint: 127.0.0.1:8080
    tls:
      mode: SIMPLE
      privateKey: /etc/istio/ratings/tls.key
      serverCertificate: /etc/istio/ratings/tls.crt
`),
      K,
    );
    expectValid(head('  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n'), K);
  });

  it('validates a full-featured sidecar with every field', () => {
    const w = expectValid(
      head(`  workloadSelector:
    labels: {app: reviews, version: v2}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http-in}
    bind: 0.0.0.0
    captureMode: IPTABLES
    defaultEndpoint: "[::1]:8080"
    connectionPool:
      tcp:
        maxConnections: 100
        connectTimeout: 30ms
        maxConnectionDuration: 1h
        idleTimeout: 0s
        tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}
      http:
        http1MaxPendingRequests: 10
        http2MaxRequests: 100
        maxRequestsPerConnection: 10
        maxRetries: 3
        idleTimeout: 1m
        h2UpgradePolicy: UPGRADE
        useClientProtocol: false
        maxConcurrentStreams: 100
        http2KeepAlive: {interval: 10s, timeout: 5s}
  - port: {number: 9443, protocol: TLS, name: tls-in}
    defaultEndpoint: 0.0.0.0:8443
    tls:
      mode: MUTUAL
      serverCertificate: /c/cert.pem
      privateKey: /c/key.pem
      caCertificates: /c/ca.pem
      minProtocolVersion: TLSV1_2
  egress:
  - port: {number: 8080, protocol: HTTP, name: egress-http}
    bind: 127.0.0.1
    captureMode: DEFAULT
    hosts: ["./reviews.prod-us1.svc.cluster.local", "istio-system/*.example.com"]
  - hosts: ["./*", "istio-system/*"]
  inboundConnectionPool:
    http: {http1MaxPendingRequests: 1024}
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy:
      host: egress.example.com
      subset: v1
      port: {number: 8080}
`),
      K,
    );
    assert.deepEqual(w, []);
  });

  const egressPort = (port: string, extra = ''): string => `  egress:\n  - port: ${port}\n${extra}    hosts: ["./*"]\n`;
  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'an empty configuration', spec: '  workloadSelector: {labels: {app: a}}\n', path: 'spec', message: 'sidecar: empty configuration provided' },
    { name: 'a host without namespace', spec: '  egress:\n  - hosts: [reviews.default.svc.cluster.local]\n', path: 'spec.egress[0].hosts[0]', message: 'host must be of form namespace/dnsName' },
    { name: 'a bad host namespace', spec: '  egress:\n  - hosts: ["bad_ns/foo.com"]\n', path: 'spec.egress[0].hosts[0]', message: 'invalid namespace value "bad_ns" in sidecar' },
    { name: 'a short egress host', spec: '  egress:\n  - hosts: ["ns/reviews"]\n', path: 'spec.egress[0].hosts[0]', message: 'short names (non FQDN) are not allowed' },
    { name: 'an egress listener without hosts', spec: '  egress:\n  - hosts: []\n', path: 'spec.egress[0].hosts', message: 'sidecar: egress listener must contain at least one host' },
    { name: 'missing egress hosts', spec: '  egress:\n  - port: {number: 80}\n', path: 'spec.egress[0].hosts', message: 'required field is missing' },
    {
      name: 'a catch-all listener that is not last',
      spec: '  egress:\n  - hosts: ["./*"]\n  - port: {number: 80, protocol: HTTP, name: http}\n    hosts: ["./*"]\n',
      path: 'spec.egress[0]',
      message: 'sidecar: the egress listener with empty port should be the last listener in the list',
    },
    {
      // Istio's "egress can have only one listener with empty port" is unreachable: the first of two is not last.
      name: 'two catch-all listeners',
      spec: '  egress:\n  - hosts: ["./*"]\n  - hosts: ["./*"]\n',
      path: 'spec.egress[0]',
      message: 'sidecar: the egress listener with empty port should be the last listener in the list',
    },
    {
      name: 'duplicate egress ports',
      spec: '  egress:\n  - port: {number: 80}\n    hosts: ["./*"]\n  - port: {number: 80}\n    hosts: ["./*"]\n',
      path: 'spec.egress[1].port.number',
      message: 'sidecar: ports on IP bound listeners must be unique',
    },
    {
      name: 'duplicate unix sockets',
      spec: '  egress:\n  - port: {number: 0}\n    bind: unix:///a.sock\n    hosts: ["./*"]\n  - port: {number: 0}\n    bind: unix:///a.sock\n    hosts: ["./*"]\n',
      path: 'spec.egress[1].bind',
      message: 'sidecar: unix domain socket values for listeners must be unique',
    },
    { name: 'port 0 without a unix bind', spec: egressPort('{number: 0}'), path: 'spec.egress[0].bind', message: 'sidecar: ports with 0 value must have a unix domain socket bind address' },
    {
      name: 'unix listener with IPTABLES capture',
      spec: egressPort('{number: 0}', '    bind: unix:///a.sock\n    captureMode: IPTABLES\n'),
      path: 'spec.egress[0].captureMode',
      message: 'sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners',
    },
    { name: 'a relative unix socket', spec: egressPort('{number: 0}', '    bind: unix://a.sock\n'), path: 'spec.egress[0].bind', message: 'a.sock is not an absolute path to a file' },
    { name: 'an egress bind that is not an IP', spec: egressPort('{number: 80}', '    bind: localhost\n'), path: 'spec.egress[0].bind', message: 'localhost is not a valid IP' },
    { name: 'an unknown protocol', spec: egressPort('{number: 80, protocol: SMTP}'), path: 'spec.egress[0].port.protocol', message: 'unsupported protocol: SMTP' },
    { name: 'a bad port name', spec: egressPort('{number: 80, name: Bad_Name}'), path: 'spec.egress[0].port.name', message: 'invalid port name: Bad_Name' },
    { name: 'egress targetPort', spec: egressPort('{number: 80, targetPort: 81}'), path: 'spec.egress[0].port.targetPort', message: 'targetPort has no impact on Sidecars' },
    { name: 'a bad captureMode', spec: egressPort('{number: 80}', '    captureMode: TPROXY\n'), path: 'spec.egress[0].captureMode', message: 'must be one of DEFAULT, IPTABLES, NONE' },
    { name: 'an ingress listener without port', spec: '  ingress:\n  - defaultEndpoint: 127.0.0.1:8080\n', path: 'spec.ingress[0].port', message: 'required field is missing' },
    { name: 'an ingress port out of range', spec: '  ingress:\n  - port: {number: 0, protocol: HTTP}\n', path: 'spec.ingress[0].port.number', message: 'port number 0 must be in the range 1..65535' },
    {
      name: 'duplicate ingress ports',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n  - port: {number: 80, protocol: TCP}\n',
      path: 'spec.ingress[1].port.number',
      message: 'sidecar: ports on IP bound listeners must be unique',
    },
    {
      name: 'a defaultEndpoint on another host',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n    defaultEndpoint: 10.0.0.1:8080\n',
      path: 'spec.ingress[0].defaultEndpoint',
      message: 'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset',
    },
    {
      name: 'a defaultEndpoint without port',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n    defaultEndpoint: 127.0.0.1\n',
      path: 'spec.ingress[0].defaultEndpoint',
      message: 'address 127.0.0.1: missing port in address',
    },
    {
      name: 'a defaultEndpoint with a named port',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n    defaultEndpoint: 127.0.0.1:http\n',
      path: 'spec.ingress[0].defaultEndpoint',
      message: 'sidecar: defaultEndpoint port (http) is not a number: strconv.Atoi: parsing "http": invalid syntax',
    },
    {
      name: 'a defaultEndpoint port out of range',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n    defaultEndpoint: 0.0.0.0:99999\n',
      path: 'spec.ingress[0].defaultEndpoint',
      message: 'port number 99999 must be in the range 1..65535',
    },
    {
      name: 'ingress tls on a plain port',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n    tls: {mode: SIMPLE, serverCertificate: /a, privateKey: /b}\n',
      path: 'spec.ingress[0].tls',
      message: 'server cannot have TLS settings for non HTTPS/TLS ports',
    },
    {
      name: 'ingress tls with credentialName',
      spec: '  ingress:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {mode: SIMPLE, credentialName: secret}\n',
      path: 'spec.ingress[0].tls.credentialName',
      message: 'sidecar: credentialName is not currently supported',
    },
    {
      name: 'ingress tls with ISTIO_MUTUAL',
      spec: '  ingress:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {mode: ISTIO_MUTUAL}\n',
      path: 'spec.ingress[0].tls.mode',
      message: 'configuration is invalid: cannot set mode to ISTIO_MUTUAL in sidecar ingress tls',
    },
    {
      name: 'ingress tls with subjectAltNames',
      spec: '  ingress:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {mode: SIMPLE, serverCertificate: /a, privateKey: /b, subjectAltNames: [a]}\n',
      path: 'spec.ingress[0].tls.subjectAltNames',
      message: 'sidecar: subjectAltNames is not supported in ingress tls',
    },
    {
      name: 'ingress tls SIMPLE without certificates',
      spec: '  ingress:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {mode: SIMPLE}\n',
      path: 'spec.ingress[0].tls',
      message: 'SIMPLE TLS requires a server certificate',
    },
    {
      name: 'an empty connection pool',
      spec: '  inboundConnectionPool: {}\n',
      path: 'spec.inboundConnectionPool',
      message: 'connection pool must have at least one field',
    },
    {
      name: 'a negative max connections',
      spec: '  ingress:\n  - port: {number: 80, protocol: HTTP}\n    connectionPool: {tcp: {maxConnections: -1}}\n',
      path: 'spec.ingress[0].connectionPool.tcp.maxConnections',
      message: 'max connections must be non-negative',
    },
    {
      name: 'a sub-millisecond idle timeout',
      spec: '  inboundConnectionPool: {http: {idleTimeout: 100us}}\n',
      path: 'spec.inboundConnectionPool.http.idleTimeout',
      message: 'duration must be greater than 1ms',
    },
    {
      name: 'a keepalive without interval',
      spec: '  inboundConnectionPool: {http: {http2KeepAlive: {timeout: 1s}}}\n',
      path: 'spec.inboundConnectionPool.http.http2KeepAlive',
      message: 'http2 keepalive interval is required',
    },
    {
      name: 'useClientProtocol with UPGRADE',
      spec: '  inboundConnectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}\n',
      path: 'spec.inboundConnectionPool.http.useClientProtocol',
      message: 'use client protocol must not be true when H2UpgradePolicy is UPGRADE',
    },
    {
      name: 'an egressProxy with REGISTRY_ONLY',
      spec: '  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n    egressProxy: {host: egress.example.com, port: {number: 80}}\n',
      path: 'spec.outboundTrafficPolicy.egressProxy',
      message: 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode',
    },
    {
      name: 'an egressProxy without port',
      spec: '  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy: {host: egress.example.com}\n',
      path: 'spec.outboundTrafficPolicy.egressProxy',
      message: 'sidecar: egress_proxy port must be non-nil',
    },
    {
      name: 'an egressProxy with a wildcard host',
      spec: '  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy: {host: "*", port: {number: 80}}\n',
      path: 'spec.outboundTrafficPolicy.egressProxy.host',
      message: 'invalid destination host *',
    },
    {
      name: 'ALLOW_ANY_DYNAMIC_DNS',
      spec: '  outboundTrafficPolicy: {mode: ALLOW_ANY_DYNAMIC_DNS}\n',
      path: 'spec.outboundTrafficPolicy.mode',
      message: 'sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource',
    },
    {
      name: 'a wildcard selector',
      spec: '  workloadSelector: {labels: {app: "*"}}\n  egress:\n  - hosts: ["./*"]\n',
      path: 'spec.workloadSelector.labels.app',
      message: 'wildcard is not supported in selector: "app=*"',
    },
    {
      name: 'matchLabels in the selector (Sidecar uses labels)',
      spec: '  workloadSelector: {matchLabels: {app: a}}\n  egress:\n  - hosts: ["./*"]\n',
      path: 'spec.workloadSelector.matchLabels',
      message: 'unknown field "matchLabels"',
    },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns on duplicated egress hosts, */* with others, empty selectors and HTTP pools on TCP ports', () => {
    const w = expectValid(
      head(`  workloadSelector: {}
  ingress:
  - port: {number: 3306, protocol: TCP, name: mysql}
    connectionPool: {http: {maxRetries: 1}}
  egress:
  - hosts: ["*/*", "./foo.example.com", "./foo.example.com", "prod-us1/*"]
`),
      K,
    );
    const msgs = w.map((i) => `${i.path}: ${i.message}`);
    assert.deepEqual(msgs.sort(), [
      'spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added',
      'spec.egress[0].hosts[2]: duplicated egress host: ./foo.example.com',
      'spec.egress[0].hosts[3]: duplicated egress host: prod-us1/*',
      'spec.ingress[0].connectionPool.http: sidecar: HTTP connection pool settings are configured for port 3306 ("mysql") but its protocol is not HTTP (TCP); only TCP settings will apply',
      'spec.workloadSelector: sidecar: workload selector specified without labels, will be applied to all services in namespace',
    ]);
  });

  it('reports every problem at once', () => {
    const issues = expectInvalid(
      head('  egress:\n  - hosts: [foo]\n  - port: {number: 70000, protocol: FOO}\n    hosts: ["./*"]\n    bogus: 1\n'),
      K,
      [
        { path: 'spec.egress[1].bogus', message: 'unknown field "bogus"' },
        { path: 'spec.egress[0]', message: 'should be the last listener' },
        { path: 'spec.egress[0].hosts[0]', message: 'host must be of form namespace/dnsName' },
        { path: 'spec.egress[1].port.protocol', message: 'unsupported protocol: FOO' },
        { path: 'spec.egress[1].port.number', message: 'port number 70000 must be in the range 1..65535' },
      ],
    );
    assert.equal(issues.length, 5);
  });

  it("splits host:port as Go's net.SplitHostPort does", () => {
    assert.deepEqual(splitHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: '80' });
    assert.deepEqual(splitHostPort('[::1]:80'), { host: '::1', port: '80' });
    assert.deepEqual(splitHostPort(':80'), { host: '', port: '80' });
    assert.deepEqual(splitHostPort('::1:80'), { error: 'address ::1:80: too many colons in address' });
    assert.deepEqual(splitHostPort('[::1]'), { error: 'address [::1]: missing port in address' });
  });
});
