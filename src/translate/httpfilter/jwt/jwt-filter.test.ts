// The jwt_authn filter istiod would send for RequestAuthentications, as JSON: one provider per jwtRule named
// origins-<i> (sorted by issuer), Istio's requirement shapes for one and several providers, token locations
// and outputs, keys inline (rule jwks, fetched jwksUri / OpenID discovery document, or the fail-closed set),
// and which proxies and listener classes get the filter at all.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { JwtAuthenticationSchema } from '../../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { buildProxyContext } from '../../context.js';
import type { ListenerClass } from '../../listener/http-filters.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../../../test/support/mesh.js';
import { buildJwtFilters } from './jwt-filter.js';
import { jwksSourceKey, jwksSourcesOf, PUBLIC_ONLY_JWKS } from './jwks-source.js';

const JWKS = '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}';

function ra(name: string, ns: string, spec: string): string {
  return `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n${spec}\n---\n`;
}

function filterJson(yaml: string, o: { proxy?: TestProxyOptions; cls?: ListenerClass; jwks?: ReadonlyMap<string, string> } = {}): unknown {
  const { snapshot } = meshFromYaml(yaml, o.jwks !== undefined ? { jwks: o.jwks } : {});
  const fs = buildJwtFilters(buildProxyContext(snapshot, testProxy({ namespace: 'foo', labels: { app: 'httpbin' }, ...o.proxy })), o.cls ?? 'sidecar-inbound');
  if (fs.length === 0) return undefined;
  assert.equal(fs.length, 1);
  const f = fs[0];
  assert.equal(f?.name, 'envoy.filters.http.jwt_authn');
  const a = f?.configType.case === 'typedConfig' ? f.configType.value : undefined;
  const m = a !== undefined ? anyUnpack(a, JwtAuthenticationSchema) : undefined;
  assert.ok(m !== undefined);
  return toJson(JwtAuthenticationSchema, m, { registry: XDS_REGISTRY });
}

const NORMALIZE = { spaceDelimitedClaims: ['permission', 'scope'] };

describe('jwt_authn translation: golden configs', () => {
  it('one rule with every option', () => {
    const yaml = ra(
      'jwt',
      'foo',
      `  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: issuer-foo
    audiences: [aud-a, aud-b]
    jwks: '${JWKS}'
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    fromParams: [my_token]
    fromCookies: [session]
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders:
    - header: x-jwt-sub
      claim: sub
    forwardOriginalToken: true
    spaceDelimitedClaims: [roles]`,
    );
    assert.deepEqual(filterJson(yaml), {
      providers: {
        'origins-0': {
          issuer: 'issuer-foo',
          audiences: ['aud-a', 'aud-b'],
          localJwks: { inlineString: JWKS },
          forward: true,
          fromHeaders: [{ name: 'x-jwt-assertion', valuePrefix: 'Bearer ' }],
          fromParams: ['my_token'],
          fromCookies: ['session'],
          forwardPayloadHeader: 'x-jwt-payload',
          payloadInMetadata: 'payload',
          normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'roles', 'scope'] },
          claimToHeaders: [{ headerName: 'x-jwt-sub', claimName: 'sub' }],
        },
      },
      rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } } }],
      bypassCorsPreflight: true,
    });
  });

  it('several rules across the root and workload namespaces: sorted by issuer, OR of providers and AND of (provider or missing)', () => {
    const yaml =
      ra('mesh', 'istio-system', `  jwtRules:\n  - issuer: zeta\n    jwks: '${JWKS}'`) +
      ra('ns', 'foo', `  jwtRules:\n  - issuer: alpha\n    jwks: '${JWKS}'`);
    const inner = (n: string): unknown => ({ requiresAny: { requirements: [{ providerName: n }, { allowMissing: {} }] } });
    const p = (issuer: string): unknown => ({ issuer, localJwks: { inlineString: JWKS }, payloadInMetadata: 'payload', normalizePayloadInMetadata: NORMALIZE });
    assert.deepEqual(filterJson(yaml), {
      providers: { 'origins-0': p('alpha'), 'origins-1': p('zeta') },
      rules: [
        {
          match: { prefix: '/' },
          requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { providerName: 'origins-1' }, { requiresAll: { requirements: [inner('origins-0'), inner('origins-1')] } }] } },
        },
      ],
      bypassCorsPreflight: true,
    });
  });
});

describe('jwt_authn translation: keys resolved by the control plane', () => {
  const provider = (json: unknown): { localJwks: { inlineString: string } } => (json as { providers: Record<string, { localJwks: { inlineString: string } }> }).providers['origins-0'] ?? assert.fail('no provider');
  const uriRule = ra('jwt', 'foo', '  jwtRules:\n  - issuer: https://issuer.example.com\n    jwksUri: https://issuer.example.com/keys.json');
  const issuerOnly = ra('jwt', 'foo', '  jwtRules:\n  - issuer: https://issuer.example.com/');

  const cases: readonly { name: string; yaml: string; jwks: ReadonlyMap<string, string>; want: string }[] = [
    { name: 'fetched jwksUri document is inlined', yaml: uriRule, jwks: new Map([['https://issuer.example.com/keys.json', JWKS]]), want: JWKS },
    { name: 'never fetched: fail-closed key set', yaml: uriRule, jwks: new Map(), want: PUBLIC_ONLY_JWKS },
    { name: 'fetch failed (empty): fail-closed key set', yaml: uriRule, jwks: new Map([['https://issuer.example.com/keys.json', '']]), want: PUBLIC_ONLY_JWKS },
    { name: 'issuer only: the OpenID discovery source', yaml: issuerOnly, jwks: new Map([['https://issuer.example.com/.well-known/openid-configuration', JWKS]]), want: JWKS },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(provider(filterJson(c.yaml, { jwks: c.jwks })).localJwks.inlineString, c.want);
    });

  it('the sources a control plane must fetch', () => {
    const { snapshot } = meshFromYaml(uriRule + issuerOnly.replace('name: jwt', 'name: other') + ra('inline', 'foo', `  jwtRules:\n  - issuer: x\n    jwks: '${JWKS}'`));
    assert.deepEqual([...jwksSourcesOf(snapshot.requestAuthentications('foo'))].sort(), ['https://issuer.example.com/.well-known/openid-configuration', 'https://issuer.example.com/keys.json']);
    assert.equal(jwksSourceKey({}), undefined);
  });
});

describe('jwt_authn translation: which proxies and listeners', () => {
  const rule = `  jwtRules:\n  - issuer: i\n    jwks: '${JWKS}'`;
  const cases: readonly { name: string; yaml: string; proxy?: TestProxyOptions; cls?: ListenerClass; applies: boolean }[] = [
    { name: 'namespace-wide policy on sidecar inbound', yaml: ra('a', 'foo', rule), applies: true },
    { name: 'never on sidecar outbound', yaml: ra('a', 'foo', rule), cls: 'sidecar-outbound', applies: false },
    { name: 'mesh-wide policy in the root namespace', yaml: ra('a', 'istio-system', rule), applies: true },
    { name: 'another namespace', yaml: ra('a', 'bar', rule), applies: false },
    { name: 'selector not matching', yaml: ra('a', 'foo', `  selector:\n    matchLabels:\n      app: other\n${rule}`), applies: false },
    { name: 'targetRef policies skip sidecars', yaml: ra('a', 'foo', `  targetRef:\n    group: gateway.networking.k8s.io\n    kind: Gateway\n    name: gw\n${rule}`), applies: false },
    {
      name: 'targetRef naming the Gateway API gateway',
      yaml: ra('a', 'foo', `  targetRefs:\n  - group: gateway.networking.k8s.io\n    kind: Gateway\n    name: gw\n${rule}`),
      proxy: { type: 'router', labels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } },
      cls: 'gateway',
      applies: true,
    },
    {
      name: 'targetRef naming another gateway',
      yaml: ra('a', 'foo', `  targetRefs:\n  - group: gateway.networking.k8s.io\n    kind: Gateway\n    name: other\n${rule}`),
      proxy: { type: 'router', labels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } },
      cls: 'gateway',
      applies: false,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const opts: { proxy?: TestProxyOptions; cls?: ListenerClass } = {};
      if (c.proxy !== undefined) opts.proxy = c.proxy;
      if (c.cls !== undefined) opts.cls = c.cls;
      assert.equal(filterJson(c.yaml, opts) !== undefined, c.applies);
    });

  it('gateways clear the route cache, sidecars do not', () => {
    const yaml = ra('a', 'istio-system', rule);
    const gw = filterJson(yaml, { proxy: { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }, cls: 'gateway' }) as { providers: Record<string, { clearRouteCache?: boolean }> };
    assert.equal(gw.providers['origins-0']?.clearRouteCache, true);
    const sc = filterJson(yaml) as { providers: Record<string, { clearRouteCache?: boolean }> };
    assert.equal(sc.providers['origins-0']?.clearRouteCache, undefined);
  });
});
