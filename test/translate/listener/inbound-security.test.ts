// The security filters of sidecar inbound chains (Istio listener_builder.go buildHTTPConnectionManager and
// authz builder.go): HTTP chains get jwt_authn for the RequestAuthentications and the RBAC filters for AUDIT,
// DENY and ALLOW policies, in that order, before fault/cors/router; TCP chains get network RBAC before
// tcp_proxy; outbound chains get none. Golden: the HTTP and TCP chains of a workload with every kind.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { buildFor, k8sService } from './harness.js';

const JWKS = '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}';

const policies = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-frontend, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/productpage]}}]
    to: [{operation: {methods: [GET], paths: ["/reviews/{*}"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-other-ns, namespace: istio-system}
spec:
  action: DENY
  rules: [{from: [{source: {namespaces: [untrusted]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-all, namespace: default}
spec:
  action: AUDIT
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules:
  - issuer: https://issuer.example
    jwks: '${JWKS}'
`;

function filterNames(chain: unknown): string[] {
  const c = chain as { filters?: { name: string; typedConfig?: { httpFilters?: { name: string }[] } }[] };
  return (c.filters ?? []).flatMap((f) => (f.typedConfig?.httpFilters !== undefined ? [f.name, ...f.typedConfig.httpFilters.map((h) => `  ${h.name}`)] : [f.name]));
}

describe('sidecar inbound security filters', () => {
  const yaml = [k8sService('reviews', [{ port: 9080, name: 'http' }]), k8sService('reviews-db', [{ port: 5432, name: 'tcp' }], { selector: { app: 'reviews' } }), policies].join('\n');
  const b = buildFor(yaml, { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' });
  const inbound = b.dump.listeners.find((l) => (l as { name?: string }).name === 'virtualInbound') as { filterChains: { name: string; filterChainMatch?: { transportProtocol?: string } }[] };

  it('golden: the HTTP and TCP chains of port 9080 and 5432 (mTLS variants)', () => {
    const chains = inbound.filterChains.filter((c) => (c.name === '0.0.0.0_9080' || c.name === '0.0.0.0_5432') && c.filterChainMatch?.transportProtocol === 'tls');
    assertGolden('listener/sidecar-inbound-security', chains);
  });

  it('orders jwt_authn, then RBAC for AUDIT, DENY, ALLOW before the routing filters; network RBAC before tcp_proxy', () => {
    const http = inbound.filterChains.find((c) => c.name === '0.0.0.0_9080');
    assert.deepEqual(filterNames(http), [
      'istio.metadata_exchange',
      'envoy.filters.network.http_connection_manager',
      '  istio.metadata_exchange',
      '  envoy.filters.http.jwt_authn',
      '  envoy.filters.http.rbac',
      '  envoy.filters.http.rbac',
      '  envoy.filters.http.rbac',
      '  envoy.filters.http.fault',
      '  envoy.filters.http.cors',
      '  istio.stats',
      '  envoy.filters.http.router',
    ]);
    const tcp = inbound.filterChains.find((c) => c.name === '0.0.0.0_5432');
    assert.deepEqual(filterNames(tcp), ['istio.metadata_exchange', 'envoy.filters.network.rbac', 'envoy.filters.network.rbac', 'envoy.filters.network.rbac', 'istio.stats', 'envoy.filters.network.tcp_proxy']);
  });

  it('outbound chains carry no security filters', () => {
    const outbound = b.dump.listeners.filter((l) => (l as { name?: string }).name !== 'virtualInbound');
    assert.equal(JSON.stringify(outbound).includes('envoy.filters.http.rbac'), false);
    assert.equal(JSON.stringify(outbound).includes('jwt_authn'), false);
  });
});
