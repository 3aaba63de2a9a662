import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { effectiveAllowedRoutesFrom, effectiveListenerTlsMode, K8S_GATEWAY, type K8sGateway } from './gateway.js';

const K = [K8S_GATEWAY];
const doc = (spec: string, version = 'v1'): string =>
  `apiVersion: gateway.networking.k8s.io/${version}\nkind: Gateway\nmetadata: {name: gateway, namespace: istio-ingress}\nspec:\n${spec}`;
const HTTP = '  gatewayClassName: istio\n  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n';

const FULL = `  gatewayClassName: istio
  addresses:
  - {type: IPAddress, value: 10.0.0.10}
  - {type: Hostname, value: ingress.example.com}
  infrastructure:
    labels: {team: edge}
    annotations: {networking.istio.io/service-type: ClusterIP}
    parametersRef: {group: "", kind: ConfigMap, name: gw-options}
  listeners:
  - name: http
    hostname: "*.example.com"
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces: {from: All}
  - name: https
    hostname: bookinfo.example.com
    port: 443
    protocol: HTTPS
    tls:
      mode: Terminate
      certificateRefs:
      - {kind: Secret, group: "", name: bookinfo-cert}
      options: {example.com/tls-min-version: "1.2"}
    allowedRoutes:
      kinds: [{kind: HTTPRoute}, {group: gateway.networking.k8s.io, kind: GRPCRoute}]
      namespaces:
        from: Selector
        selector:
          matchLabels: {shared-gateway-access: "true"}
          matchExpressions: [{key: env, operator: In, values: [prod]}]
  - name: tls-passthrough
    hostname: nginx.example.com
    port: 443
    protocol: TLS
    tls: {mode: Passthrough}
  - {name: tcp, port: 31400, protocol: TCP}
  - {name: mesh, port: 15008, protocol: HBONE}
  allowedListeners:
    namespaces: {from: Same}
  tls:
    backend:
      clientCertificateRef: {name: client-cert}
    frontend:
      default:
        validation:
          caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]
      perPort:
      - port: 443
        tls:
          validation:
            mode: AllowInsecureFallback
            caCertificateRefs: [{group: "", kind: ConfigMap, name: ca2}]
`;

describe('Gateway (gateway.networking.k8s.io)', () => {
  it("accepts Istio's ingress example and the v1beta1 alias", () => {
    expectValid(doc(HTTP), K);
    expectValid(doc(HTTP, 'v1beta1'), K);
  });

  it('accepts a full-featured Gateway and resolves defaults', () => {
    expectValid(doc(FULL), K);
    const out = validateYaml(doc(FULL), K);
    assert.ok(out.ok);
    const gw = out.resource as K8sGateway;
    const [http, https] = gw.spec.listeners;
    assert.ok(http !== undefined && https !== undefined);
    assert.equal(effectiveListenerTlsMode(http), undefined);
    assert.equal(effectiveListenerTlsMode(https), 'Terminate');
    assert.equal(effectiveAllowedRoutesFrom(http), 'All');
  });

  it('accepts an Istio waypoint Gateway', () => {
    expectValid(doc('  gatewayClassName: istio-waypoint\n  listeners:\n  - {name: mesh, port: 15008, protocol: HBONE}\n'), K);
  });

  it('warns when an HTTPS listener has no tls and when a Selector has no selector', () => {
    const w = expectValid(
      doc('  gatewayClassName: istio\n  listeners:\n  - name: https\n    port: 443\n    protocol: HTTPS\n    allowedRoutes: {namespaces: {from: Selector}}\n'),
      K,
    );
    assert.deepEqual(
      w.map((i) => i.path),
      ['spec.listeners[0]', 'spec.listeners[0].allowedRoutes.namespaces.selector'],
    );
  });

  const L = (listeners: string): string => `  gatewayClassName: istio\n  listeners:\n${listeners}`;
  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'missing listeners', spec: '  gatewayClassName: istio\n', path: 'spec.listeners', message: 'required field is missing' },
    { name: 'missing gatewayClassName', spec: '  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n', path: 'spec.gatewayClassName', message: 'required field is missing' },
    { name: 'tls on an HTTP listener', spec: L('  - {name: http, port: 80, protocol: HTTP, tls: {certificateRefs: [{name: c}]}}\n'), path: 'spec.listeners[0].tls', message: "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']" },
    { name: 'Passthrough on HTTPS', spec: L('  - {name: https, port: 443, protocol: HTTPS, tls: {mode: Passthrough}}\n'), path: 'spec.listeners[0].tls.mode', message: 'tls mode must be Terminate for protocol HTTPS' },
    { name: 'TLS listener without tls', spec: L('  - {name: tls, port: 443, protocol: TLS, hostname: a.com}\n'), path: 'spec.listeners[0]', message: 'tls mode must be set for protocol TLS' },
    { name: 'hostname on a TCP listener', spec: L('  - {name: tcp, port: 9000, protocol: TCP, hostname: a.com}\n'), path: 'spec.listeners[0].hostname', message: "hostname must not be specified for protocols ['TCP', 'UDP']" },
    { name: 'duplicate listener names', spec: L('  - {name: http, port: 80, protocol: HTTP}\n  - {name: http, port: 8080, protocol: HTTP}\n'), path: 'spec.listeners[1].name', message: 'Listener name must be unique within the Gateway' },
    { name: 'duplicate port/protocol/hostname', spec: L('  - {name: a, port: 80, protocol: HTTP, hostname: a.com}\n  - {name: b, port: 80, protocol: HTTP, hostname: a.com}\n'), path: 'spec.listeners[1]', message: 'Combination of port, protocol and hostname must be unique for each listener' },
    { name: 'Terminate without certificateRefs', spec: L('  - {name: https, port: 443, protocol: HTTPS, tls: {mode: Terminate}}\n'), path: 'spec.listeners[0].tls', message: 'certificateRefs or options must be specified when mode is Terminate' },
    { name: 'port 0', spec: L('  - {name: http, port: 0, protocol: HTTP}\n'), path: 'spec.listeners[0].port', message: 'must be >= 1' },
    { name: 'more than 64 listeners', spec: L(Array.from({ length: 65 }, (_, i) => `  - {name: l${i}, port: ${1000 + i}, protocol: HTTP}\n`).join('')), path: 'spec.listeners', message: 'must have at most 64 entries' },
    { name: 'uppercase hostname', spec: L('  - {name: http, port: 80, protocol: HTTP, hostname: Foo.com}\n'), path: 'spec.listeners[0].hostname', message: 'should match' },
    { name: 'bad protocol', spec: L('  - {name: http, port: 80, protocol: "HTTP/2"}\n'), path: 'spec.listeners[0].protocol', message: 'should match' },
    { name: 'unknown tls mode', spec: L('  - {name: t, port: 443, protocol: TLS, tls: {mode: Mutual}}\n'), path: 'spec.listeners[0].tls.mode', message: 'must be one of Terminate, Passthrough' },
    { name: 'a non-IP IPAddress', spec: '  addresses: [{value: not-an-ip}]\n' + HTTP, path: 'spec.addresses[0].value', message: 'must be of type ipv4 or ipv6' },
    { name: 'duplicate IP addresses', spec: '  addresses: [{value: 10.0.0.1}, {type: IPAddress, value: 10.0.0.1}]\n' + HTTP, path: 'spec.addresses', message: 'IPAddress values must be unique' },
    { name: 'a bad Hostname address', spec: '  addresses: [{type: Hostname, value: "Foo_Bar"}]\n' + HTTP, path: 'spec.addresses[0]', message: 'Hostname value must be empty or contain only valid characters' },
    { name: 'a bad infrastructure label key', spec: HTTP + '  infrastructure:\n    labels: {"-bad": x}\n', path: 'spec.infrastructure.labels', message: 'Label keys must be in the form of an optional DNS subdomain prefix' },
    { name: 'duplicate frontend TLS ports', spec: HTTP + '  tls:\n    frontend:\n      default: {}\n      perPort:\n      - {port: 443, tls: {}}\n      - {port: 443, tls: {}}\n', path: 'spec.tls.frontend.perPort', message: 'Port for TLS configuration must be unique within the Gateway' },
    { name: 'more than 8 route kinds', spec: L(`  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes:\n      kinds: [${Array.from({ length: 9 }, () => '{kind: HTTPRoute}').join(', ')}]\n`), path: 'spec.listeners[0].allowedRoutes.kinds', message: 'must have at most 8 entries' },
    { name: 'an Istio Gateway field', spec: HTTP + '  selector: {istio: ingressgateway}\n', path: 'spec.selector', message: 'unknown field "selector"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(doc(c.spec), K, [{ path: c.path, message: c.message }]));
});
