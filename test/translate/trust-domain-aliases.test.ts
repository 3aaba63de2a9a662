// MeshConfig trustDomainAliases (a trust domain migration: workloads whose certificates carry another trust
// domain stay part of the mesh), in the three places istiod applies them: the SANs a client's ISTIO_MUTUAL
// cluster accepts (spiffe.ExpandWithTrustDomains in PushContext.addServiceAccounts), the client certificates
// an inbound mTLS chain accepts (authn TrustDomainsForValidation), and AuthorizationPolicy principals
// (trustdomain.Bundle: a principal of any of the domains matches its twin in the others).
// https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/ (trustDomainAliases)

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { DownstreamTlsContextSchema } from '../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { RBACSchema } from '../../src/xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { HttpConnectionManagerSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { XDS_REGISTRY } from '../../src/xds/codec.js';
import { parseMeshConfig } from '../../src/model/mesh-config.js';
import { clusterNamed, podYaml, serviceYaml, translateYaml, upstreamTls } from './cluster/support.js';

const ALIASES = { trustDomain: 'new.example', trustDomainAliases: ['cluster.local', 'old.example'] };

const MESH = [
  serviceYaml('reviews', [{ name: 'http', port: 9080 }]),
  podYaml({ name: 'reviews-v1', ip: '10.0.0.1', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews' }),
  `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-productpage, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{from: [{source: {principals: [old.example/ns/default/sa/productpage]}}]}]`,
].join('\n---\n');

describe('MeshConfig trustDomainAliases', () => {
  it('is read from the mesh config, and a value that is not a list of strings is refused', () => {
    const r = parseMeshConfig({ trustDomain: 'new.example', trustDomainAliases: ['cluster.local'] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.trustDomainAliases, ['cluster.local']);
    const bad = parseMeshConfig({ trustDomainAliases: 'cluster.local' });
    assert.deepEqual(bad.ok ? [] : bad.issues.map((i) => `${i.path}: ${i.message}`), ['trustDomainAliases: must be a list of strings']);
  });

  it('a client accepts the server identity in the trust domain and each alias', () => {
    const tls = upstreamTls(clusterNamed(translateYaml(MESH, { ip: '10.9.9.9', name: 'client' }, ALIASES), 'outbound|9080||reviews.default.svc.cluster.local'));
    const v = tls?.commonTlsContext?.validationContextType;
    const sans = v?.case === 'combinedValidationContext' ? (v.value.defaultValidationContext?.matchSubjectAltNames ?? []).map((m) => m.matchPattern.value) : [];
    assert.deepEqual(sans, [
      'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
      'spiffe://new.example/ns/default/sa/bookinfo-reviews',
      'spiffe://old.example/ns/default/sa/bookinfo-reviews',
    ]);
    const plain = upstreamTls(clusterNamed(translateYaml(MESH, { ip: '10.9.9.9', name: 'client' }), 'outbound|9080||reviews.default.svc.cluster.local'));
    const pv = plain?.commonTlsContext?.validationContextType;
    assert.equal(pv?.case === 'combinedValidationContext' ? pv.value.defaultValidationContext?.matchSubjectAltNames.length : -1, 1, 'no aliases: one identity');
  });

  const server = translateYaml(MESH, { ip: '10.0.0.1', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } }, ALIASES);
  const chain = server.listeners.find((l) => l.name === 'virtualInbound')?.filterChains.find((c) => c.name === '0.0.0.0_9080' && c.transportSocket !== undefined);

  it('an inbound mTLS chain accepts client certificates of the trust domain and each alias', () => {
    const tsc = chain?.transportSocket?.configType;
    const dtc = tsc?.case === 'typedConfig' ? anyUnpack(tsc.value, DownstreamTlsContextSchema) : undefined;
    const v = dtc?.commonTlsContext?.validationContextType;
    const prefixes = v?.case === 'combinedValidationContext' ? (v.value.defaultValidationContext?.matchSubjectAltNames ?? []).map((m) => m.matchPattern.value) : [];
    assert.deepEqual(prefixes, ['spiffe://new.example/', 'spiffe://cluster.local/', 'spiffe://old.example/']);
  });

  it('an AuthorizationPolicy principal of one domain matches its twin in every other', () => {
    const hcmAny = chain?.filters.find((f) => f.name === 'envoy.filters.network.http_connection_manager')?.configType;
    const hcm = hcmAny?.case === 'typedConfig' ? anyUnpack(hcmAny.value, HttpConnectionManagerSchema) : undefined;
    const rbacAny = hcm?.httpFilters.find((f) => f.name === 'envoy.filters.http.rbac')?.configType;
    const rbac = rbacAny?.case === 'typedConfig' ? anyUnpack(rbacAny.value, RBACSchema) : undefined;
    assert.ok(rbac !== undefined);
    const text = JSON.stringify(toJson(RBACSchema, rbac, { registry: XDS_REGISTRY }));
    for (const td of ['new.example', 'cluster.local', 'old.example']) assert.ok(text.includes(`spiffe://${td}/ns/default/sa/productpage`), `${td} in ${text}`);
  });
});
