// Gateway semantics in the route translation (Istio route.go TranslateRouteMatch and
// applyHTTPRouteDestination under model.UseGatewaySemantics), against the Envoy fields Istio writes:
// path-separated prefixes (a regex for proxyless gRPC), the prefix-stripping regex rewrite, and 500 for a
// cluster that does not exist. VirtualServices without gateway semantics keep Istio's VirtualService output.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { RE2JS } from 're2js';
import type { HTTPMatchRequest, HTTPRoute } from '../../api/networking/virtual-service.js';
import { RouteAction_ClusterNotFoundResponseCode as NotFoundCode, RouteSchema, type RouteAction } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { translateRouteMatch } from './match.js';
import { applyRouteDestination, type RouteOptions } from './route-action.js';

const OPTS: RouteOptions = { isTls: false, proxyless: false, servicePorts: () => [80], hash: () => undefined };

function action(rule: HTTPRoute, semantics: 'gateway' | undefined, match: HTTPMatchRequest | undefined = rule.match?.[0]): RouteAction {
  const out = create(RouteSchema, { match: translateRouteMatch(match, { semantics }) });
  applyRouteDestination(out, rule, OPTS, '', 80, semantics);
  assert.equal(out.action.case, 'route');
  return out.action.value as RouteAction;
}

describe('gateway semantics: matches', () => {
  it('a uri prefix matches by path segment, its trailing `/` trimmed; `/`, exact and regex are unchanged', () => {
    const spec = (uri: HTTPMatchRequest['uri'], proxyless = false) => translateRouteMatch({ uri }, { semantics: 'gateway', proxyless }).pathSpecifier;
    assert.deepEqual(spec({ prefix: '/api/' }), { case: 'pathSeparatedPrefix', value: '/api' });
    assert.deepEqual(spec({ prefix: '/api' }), { case: 'pathSeparatedPrefix', value: '/api' });
    assert.deepEqual(spec({ prefix: '/' }), { case: 'prefix', value: '/' });
    assert.deepEqual(spec({ exact: '/api' }), { case: 'path', value: '/api' });
    assert.equal(spec({ regex: '/a.*' }).case, 'safeRegex');
    assert.deepEqual(translateRouteMatch({ uri: { prefix: '/api/' } }).pathSpecifier, { case: 'prefix', value: '/api/' }, 'VirtualService semantics');
  });

  it('proxyless gRPC gets a regex that matches exactly what the path-separated prefix would', () => {
    const p = translateRouteMatch({ uri: { prefix: '/echo.Echo/' } }, { semantics: 'gateway', proxyless: true }).pathSpecifier;
    assert.equal(p.case, 'safeRegex');
    if (p.case !== 'safeRegex') return;
    const re = RE2JS.compile(p.value.regex);
    const full = (s: string): boolean => re.matches(s);
    assert.deepEqual(['/echo.Echo', '/echo.Echo/', '/echo.Echo/Say'].map(full), [true, true, true]);
    assert.deepEqual(['/echo.EchoX/Say', '/echoXEcho/Say', '/x/echo.Echo/Say'].map(full), [false, false, false]);
  });
});

describe('gateway semantics: forwarding', () => {
  const to = { route: [{ destination: { host: 'web.default.svc.cluster.local' } }] };

  it('a cluster that does not exist answers 500 (503 without gateway semantics)', () => {
    assert.equal(action(to, 'gateway').clusterNotFoundResponseCode, NotFoundCode.INTERNAL_SERVER_ERROR);
    assert.equal(action(to, undefined).clusterNotFoundResponseCode, NotFoundCode.SERVICE_UNAVAILABLE);
  });

  it('a rewrite to `/` strips the matched prefix with a regex, its metacharacters quoted; other rewrites are prefix rewrites', () => {
    const strip = action({ ...to, match: [{ uri: { prefix: '/v1.0/' } }], rewrite: { uri: '/' } }, 'gateway');
    assert.equal(strip.regexRewrite?.pattern?.regex, '^/v1\\.0(/?)(.*)');
    assert.equal(strip.regexRewrite?.substitution, '/\\2');
    assert.equal(strip.prefixRewrite, '');
    const other = action({ ...to, match: [{ uri: { prefix: '/v1' } }], rewrite: { uri: '/v2' } }, 'gateway');
    assert.equal(other.prefixRewrite, '/v2');
    assert.equal(other.regexRewrite, undefined);
    const plain = action({ ...to, match: [{ uri: { prefix: '/v1' } }], rewrite: { uri: '/' } }, undefined);
    assert.equal(plain.prefixRewrite, '/', 'VirtualService semantics');
    assert.equal(plain.regexRewrite, undefined);
  });

  it('a rewrite to `/` without a path-separated prefix match keeps the path (Istio quotes an empty prefix)', () => {
    const a = action({ ...to, rewrite: { uri: '/' } }, 'gateway', undefined);
    assert.equal(a.regexRewrite?.pattern?.regex, '^(/?)(.*)');
    const re = RE2JS.compile(a.regexRewrite?.pattern?.regex ?? '');
    assert.equal(re.matcher('/shop/cart').replaceAll('/$2'), '/shop/cart');
  });
});
