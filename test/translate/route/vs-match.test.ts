// VirtualService match translation (Istio route.go TranslateRouteMatch): each condition as Envoy matches it,
// with the requests that do and do not reach the rule.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import type { Call } from '../../support/simulate.js';
import { REVIEWS_VHOST, reviewsWorld, vhostDump } from './harness.js';

const vs = (http: string): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
${http}
  - name: fallback
    route:
    - destination: {host: reviews, subset: v1}
`;

const call = (o: Partial<Call> = {}): Call => ({ port: 9080, protocol: 'http', host: 'reviews', ...o });
const V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';
const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';

describe('uri matches', () => {
  const w = reviewsWorld(
    vs(`  - name: uris
    match:
    - {name: exact, uri: {exact: /api/v1/reviews}}
    - {name: prefix, uri: {prefix: /static/}}
    - {name: regex, uri: {regex: "/reviews/[0-9]+"}}
    - {name: nocase, uri: {prefix: /Admin}, ignoreUriCase: true}
    route:
    - destination: {host: reviews, subset: v2}`),
  );
  it('golden', () => assertGolden('route/match-uri', vhostDump(w, '9080', REVIEWS_VHOST)));
  const cases: [string, string, string | undefined, string][] = [
    ['exact path', '/api/v1/reviews', 'uris.exact', V2],
    ['exact does not match a longer path', '/api/v1/reviews/1', 'fallback', V1],
    ['prefix', '/static/app.css', 'uris.prefix', V2],
    ['regex matches the whole path', '/reviews/42', 'uris.regex', V2],
    ['regex is anchored', '/reviews/42/x', 'fallback', V1],
    ['ignoreUriCase', '/aDMIN/panel', 'uris.nocase', V2],
    ['query string is not part of the path', '/api/v1/reviews?x=1', 'uris.exact', V2],
  ];
  for (const [name, path, route, cluster] of cases) it(name, () => void w.expect(call({ path }), { route, cluster }));
});

describe('header, method, authority, scheme and query matches', () => {
  const w = reviewsWorld(
    vs(`  - name: hdr
    match:
    - headers:
        end-user: {exact: jason}
        x-canary: {}
      withoutHeaders:
        x-debug: {prefix: "1"}
      method: {exact: POST}
      queryParams:
        v: {regex: "[0-9]+"}
    route:
    - destination: {host: reviews, subset: v2}
  - name: auth
    match:
    - authority: {prefix: reviews.}
      scheme: {exact: http}
    route:
    - destination: {host: reviews, subset: v3}`),
  );
  it('golden', () => assertGolden('route/match-headers', vhostDump(w, '9080', REVIEWS_VHOST)));
  const full = { headers: { 'end-user': 'jason', 'x-canary': 'yes' }, method: 'POST', path: '/?v=12' };
  it('all conditions met', () => void w.expect(call(full), { route: 'hdr', cluster: V2 }));
  it('header values are exact', () => void w.expect(call({ ...full, headers: { 'end-user': 'jasonx', 'x-canary': '' } }), { route: 'fallback' }));
  it('an empty match means the header must be present', () => void w.expect(call({ ...full, headers: { 'end-user': 'jason' } }), { route: 'fallback' }));
  it('withoutHeaders excludes matching values and keeps absent ones', () => {
    w.expect(call({ ...full, headers: { ...full.headers, 'x-debug': '1' } }), { route: 'fallback' });
    w.expect(call({ ...full, headers: { ...full.headers, 'x-debug': '0' } }), { route: 'hdr' });
  });
  it('method and query parameter', () => {
    w.expect(call({ ...full, method: 'GET' }), { route: 'fallback' });
    w.expect(call({ ...full, path: '/?v=abc' }), { route: 'fallback' });
  });
  it('authority and scheme match the :authority and :scheme pseudo-headers', () => {
    w.expect(call({ host: 'reviews.default' }), { route: 'auth', cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local' });
    w.expect(call({ host: 'reviews' }), { route: 'fallback' });
  });
  it('header matchers are sorted by name, pseudo-headers after them', () => {
    const r = w.route('9080').virtualHosts.find((v) => v.name === REVIEWS_VHOST)?.routes[0];
    assert.deepEqual(r?.match?.headers.map((h) => h.name), ['end-user', 'x-canary', 'x-debug', ':method']);
    assert.equal(r?.match?.headers.find((h) => h.name === 'x-debug')?.treatMissingHeaderAsEmpty, true);
  });
});

describe('match list semantics', () => {
  it('several matches are ORed, each its own Envoy route; a catch-all match ends the list', () => {
    const w = reviewsWorld(
      vs(`  - name: r
    match:
    - {name: a, uri: {prefix: /a}}
    - {name: all, uri: {prefix: /}}
    - {name: never, uri: {prefix: /b}}
    route:
    - destination: {host: reviews, subset: v2}`),
    );
    const names = w.route('9080').virtualHosts.find((v) => v.name === REVIEWS_VHOST)?.routes.map((r) => r.name);
    assert.deepEqual(names, ['r.a', 'r.all']);
    w.expect(call({ path: '/zzz' }), { route: 'r.all', cluster: V2 });
  });
});
