import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { isHeadlessService, SERVICE, servicePortProtocol, servicePortTargetPort, serviceType } from './service.js';

const K = [SERVICE];
const svc = (spec: string, meta = '{name: reviews, namespace: default}'): string => `apiVersion: v1\nkind: Service\nmetadata: ${meta}\nspec:\n${spec}`;

describe('Service', () => {
  const valid: { name: string; spec: string }[] = [
    { name: 'bookinfo reviews', spec: '  ports:\n  - port: 9080\n    name: http\n  selector:\n    app: reviews\n' },
    { name: 'named targetPort and appProtocol', spec: '  ports:\n  - {name: grpc, port: 80, targetPort: grpc-web, appProtocol: kubernetes.io/h2c}\n  selector: {app: a}\n' },
    { name: 'headless without ports', spec: '  clusterIP: None\n  selector: {app: db}\n' },
    { name: 'ExternalName with trailing dot', spec: '  type: ExternalName\n  externalName: httpbin.org.\n' },
    {
      name: 'dual-stack ClusterIP',
      spec: '  clusterIP: 10.96.0.10\n  clusterIPs: [10.96.0.10, "fd00::a"]\n  ipFamilies: [IPv4, IPv6]\n  ipFamilyPolicy: RequireDualStack\n  ports: [{port: 53, protocol: UDP, name: dns}, {port: 53, protocol: TCP, name: dns-tcp}]\n',
    },
    {
      name: 'istio ingress gateway LoadBalancer (full-featured)',
      spec: [
        '  type: LoadBalancer',
        '  selector: {istio: ingressgateway, app: istio-ingressgateway}',
        '  ports:',
        '  - {name: status-port, port: 15021, protocol: TCP, targetPort: 15021}',
        '  - {name: http2, port: 80, protocol: TCP, targetPort: 8080, nodePort: 31380}',
        '  - {name: https, port: 443, protocol: TCP, targetPort: 8443, nodePort: 31390}',
        '  externalTrafficPolicy: Local',
        '  healthCheckNodePort: 32000',
        '  loadBalancerSourceRanges: [59.100.192.6/32, "2001:db8::/64", " 10.0.0.0/8 "]',
        '  allocateLoadBalancerNodePorts: true',
        '  loadBalancerClass: example.com/internal-vip',
        '  sessionAffinity: ClientIP',
        '  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}',
        '  internalTrafficPolicy: Cluster',
        '  trafficDistribution: PreferClose',
        '  publishNotReadyAddresses: false',
        '  externalIPs: [203.0.113.10]',
        '  loadBalancerIP: 203.0.113.20',
        'status:',
        '  loadBalancer:',
        '    ingress: [{ip: 203.0.113.20, ipMode: VIP}]',
        '',
      ].join('\n'),
    },
  ];
  for (const c of valid) it(`accepts ${c.name}`, () => void expectValid(svc(c.spec), K));

  const invalid: { name: string; spec: string; path: string; message: string; meta?: string }[] = [
    {
      name: 'a bare IP in loadBalancerSourceRanges (suggests /32)',
      spec: '  type: LoadBalancer\n  ports: [{port: 80}]\n  loadBalancerSourceRanges: [59.100.192.6]\n',
      path: 'spec.loadBalancerSourceRanges[0]',
      message:
        'Invalid value: "59.100.192.6": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64) (did you mean "59.100.192.6/32"?)',
    },
    {
      name: 'a bare IPv6 in loadBalancerSourceRanges (suggests /128)',
      spec: '  type: LoadBalancer\n  ports: [{port: 80}]\n  loadBalancerSourceRanges: ["2001:db8::1"]\n',
      path: 'spec.loadBalancerSourceRanges[0]',
      message: 'Invalid value: "2001:db8::1": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64) (did you mean "2001:db8::1/128"?)',
    },
    {
      name: 'garbage in loadBalancerSourceRanges (no suggestion)',
      spec: '  type: LoadBalancer\n  ports: [{port: 80}]\n  loadBalancerSourceRanges: [office]\n',
      path: 'spec.loadBalancerSourceRanges[0]',
      message: /^Invalid value: "office": must be a valid CIDR value, \(e\.g\. 10\.9\.8\.0\/24 or 2001:db8::\/64\)$/.source,
    },
    {
      name: 'source ranges on a ClusterIP service',
      spec: '  ports: [{port: 80}]\n  loadBalancerSourceRanges: [10.0.0.0/8]\n',
      path: 'spec.loadBalancerSourceRanges',
      message: "Forbidden: may only be used when `type` is 'LoadBalancer'",
    },
    { name: 'no ports', spec: '  selector: {app: a}\n', path: 'spec.ports', message: 'Required value' },
    { name: 'port out of range', spec: '  ports: [{port: 70000}]\n', path: 'spec.ports[0].port', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' },
    { name: 'unnamed port among several', spec: '  ports: [{port: 80, name: http}, {port: 81}]\n', path: 'spec.ports[1].name', message: 'Required value' },
    { name: 'duplicate port names', spec: '  ports: [{port: 80, name: http}, {port: 81, name: http}]\n', path: 'spec.ports[1].name', message: 'Duplicate value: "http"' },
    {
      name: 'port name not a DNS label',
      spec: '  ports: [{port: 80, name: HTTP}]\n',
      path: 'spec.ports[0].name',
      message: 'Invalid value: "HTTP": a lowercase RFC 1123 label must consist of',
    },
    {
      name: 'unsupported protocol',
      spec: '  ports: [{port: 80, protocol: HTTP}]\n',
      path: 'spec.ports[0].protocol',
      message: 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    },
    {
      name: 'bad named targetPort',
      spec: '  ports: [{port: 80, targetPort: "8080"}]\n',
      path: 'spec.ports[0].targetPort',
      message: 'Invalid value: "8080": must contain at least one letter (a-z)',
    },
    {
      name: 'duplicate port/protocol',
      spec: '  ports: [{port: 80, name: a}, {port: 80, name: b}]\n',
      path: 'spec.ports[1]',
      message: 'Duplicate value: "80/TCP"',
    },
    {
      name: 'unsupported type',
      spec: '  type: Internal\n  ports: [{port: 80}]\n',
      path: 'spec.type',
      message: 'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    },
    { name: 'ExternalName without a name', spec: '  type: ExternalName\n', path: 'spec.externalName', message: 'Required value' },
    {
      name: 'ExternalName with a clusterIP',
      spec: '  type: ExternalName\n  externalName: example.com\n  clusterIP: 10.0.0.1\n',
      path: 'spec.clusterIP',
      message: 'Forbidden: may not be set for ExternalName services',
    },
    {
      name: 'headless NodePort',
      spec: '  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n',
      path: 'spec.clusterIP',
      message: `Invalid value: "None": may not be set to 'None' for NodePort services`,
    },
    {
      name: 'invalid clusterIP',
      spec: '  clusterIP: 10.0.0.300\n  ports: [{port: 80}]\n',
      path: 'spec.clusterIP',
      message: 'Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    },
    {
      name: 'two IPv4 cluster IPs',
      spec: '  clusterIPs: [10.0.0.1, 10.0.0.2]\n  ports: [{port: 80}]\n',
      path: 'spec.clusterIPs',
      message: 'Invalid value: []string{"10.0.0.1", "10.0.0.2"}: may specify no more than one IP for each IP family',
    },
    {
      name: 'nodePort on ClusterIP',
      spec: '  ports: [{port: 80, nodePort: 30080}]\n',
      path: 'spec.ports[0].nodePort',
      message: "Forbidden: may not be used when `type` is 'ClusterIP'",
    },
    {
      name: 'selector value not a label value',
      spec: '  ports: [{port: 80}]\n  selector: {app: "not valid!"}\n',
      path: 'spec.selector.app',
      message: 'Invalid value: "not valid!": a valid label must be an empty string or consist of',
    },
    {
      name: 'loopback external IP',
      spec: '  ports: [{port: 80}]\n  externalIPs: [127.0.0.1]\n',
      path: 'spec.externalIPs[0]',
      message: 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    },
    {
      name: 'externalTrafficPolicy on an internal service',
      spec: '  ports: [{port: 80}]\n  externalTrafficPolicy: Local\n',
      path: 'spec.externalTrafficPolicy',
      message: 'Invalid value: "Local": may only be set for externally-accessible services',
    },
    {
      name: 'session affinity config with None',
      spec: '  ports: [{port: 80}]\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 10}}\n',
      path: 'spec.sessionAffinityConfig',
      message: 'Forbidden: must not be set when session affinity is None',
    },
    {
      name: 'source-ranges annotation with a bare IP',
      meta: '{name: lb, annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: "10.0.0.0/8, 192.168.1.1"}}',
      spec: '  type: LoadBalancer\n  ports: [{port: 80}]\n',
      path: 'metadata.annotations["service.beta.kubernetes.io/load-balancer-source-ranges"]',
      message: '(did you mean "192.168.1.1/32"?)',
    },
    { name: 'unknown field', spec: '  ports: [{port: 80, targetport: 8080}]\n', path: 'spec.ports[0].targetport', message: 'unknown field "targetport"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      const message = c.message.startsWith('^') ? new RegExp(c.message) : c.message;
      expectInvalid(svc(c.spec, c.meta), K, [{ path: c.path, message }]);
    });

  it('rejects a name that is not a DNS-1035 label', () => {
    expectInvalid(svc('  ports: [{port: 80}]\n', '{name: 1reviews}'), K, [{ path: 'metadata.name', message: 'a DNS-1035 label must consist of' }]);
  });

  it('warns (as Kubernetes does) on a source range with host bits set', () => {
    const w = expectValid(svc('  type: LoadBalancer\n  ports: [{port: 80}]\n  loadBalancerSourceRanges: [10.1.2.3/8]\n'), K);
    assert.deepEqual(
      w.map((i) => i.message),
      ['CIDR value "10.1.2.3/8" is ambiguous in this context (should be "10.0.0.0/8" or "10.1.2.3/32"?)'],
    );
  });

  it('defaults targetPort to port, protocol to TCP and type to ClusterIP', () => {
    assert.equal(servicePortTargetPort({ port: 9080 }), 9080);
    assert.equal(servicePortTargetPort({ port: 80, targetPort: 'http' }), 'http');
    assert.equal(servicePortTargetPort({ port: 80, targetPort: 8080 }), 8080);
    assert.equal(servicePortProtocol({ port: 80 }), 'TCP');
    assert.equal(servicePortProtocol({ port: 53, protocol: 'UDP' }), 'UDP');
    assert.equal(serviceType({ spec: {} }), 'ClusterIP');
    assert.equal(isHeadlessService({ spec: { clusterIP: 'None' } }), true);
    assert.equal(isHeadlessService({ spec: { clusterIP: '10.0.0.1' } }), false);
  });
});
