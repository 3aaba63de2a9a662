import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { effectiveMatches, effectivePath, effectiveRules, HTTP_ROUTE, type K8sHTTPRoute } from './http-route.js';

const K = [HTTP_ROUTE];
const doc = (spec: string, version = 'v1'): string =>
  `apiVersion: gateway.networking.k8s.io/${version}\nkind: HTTPRoute\nmetadata: {name: http, namespace: default}\nspec:\n${spec}`;

// Istio's Gateway API task (bookinfo ingress).
const BOOKINFO = `  parentRefs:
  - name: gateway
    namespace: istio-ingress
  hostnames: ["httpbin.example.com"]
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /get
    backendRefs:
    - name: httpbin
      port: 8000
`;

const FULL = `  parentRefs:
  - {name: gateway, namespace: istio-ingress, sectionName: https}
  - {name: gateway, namespace: istio-ingress, sectionName: http}
  - {group: "", kind: Service, name: reviews, port: 9080}
  hostnames: ["bookinfo.example.com", "*.bookinfo.example.com"]
  rules:
  - name: api
    matches:
    - path: {type: PathPrefix, value: /api}
      headers:
      - {name: x-user, value: jason}
      - {type: RegularExpression, name: x-version, value: "v[12]"}
      queryParams:
      - {name: debug, value: "1"}
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-env, value: prod}]
        add: [{name: x-trace, value: "on"}]
        remove: [x-internal]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        remove: [server]
    - type: URLRewrite
      urlRewrite:
        hostname: api.internal
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}
    - type: RequestMirror
      requestMirror:
        backendRef: {name: shadow, port: 8080}
        fraction: {numerator: 1, denominator: 10}
    - type: CORS
      cors:
        allowOrigins: ["https://app.example.com", "http://*.example.com:8080"]
        allowMethods: [GET, POST]
        allowHeaders: [content-type]
        exposeHeaders: [x-request-id]
        allowCredentials: true
        maxAge: 600
    backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 90
    - name: reviews-v2
      port: 9080
      weight: 10
      filters:
      - type: ResponseHeaderModifier
        responseHeaderModifier:
          set: [{name: x-canary, value: "true"}]
    timeouts:
      request: 10s
      backendRequest: 2s
  - matches:
    - path: {type: Exact, value: /login}
    - path: {type: RegularExpression, value: "/u/[0-9]+"}
    backendRefs:
    - {group: networking.istio.io, kind: Hostname, name: login.example.com}
  - filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301, port: 443}
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: new.example.com
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
  - matches: [{path: {value: /ext}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: networking.example.com, kind: Plugin, name: p}
    backendRefs: [{name: ext, port: 80}]
    timeouts: {request: "0s", backendRequest: 1m}
`;

describe('HTTPRoute (gateway.networking.k8s.io)', () => {
  it("accepts Istio's docs examples and the v1beta1 alias", () => {
    expectValid(doc(BOOKINFO), K);
    expectValid(doc(BOOKINFO, 'v1beta1'), K);
    // A mesh route attached to a Service (GAMMA), with traffic split.
    expectValid(
      doc('  parentRefs:\n  - {group: "", kind: Service, name: reviews, port: 9080}\n  rules:\n  - backendRefs:\n    - {name: reviews-v1, port: 9080, weight: 90}\n    - {name: reviews-v2, port: 9080, weight: 10}\n'),
      K,
    );
  });

  it('accepts an empty spec (rules default to one PathPrefix / match)', () => {
    expectValid(doc('  parentRefs: [{name: gw}]\n'), K);
    const out = validateYaml(doc('  parentRefs: [{name: gw}]\n'), K);
    assert.ok(out.ok);
    const rules = effectiveRules((out.resource as K8sHTTPRoute).spec);
    assert.equal(rules.length, 1);
    const m = effectiveMatches(rules[0] ?? {})[0];
    assert.ok(m !== undefined);
    assert.deepEqual(effectivePath(m), { type: 'PathPrefix', value: '/' });
  });

  it('accepts a full-featured route', () => {
    expectValid(doc(FULL), K);
  });

  const R = (rule: string): string => `  rules:\n  - ${rule}\n`;
  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'filter config not matching its type', spec: R('filters: [{type: ResponseHeaderModifier, requestHeaderModifier: {remove: [a]}}]'), path: 'spec.rules[0].filters[0].requestHeaderModifier', message: 'filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier' },
    { name: 'filter type without its config', spec: R('filters: [{type: RequestHeaderModifier}]'), path: 'spec.rules[0].filters[0]', message: 'filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type' },
    { name: 'a relative path', spec: R('matches: [{path: {type: PathPrefix, value: api}}]'), path: 'spec.rules[0].matches[0].path', message: "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']" },
    { name: "a path with '//'", spec: R('matches: [{path: {type: Exact, value: "/a//b"}}]'), path: 'spec.rules[0].matches[0].path', message: "must not contain '//' when type one of ['Exact', 'PathPrefix']" },
    { name: 'a path with a space (default type PathPrefix)', spec: R('matches: [{path: {value: "/a b"}}]'), path: 'spec.rules[0].matches[0].path', message: 'must only contain valid characters' },
    { name: 'an unknown path type', spec: R('matches: [{path: {type: Prefix, value: /}}]'), path: 'spec.rules[0].matches[0].path.type', message: 'must be one of Exact, PathPrefix, RegularExpression' },
    { name: 'weight above 1000000', spec: R('backendRefs: [{name: a, port: 80, weight: 1000001}]'), path: 'spec.rules[0].backendRefs[0].weight', message: 'must be <= 1000000' },
    { name: 'a Service backend without port', spec: R('backendRefs: [{name: a}]'), path: 'spec.rules[0].backendRefs[0]', message: 'Must have port for Service reference' },
    { name: 'more than 16 rules', spec: '  rules:\n' + '  - backendRefs: [{name: a, port: 80}]\n'.repeat(17), path: 'spec.rules', message: 'must have at most 16 entries' },
    { name: 'an empty rules list', spec: '  rules: []\n', path: 'spec.rules', message: 'must have at least 1 entries' },
    { name: 'more than 128 matches in total', spec: '  rules:\n' + `  - matches: [${Array.from({ length: 60 }, () => '{method: GET}').join(', ')}]\n`.repeat(3), path: 'spec.rules', message: 'the total number of matches across all rules in a route must be less than 128' },
    { name: 'a redirect together with backendRefs', spec: R('filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]\n    backendRefs: [{name: a, port: 80}]'), path: 'spec.rules[0]', message: 'RequestRedirect filter must not be used together with backendRefs' },
    { name: 'redirect and rewrite together', spec: R('filters:\n    - {type: RequestRedirect, requestRedirect: {scheme: https}}\n    - {type: URLRewrite, urlRewrite: {hostname: a.com}}'), path: 'spec.rules[0].filters', message: 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both' },
    { name: 'a repeated header modifier', spec: R('filters:\n    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [a]}}\n    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [b]}}'), path: 'spec.rules[0].filters', message: 'RequestHeaderModifier filter cannot be repeated' },
    { name: 'replacePrefixMatch with two matches', spec: R('matches: [{path: {value: /a}}, {path: {value: /b}}]\n    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /c}}}]'), path: 'spec.rules[0]', message: 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified' },
    { name: 'replacePrefixMatch with an Exact match', spec: R('matches: [{path: {type: Exact, value: /a}}]\n    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /c}}}]'), path: 'spec.rules[0]', message: 'When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified' },
    { name: 'ReplaceFullPath without replaceFullPath', spec: R('filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replacePrefixMatch: /x}}}]'), path: 'spec.rules[0].filters[0].urlRewrite.path', message: "replaceFullPath must be specified when type is set to 'ReplaceFullPath'" },
    { name: 'an unsupported redirect status code', spec: R('filters: [{type: RequestRedirect, requestRedirect: {statusCode: 404}}]'), path: 'spec.rules[0].filters[0].requestRedirect.statusCode', message: 'must be one of 301, 302, 303, 307, 308' },
    { name: 'backendRequest longer than request', spec: R('backendRefs: [{name: a, port: 80}]\n    timeouts: {request: 1s, backendRequest: 2s}'), path: 'spec.rules[0].timeouts', message: 'backendRequest timeout cannot be longer than request timeout' },
    { name: 'a malformed timeout', spec: R('timeouts: {request: 1.5s}'), path: 'spec.rules[0].timeouts.request', message: "should match '^([0-9]{1,5}(h|m|s|ms)){1,4}$'" },
    { name: 'mirror percent and fraction together', spec: R('filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}}]'), path: 'spec.rules[0].filters[0].requestMirror', message: 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter' },
    { name: 'a mirror fraction above 1', spec: R('filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, fraction: {numerator: 101}}}]'), path: 'spec.rules[0].filters[0].requestMirror.fraction', message: 'numerator must be less than or equal to denominator' },
    { name: "CORS '*' alongside other origins", spec: R('filters: [{type: CORS, cors: {allowOrigins: ["*", "https://a.com"]}}]'), path: 'spec.rules[0].filters[0].cors.allowOrigins', message: "AllowOrigins cannot contain '*' alongside other origins" },
    { name: 'a duplicate header match', spec: R('matches: [{headers: [{name: a, value: "1"}, {name: a, value: "2"}]}]'), path: 'spec.rules[0].matches[0].headers[1]', message: 'Duplicate value: {"name":"a"}' },
    { name: 'a bad header name', spec: R('matches: [{headers: [{name: "a b", value: "1"}]}]'), path: 'spec.rules[0].matches[0].headers[0].name', message: 'should match' },
    { name: 'a wildcard redirect hostname', spec: R('filters: [{type: RequestRedirect, requestRedirect: {hostname: "*.a.com"}}]'), path: 'spec.rules[0].filters[0].requestRedirect.hostname', message: 'should match' },
    { name: 'more than 16 hostnames', spec: `  hostnames: [${Array.from({ length: 17 }, (_, i) => `h${i}.com`).join(', ')}]\n`, path: 'spec.hostnames', message: 'must have at most 16 entries' },
    { name: 'a VirtualService-style field', spec: '  http: []\n', path: 'spec.http', message: 'unknown field "http"' },
    { name: 'a repeated parent without sectionName', spec: '  parentRefs: [{name: gw, sectionName: a}, {name: gw, group: gateway.networking.k8s.io}]\n', path: 'spec.parentRefs[1]', message: 'sectionName must be specified when parentRefs includes 2 or more references to the same parent' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(doc(c.spec), K, [{ path: c.path, message: c.message }]));

  it('checks filters inside backendRefs too', () => {
    expectInvalid(
      doc(R('backendRefs:\n    - name: a\n      port: 80\n      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m}}}, {type: CORS}]')),
      K,
      [
        { path: 'spec.rules[0].backendRefs[0].filters[0].requestMirror.backendRef', message: 'Must have port for Service reference' },
        { path: 'spec.rules[0].backendRefs[0].filters[1]', message: 'filter.cors must be specified for CORS filter.type' },
      ],
    );
  });
});
