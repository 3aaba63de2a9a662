import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { wildcardDomainErrors } from '../validation/common.js';
import { retryIssues } from './http-route-validation.js';
import { VIRTUAL_SERVICE } from './virtual-service.js';

const K = [VIRTUAL_SERVICE];
/** One HTTP rule (YAML lines indented under `  - `) in a VirtualService for host `a.com`. */
const rule = (body: string, extraSpec = ''): string =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: default}\nspec:\n  hosts: [a.com]\n${extraSpec}  http:\n  - ${body.trim().split('\n').join('\n    ')}\n`;
const dest = 'route: [{destination: {host: a}}]';
const P = 'spec.http[0]';

describe('HTTP routes', () => {
  it('accepts Istio docs examples: weights, redirect, direct response, rewrite, retries, fault, mirror, CORS', () => {
    expectValid(rule('route:\n- destination: {host: reviews, subset: v1}\n  weight: 75\n- destination: {host: reviews, subset: v2}\n  weight: 25'), K);
    // Istio accepts totals other than 100 (only a zero total of several destinations is an error).
    expectValid(rule('route:\n- destination: {host: a}\n  weight: 30\n- destination: {host: b}\n  weight: 30'), K);
    expectValid(rule('match: [{uri: {exact: /v1/getProductRatings}}]\nredirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local}'), K);
    expectValid(rule('match: [{uri: {prefix: /v1}}]\nredirect: {prefixRewrite: /v2, port: 8443}'), K);
    expectValid(rule('redirect: {prefixRewrite: /v2}'), K);
    expectValid(rule('directResponse: {status: 503, body: {bytes: "ZG93bg=="}}'), K);
    expectValid(rule(`rewrite: {uri: /newcatalog, authority: b.com}\n${dest}`), K);
    expectValid(rule(`retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,retriable-4xx,429"}\n${dest}`), K);
    expectValid(rule(`fault: {abort: {http2Error: ""}}\n${dest}`.replace('http2Error: ""', 'httpStatus: 400, percentage: {value: 0.0001}')), K);
    expectValid(rule(`mirror: {host: b}\nmirrorPercentage: {value: 100}\n${dest}`), K);
    expectValid(rule(`corsPolicy: {allowOrigin: ["*"], allowMethods: ["*"], allowHeaders: ["*"], maxAge: 1m}\n${dest}`), K);
    expectValid(rule(`match: [{withoutHeaders: {x-a: {regex: "*"}}, uri: {prefix: ""}}]\n${dest}`), K);
    expectValid(rule(`match: [{headers: {":authority": {exact: a.com}}}]\n${dest}`), K);
    expectValid(rule(`match: [{headers: {"@request.auth.claims.group": {exact: admin}}}]\n${dest}`, '  gateways: [istio-system/ingress]\n'), K);
  });

  const invalid: { name: string; body: string; path: string; message: string; extra?: string }[] = [
    { name: 'no action', body: 'name: x', path: P, message: 'HTTP route, redirect or direct_response is required' },
    { name: 'route and redirect', body: `redirect: {uri: /x}\n${dest}`, path: P, message: 'HTTP route cannot contain both route and redirect' },
    { name: 'fault and redirect', body: 'redirect: {uri: /x}\nfault: {delay: {fixedDelay: 1s}}', path: P, message: 'HTTP route cannot contain both fault and redirect' },
    { name: 'rewrite and redirect', body: 'redirect: {uri: /x}\nrewrite: {uri: /y}', path: P, message: 'HTTP route rule cannot contain both rewrite and redirect' },
    { name: 'redirect and directResponse', body: 'redirect: {uri: /x}\ndirectResponse: {status: 200}', path: P, message: 'HTTP route rule cannot contain both direct_response and redirect' },
    { name: 'route and directResponse', body: `directResponse: {status: 200}\n${dest}`, path: P, message: 'HTTP route cannot contain both route and direct_response' },
    { name: 'rewrite and directResponse', body: 'directResponse: {status: 200}\nrewrite: {uri: /y}', path: P, message: 'HTTP route rule cannot contain both rewrite and direct_response' },
    { name: 'mirror and mirrors', body: `mirror: {host: b}\nmirrors: [{destination: {host: c}}]\n${dest}`, path: P, message: 'HTTP route cannot contain both mirror and mirrors' },
    { name: 'a root route with route', body: `delegate: {name: d}\n${dest}`, path: `${P}.route`, message: 'root HTTP route  must not specify route' },
    { name: 'a root route with redirect', body: 'name: root\ndelegate: {name: d}\nredirect: {uri: /x}', path: `${P}.redirect`, message: 'root HTTP route root must not specify redirect' },
    { name: 'no destination', body: 'route: [{weight: 100}]', path: `${P}.route[0].destination`, message: 'destination is required' },
    { name: 'destination host *', body: 'route: [{destination: {host: "*"}}]', path: `${P}.route[0].destination.host`, message: 'invalid destination host *' },
    { name: 'a missing destination host', body: 'route: [{destination: {subset: v1}}]', path: `${P}.route[0].destination.host`, message: 'empty domain name not allowed' },
    { name: 'a bad subset', body: 'route: [{destination: {host: a, subset: v_1}}]', path: `${P}.route[0].destination.subset`, message: 'subset name is invalid: v_1' },
    { name: 'destination port 0', body: 'route: [{destination: {host: a, port: {}}}]', path: `${P}.route[0].destination.port.number`, message: 'port number 0 must be in the range 1..65535' },
    { name: 'a negative weight', body: 'route: [{destination: {host: a}, weight: -5}]', path: `${P}.route[0].weight`, message: 'weight -5 < 0' },
    { name: 'total weight 0', body: 'route: [{destination: {host: a}, weight: 0}, {destination: {host: b}}]', path: `${P}.route`, message: 'total destination weight = 0' },
    { name: 'a bad URI regex', body: `match: [{uri: {regex: "(abc"}}]\n${dest}`, path: `${P}.match[0].uri.regex`, message: '"uri": error parsing regexp: missing closing ): `(abc`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)' },
    { name: 'a lookahead regex (not RE2)', body: `match: [{headers: {x-a: {regex: "a(?=b)"}}}]\n${dest}`, path: `${P}.match[0].headers.x-a.regex`, message: '"headers": error parsing regexp:' },
    { name: 'an empty URI regex', body: `match: [{uri: {regex: ""}}]\n${dest}`, path: `${P}.match[0].uri.regex`, message: '"uri": regex string match should not be empty' },
    { name: 'a too large regex', body: `match: [{uri: {regex: "${'a'.repeat(1025)}"}}]\n${dest}`, path: `${P}.match[0].uri.regex`, message: '"uri": regex is too large, max length allowed is 1024' },
    { name: 'an empty method prefix', body: `match: [{method: {prefix: ""}}]\n${dest}`, path: `${P}.match[0].method.prefix`, message: '"method": prefix string match should not be empty' },
    { name: 'an empty header prefix', body: `match: [{headers: {x-a: {prefix: ""}}}]\n${dest}`, path: `${P}.match[0].headers.x-a.prefix`, message: '"headers": prefix string match should not be empty' },
    { name: 'an empty query param prefix', body: `match: [{queryParams: {q: {prefix: ""}}}]\n${dest}`, path: `${P}.match[0].queryParams.q.prefix`, message: '"queryParams": prefix string match should not be empty' },
    { name: 'two StringMatch members', body: `match: [{uri: {exact: /a, prefix: /b}}]\n${dest}`, path: `${P}.match[0].uri`, message: 'only one of exact, prefix, regex may be set (got exact and prefix)' },
    { name: 'a bad header name', body: `match: [{headers: {"a b": {exact: x}}}]\n${dest}`, path: `${P}.match[0].headers["a b"]`, message: 'header name a b is not a valid header name' },
    { name: 'an empty header name', body: `match: [{withoutHeaders: {"": {exact: x}}}]\n${dest}`, path: `${P}.match[0].withoutHeaders[""]`, message: 'header name cannot be empty' },
    { name: 'a bad match port', body: `match: [{port: 65536}]\n${dest}`, path: `${P}.match[0].port`, message: 'port number 65536 must be in the range 1..65535' },
    { name: 'a bad sourceNamespace', body: `match: [{sourceNamespace: "a.b"}]\n${dest}`, path: `${P}.match[0].sourceNamespace`, message: 'sourceNamespace match a.b is invalid' },
    { name: 'a bad match gateway', body: `match: [{gateways: [ns/gw_1]}]\n${dest}`, path: `${P}.match[0].gateways[0]`, message: 'invalid value for gateway name: "gw_1"' },
    { name: 'a bad sourceLabels key', body: `match: [{sourceLabels: {"-x": y}}]\n${dest}`, path: `${P}.match[0].sourceLabels["-x"]`, message: 'invalid tag key: "-x"' },
    { name: 'setting a pseudo header', body: `headers: {request: {set: {":path": /x}}}\n${dest}`, path: `${P}.headers.request.set[":path"]`, message: 'invalid header ":path": header cannot have ":" prefix' },
    { name: 'removing Host', body: `headers: {request: {remove: [Host]}}\n${dest}`, path: `${P}.headers.request.remove[0]`, message: 'invalid header "Host": cannot set Host header' },
    { name: 'a response Host header', body: `headers: {response: {set: {host: x}}}\n${dest}`, path: `${P}.headers.response.set.host`, message: 'invalid header "host": cannot set Host header' },
    { name: 'an empty header name to add', body: `headers: {response: {add: {"": x}}}\n${dest}`, path: `${P}.headers.response.add[""]`, message: 'header name cannot be empty' },
    { name: 'an unescaped % value', body: `headers: {request: {add: {x-a: "100%"}}}\n${dest}`, path: `${P}.headers.request.add.x-a`, message: 'header value configuration: invalid header configuration. Un-escaped %' },
    { name: 'an unterminated variable', body: `headers: {request: {set: {x-a: "%START_TIME"}}}\n${dest}`, path: `${P}.headers.request.set.x-a`, message: "header value configuration: invalid header configuration. Un-terminated variable expression '%START_TIME'" },
    { name: 'a control character in a value', body: `headers: {request: {set: {x-a: "a\\nb"}}}\n${dest}`, path: `${P}.headers.request.set.x-a`, message: 'header value configuration a\nb is invalid' },
    { name: 'a destination header removing Host', body: 'route: [{destination: {host: a}, headers: {request: {remove: [host]}}}]', path: `${P}.route[0].headers.request.remove[0]`, message: 'invalid header "host": cannot set Host header' },
    { name: 'authority set twice', body: `rewrite: {authority: b.com}\nheaders: {request: {set: {Host: c.com}}}\n${dest}`, path: `${P}.headers.request.set.Host`, message: 'authority header cannot be set multiple times: have "b.com", attempting to set "c.com"' },
    { name: 'rewrite with nothing', body: `rewrite: {}\n${dest}`, path: `${P}.rewrite`, message: 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified' },
    { name: 'rewrite uri and uriRegexRewrite', body: `rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}\n${dest}`, path: `${P}.rewrite`, message: 'rewrite may only contain one of URI or UriRegexRewrite' },
    { name: 'an incomplete uriRegexRewrite', body: `rewrite: {uriRegexRewrite: {match: a}}\n${dest}`, path: `${P}.rewrite.uriRegexRewrite`, message: 'UriRegexRewrite requires both Rewrite and Match fields to be specified' },
    { name: 'a bad uriRegexRewrite regex', body: `rewrite: {uriRegexRewrite: {match: "a**", rewrite: b}}\n${dest}`, path: `${P}.rewrite.uriRegexRewrite.match`, message: '"HTTPRewrite.UriRegexRewrite.Match": error parsing regexp: invalid nested repetition operator: `**`' },
    { name: 'redirect with nothing', body: 'redirect: {redirectCode: 302}', path: `${P}.redirect`, message: 'redirect must specify URI, authority, scheme, or port' },
    { name: 'redirect uri and prefixRewrite', body: 'redirect: {uri: /a, prefixRewrite: /b}', path: `${P}.redirect`, message: 'redirect may only specify one of uri or prefix_rewrite' },
    { name: 'prefixRewrite with an exact match', body: 'match: [{uri: {exact: /a}}]\nredirect: {prefixRewrite: /b}', path: `${P}.redirect.prefixRewrite`, message: 'redirect prefix_rewrite requires all URI matches to use prefix match type' },
    { name: 'a non-3xx redirect code', body: 'redirect: {uri: /a, redirectCode: 200}', path: `${P}.redirect.redirectCode`, message: '200 is not a valid redirect code, must be 3xx' },
    { name: 'a bad redirect scheme', body: 'redirect: {scheme: ftp}', path: `${P}.redirect.scheme`, message: 'invalid redirect scheme, must be "http" or "https"' },
    { name: 'a bad redirect port', body: 'redirect: {port: 70000}', path: `${P}.redirect.port`, message: 'port number 70000 must be in the range 1..65535' },
    { name: 'port and derivePort', body: 'redirect: {port: 80, derivePort: FROM_REQUEST_PORT}', path: `${P}.redirect`, message: 'only one of port, derivePort may be set' },
    { name: 'a bad derivePort', body: 'redirect: {derivePort: FROM_NOWHERE}', path: `${P}.redirect.derivePort`, message: 'must be one of FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT' },
    { name: 'a directResponse status out of range', body: 'directResponse: {status: 199}', path: `${P}.directResponse.status`, message: 'HTTP status 199 is not in range 200-599' },
    { name: 'a directResponse without status', body: 'directResponse: {body: {string: x}}', path: `${P}.directResponse.status`, message: 'HTTP status 0 is not in range 200-599' },
    { name: 'a directResponse body over 1MB', body: `directResponse: {status: 200, body: {string: "${'x'.repeat(1024 * 1024 + 1)}"}}`, path: `${P}.directResponse.body`, message: 'large direct_responses may impact control plane performance, must be less than 1MB' },
    { name: 'negative attempts', body: `retries: {attempts: -1}\n${dest}`, path: `${P}.retries.attempts`, message: 'attempts cannot be negative' },
    { name: 'retry settings with 0 attempts', body: `retries: {retryOn: 5xx}\n${dest}`, path: `${P}.retries`, message: 'http retry policy configured when attempts are set to 0 (disabled)' },
    { name: 'an unknown retryOn policy', body: `retries: {attempts: 2, retryOn: "5xx,gateway-errors"}\n${dest}`, path: `${P}.retries.retryOn`, message: '"gateway-errors" is not a valid retryOn policy' },
    { name: 'a spaced retryOn list (Istio does not trim)', body: `retries: {attempts: 2, retryOn: "5xx, reset"}\n${dest}`, path: `${P}.retries.retryOn`, message: '" reset" is not a valid retryOn policy' },
    { name: 'an unknown status code in retryOn', body: `retries: {attempts: 2, retryOn: "599"}\n${dest}`, path: `${P}.retries.retryOn`, message: '"599" is not a valid retryOn policy' },
    { name: 'a perTryTimeout under 1ms', body: `retries: {attempts: 2, perTryTimeout: 100us}\n${dest}`, path: `${P}.retries.perTryTimeout`, message: 'duration must be greater than 1ms' },
    { name: 'a malformed timeout', body: `timeout: 10\n${dest}`, path: `${P}.timeout`, message: 'must be a string' },
    { name: 'a timeout without unit', body: `timeout: "10"\n${dest}`, path: `${P}.timeout`, message: 'bad Duration: time: missing unit in duration "10"' },
    { name: 'a sub-ms timeout', body: `timeout: 1.5ms\n${dest}`, path: `${P}.timeout`, message: 'only durations to ms precision are supported' },
    { name: 'an empty fault', body: `fault: {}\n${dest}`, path: `${P}.fault`, message: 'HTTP fault injection must have an abort and/or a delay' },
    { name: 'a fault percentage over 100', body: `fault: {delay: {fixedDelay: 1s, percentage: {value: 150}}}\n${dest}`, path: `${P}.fault.delay.percentage`, message: 'percentage 150 is neither 0.0, nor in range [0.0001, 100.0]' },
    { name: 'a tiny fault percentage', body: `fault: {abort: {httpStatus: 500, percentage: {value: 0.00001}}}\n${dest}`, path: `${P}.fault.abort.percentage`, message: 'percentage 1e-05 is neither 0.0, nor in range [0.0001, 100.0]' },
    { name: 'an abort status out of range', body: `fault: {abort: {httpStatus: 700}}\n${dest}`, path: `${P}.fault.abort.httpStatus`, message: 'HTTP status 700 is not in range 200-599' },
    { name: 'an unknown gRPC status', body: `fault: {abort: {grpcStatus: NOTFOUND}}\n${dest}`, path: `${P}.fault.abort.grpcStatus`, message: 'gRPC status "NOTFOUND" is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example \'NOT_FOUND\'' },
    { name: 'an HTTP/2 abort', body: `fault: {abort: {http2Error: PROTOCOL_ERROR}}\n${dest}`, path: `${P}.fault.abort.http2Error`, message: 'HTTP/2 abort fault injection not supported yet' },
    { name: 'an exponential delay', body: `fault: {delay: {exponentialDelay: 1s}}\n${dest}`, path: `${P}.fault.delay.exponentialDelay`, message: 'exponentialDelay not supported yet' },
    { name: 'a zero fixed delay', body: `fault: {delay: {fixedDelay: 0s}}\n${dest}`, path: `${P}.fault.delay.fixedDelay`, message: 'duration must be greater than 1ms' },
    { name: 'mirrorPercent over 100', body: `mirror: {host: b}\nmirrorPercent: 101\n${dest}`, path: `${P}.mirrorPercent`, message: 'mirror_percent must have a max value of 100 (it has 101)' },
    { name: 'mirrorPercentage over 100', body: `mirror: {host: b}\nmirrorPercentage: {value: 100.5}\n${dest}`, path: `${P}.mirrorPercentage`, message: 'mirror_percentage must have a max value of 100 (it has 100.500000)' },
    { name: 'a negative mirrorPercentage', body: `mirror: {host: b}\nmirrorPercentage: {value: -1}\n${dest}`, path: `${P}.mirrorPercentage`, message: 'mirror_percentage must have a min value of 0 (it has -1.000000)' },
    { name: 'a bad mirror host', body: `mirror: {host: "*"}\n${dest}`, path: `${P}.mirror.host`, message: 'invalid destination host *' },
    { name: 'mirrors without destination', body: `mirrors: [{percentage: {value: 5}}]\n${dest}`, path: `${P}.mirrors[0].destination`, message: 'destination is required for mirrors' },
    { name: 'a mirrors percentage over 100', body: `mirrors: [{destination: {host: b}, percentage: {value: 101}}]\n${dest}`, path: `${P}.mirrors[0].percentage`, message: 'mirror percentage must have a max value of 100 (it has 101.000000)' },
    { name: 'an empty CORS origin', body: `corsPolicy: {allowOrigins: [{exact: ""}]}\n${dest}`, path: `${P}.corsPolicy.allowOrigins[0]`, message: "'' is not a valid match type for CORS allow origins" },
    { name: 'a bad CORS origin regex', body: `corsPolicy: {allowOrigins: [{regex: "[a"}]}\n${dest}`, path: `${P}.corsPolicy.allowOrigins[0].regex`, message: '"corsPolicy.allowOrigins": error parsing regexp: missing closing ]: `[a`' },
    { name: 'a bad CORS method', body: `corsPolicy: {allowMethods: [get]}\n${dest}`, path: `${P}.corsPolicy.allowMethods[0]`, message: '"get" is not a supported HTTP method' },
    { name: 'a bad CORS header', body: `corsPolicy: {exposeHeaders: ["x y"]}\n${dest}`, path: `${P}.corsPolicy.exposeHeaders[0]`, message: 'header name x y is not a valid header name' },
    { name: 'a CORS maxAge below seconds', body: `corsPolicy: {maxAge: 1500ms}\n${dest}`, path: `${P}.corsPolicy.maxAge`, message: 'max_age duration is accurate only to seconds precision' },
    { name: 'a bad unmatchedPreflights', body: `corsPolicy: {unmatchedPreflights: DROP}\n${dest}`, path: `${P}.corsPolicy.unmatchedPreflights`, message: 'must be one of UNSPECIFIED, FORWARD, IGNORE' },
    { name: 'the removed websocketUpgrade field', body: `websocketUpgrade: true\n${dest}`, path: `${P}.websocketUpgrade`, message: 'unknown field "websocketUpgrade"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(rule(c.body, c.extra), K, [{ path: c.path, message: c.message }]);
    });

  it('warns about deprecated mirrorPercent and large direct responses', () => {
    const w = expectValid(rule(`mirror: {host: b}\nmirrorPercent: 50\n${dest}`), K);
    assert.deepEqual(w.map((i) => [i.path, i.message]), [[`${P}.mirrorPercent`, 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead']]);
    const big = expectValid(rule(`directResponse: {status: 200, body: {string: "${'x'.repeat(100 * 1024 + 1)}"}}`), K);
    assert.deepEqual(big.map((i) => [i.path, i.message]), [[`${P}.directResponse.body`, 'large direct_responses may impact control plane performance']]);
  });

  it('skips destination checks under Gateway API route semantics', () => {
    const doc = rule('route: [{destination: {host: "*"}}]').replace('metadata: {name: r, namespace: default}', 'metadata: {name: r, namespace: default, annotations: {internal.istio.io/route-semantics: gateway}}');
    expectValid(doc, K);
  });
});

describe('Istio host and retry helpers', () => {
  it('accept upper case and *-prefixed wildcard labels as Istio does', () => {
    assert.deepEqual(wildcardDomainErrors('*-foo.example.com'), []);
    assert.deepEqual(wildcardDomainErrors('Foo.Example.com'), []);
    assert.deepEqual(wildcardDomainErrors('istio.io.'), []);
    assert.deepEqual(wildcardDomainErrors('*'), []);
    assert.deepEqual(wildcardDomainErrors('a..b'), ['domain name ".b" invalid (label "" invalid)']);
  });

  it('accept Go-known status codes in retryOn', () => {
    assert.deepEqual(retryIssues('r', { attempts: 1, retryOn: '503,+504,retriable-status-codes' }), []);
    assert.equal(retryIssues('r', { attempts: 1, retryOn: '' }).length, 0);
  });
});
