import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { GRPC_ROUTE } from './grpc-route.js';

const K = [GRPC_ROUTE];
const doc = (spec: string): string =>
  `apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: grpc, namespace: default}\nspec:\n${spec}`;

const FULL = `  parentRefs:
  - {name: gateway, namespace: istio-ingress}
  hostnames: ["grpc.example.com"]
  rules:
  - name: echo
    matches:
    - method: {service: grpc.examples.echo.Echo, method: UnaryEcho}
      headers:
      - {name: x-user, value: jason}
    - method: {type: RegularExpression, service: "grpc\\\\.examples\\\\..*"}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        add: [{name: x-env, value: prod}]
    - type: RequestMirror
      requestMirror:
        backendRef: {name: shadow, port: 50051}
        percent: 5
    backendRefs:
    - name: echo-v1
      port: 50051
      weight: 90
    - name: echo-v2
      port: 50051
      weight: 10
      filters:
      - type: ResponseHeaderModifier
        responseHeaderModifier: {remove: [x-internal]}
  - backendRefs: [{name: default, port: 50051}]
`;

describe('GRPCRoute', () => {
  it('accepts the Gateway API docs example and a full-featured route', () => {
    expectValid(
      doc('  parentRefs: [{name: example-gateway}]\n  hostnames: ["example.com"]\n  rules:\n  - backendRefs: [{name: example-svc, port: 50051}]\n'),
      K,
    );
    expectValid(doc(FULL), K);
  });

  it('accepts a leading dot in the service name and an empty spec', () => {
    expectValid(doc('  rules:\n  - matches: [{method: {service: .foo.Bar}}]\n'), K);
    expectValid('apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g}\nspec: {}\n', K);
  });

  const R = (rule: string): string => `  rules:\n  - ${rule}\n`;
  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'a method match with neither service nor method', spec: R('matches: [{method: {type: Exact}}]'), path: 'spec.rules[0].matches[0].method', message: "One or both of 'service' or 'method' must be specified" },
    { name: 'an invalid service name', spec: R('matches: [{method: {service: "foo/bar"}}]'), path: 'spec.rules[0].matches[0].method', message: 'service must only contain valid characters' },
    { name: 'an invalid method name', spec: R('matches: [{method: {service: foo.Bar, method: "Get-Thing"}}]'), path: 'spec.rules[0].matches[0].method', message: 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)' },
    { name: 'an HTTP-only filter type', spec: R('filters: [{type: URLRewrite}]'), path: 'spec.rules[0].filters[0].type', message: 'must be one of ResponseHeaderModifier, RequestHeaderModifier, RequestMirror, ExtensionRef' },
    { name: 'filter config not matching its type', spec: R('filters: [{type: RequestHeaderModifier, responseHeaderModifier: {remove: [a]}}]'), path: 'spec.rules[0].filters[0].responseHeaderModifier', message: 'filter.responseHeaderModifier must be nil if the filter.type is not ResponseHeaderModifier' },
    { name: 'a repeated ResponseHeaderModifier', spec: R('filters:\n    - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [a]}}\n    - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [b]}}'), path: 'spec.rules[0].filters', message: 'ResponseHeaderModifier filter cannot be repeated' },
    { name: 'a Service backend without port', spec: R('backendRefs: [{name: a}]'), path: 'spec.rules[0].backendRefs[0]', message: 'Must have port for Service reference' },
    { name: 'weight below 0', spec: R('backendRefs: [{name: a, port: 1, weight: -1}]'), path: 'spec.rules[0].backendRefs[0].weight', message: 'must be >= 0' },
    { name: 'more than 128 matches in total', spec: '  rules:\n' + `  - matches: [${Array.from({ length: 50 }, () => '{method: {service: a}}').join(', ')}]\n`.repeat(3), path: 'spec.rules', message: 'the total number of matches across all rules in a route must be less than 128' },
    { name: 'more than 64 matches in a rule', spec: R(`matches: [${Array.from({ length: 65 }, () => '{method: {service: a}}').join(', ')}]`), path: 'spec.rules[0].matches', message: 'must have at most 64 entries' },
    { name: 'a path match (HTTPRoute only)', spec: R('matches: [{path: {value: /}}]'), path: 'spec.rules[0].matches[0].path', message: 'unknown field "path"' },
    { name: 'duplicate set headers', spec: R('filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: "1"}, {name: a, value: "2"}]}}]'), path: 'spec.rules[0].filters[0].requestHeaderModifier.set[1]', message: 'Duplicate value: {"name":"a"}' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(doc(c.spec), K, [{ path: c.path, message: c.message }]));
});
