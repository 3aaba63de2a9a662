// The CUSTOM authorization filters istiod would send, as JSON: per provider the shadow RBAC filter and the
// ext_authz filter built from meshConfig.extensionProviders (HTTP and gRPC authorizers), the DENY fallback
// for a provider the mesh does not define or cannot resolve, and which proxies and listener classes get
// them at all.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { ExtAuthzSchema } from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { RBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { DEFAULT_MESH_CONFIG, parseMeshConfig, type MeshConfig } from '../../../model/mesh-config.js';
import { buildProxyContext } from '../../context.js';
import type { ListenerClass } from '../../listener/http-filters.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../../../test/support/mesh.js';
import { buildCustomAuthzFilters } from './ext-authz-filter.js';
import { pilotFeaturesFromEnv, type PilotFeatures } from '../../../model/pilot-features.js';

const SERVICES = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext-authz
  namespace: foo
spec:
  hosts: [ext-authz.foo.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 8000, name: http, protocol: HTTP}
  - {number: 9000, name: grpc, protocol: GRPC}
  endpoints:
  - address: 10.1.0.9
---
`;

const CUSTOM_POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ext-authz
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: CUSTOM
  provider:
    name: PROVIDER
  rules:
  - to:
    - operation:
        paths: ["/admin/*"]
---
`;

function mesh(providers: unknown[]): MeshConfig {
  const r = parseMeshConfig({ extensionProviders: providers });
  if (!r.ok) assert.fail(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.value;
}

interface FilterJson {
  readonly name: string;
  readonly config: unknown;
}

function filters(yaml: string, meshConfig: MeshConfig, o: { proxy?: TestProxyOptions; cls?: ListenerClass; features?: PilotFeatures } = {}): FilterJson[] {
  const { snapshot } = meshFromYaml(yaml, { mesh: meshConfig, ...(o.features !== undefined ? { features: o.features } : {}) });
  const fs = buildCustomAuthzFilters(buildProxyContext(snapshot, testProxy({ namespace: 'foo', labels: { app: 'httpbin' }, ...o.proxy })), o.cls ?? 'sidecar-inbound');
  return fs.map((f) => {
    const a = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    assert.ok(a !== undefined);
    const schema = f.name === 'envoy.filters.http.rbac' ? RBACSchema : ExtAuthzSchema;
    const m = anyUnpack(a, schema);
    assert.ok(m !== undefined);
    return { name: f.name, config: toJson(schema, m, { registry: XDS_REGISTRY }) };
  });
}

const ADMIN_RULE = {
  permissions: [{ andRules: { rules: [{ orRules: { rules: [{ urlPath: { path: { prefix: '/admin/' } } }] } }] } }],
  principals: [{ andIds: { ids: [{ any: true }] } }],
};

const SHADOW_RBAC = (provider: string): FilterJson => ({
  name: 'envoy.filters.http.rbac',
  config: {
    shadowRules: { action: 'DENY', policies: { [`istio-ext-authz-${provider}-ns[foo]-policy[ext-authz]-rule[0]`]: ADMIN_RULE } },
    shadowRulesStatPrefix: 'istio_ext_authz_',
  },
});

const ENABLED_FOR = (provider: string): unknown => ({
  filter: 'envoy.filters.http.rbac',
  path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
  value: { stringMatch: { prefix: `istio-ext-authz-${provider}` } },
});

describe('CUSTOM authorization translation: golden filters', () => {
  it('an HTTP provider with every option', () => {
    const m = mesh([
      {
        name: 'sample-http',
        envoyExtAuthzHttp: {
          service: 'ext-authz.foo.svc.cluster.local',
          port: 8000,
          timeout: '0.5s',
          pathPrefix: '/check',
          failOpen: true,
          statusOnError: '503',
          includeRequestHeadersInCheck: ['x-ext-authz', 'x-prefix-*'],
          includeAdditionalHeadersInCheck: { 'x-b': 'two', 'x-a': 'one' },
          headersToUpstreamOnAllow: ['x-user', '*-suffix'],
          headersToDownstreamOnDeny: ['x-reason'],
          headersToDownstreamOnAllow: ['set-cookie'],
          includeRequestBodyInCheck: { maxRequestBytes: 4096, allowPartialMessage: true },
        },
      },
    ]);
    const got = filters(SERVICES + CUSTOM_POLICY.replace('PROVIDER', 'sample-http'), m);
    const ci = (kind: 'exact' | 'prefix' | 'suffix', v: string): unknown => ({ [kind]: v, ignoreCase: true });
    assert.deepEqual(got, [
      SHADOW_RBAC('sample-http'),
      {
        name: 'envoy.filters.http.ext_authz',
        config: {
          httpService: {
            serverUri: { uri: 'http://ext-authz.foo.svc.cluster.local', cluster: 'outbound|8000||ext-authz.foo.svc.cluster.local', timeout: '0.500s' },
            pathPrefix: '/check',
            authorizationRequest: { headersToAdd: [{ key: 'x-a', value: 'one' }, { key: 'x-b', value: 'two' }] },
            authorizationResponse: {
              allowedUpstreamHeaders: { patterns: [ci('exact', 'x-user'), ci('suffix', '-suffix')] },
              allowedClientHeaders: { patterns: [ci('exact', 'x-reason')] },
              allowedClientHeadersOnSuccess: { patterns: [ci('exact', 'set-cookie')] },
            },
          },
          transportApiVersion: 'V3',
          failureModeAllow: true,
          withRequestBody: { maxRequestBytes: 4096, allowPartialMessage: true },
          statusOnError: { code: 'ServiceUnavailable' },
          filterEnabledMetadata: ENABLED_FOR('sample-http'),
          allowedHeaders: { patterns: [ci('exact', 'x-ext-authz'), ci('prefix', 'x-prefix-')] },
        },
      },
    ]);
  });

  it('a gRPC provider: envoy_grpc to the outbound cluster, authority the hostname, 600s default timeout', () => {
    const m = mesh([{ name: 'sample-grpc', envoyExtAuthzGrpc: { service: 'foo/ext-authz.foo.svc.cluster.local', port: 9000 } }]);
    const got = filters(SERVICES + CUSTOM_POLICY.replace('PROVIDER', 'sample-grpc'), m);
    assert.deepEqual(got, [
      SHADOW_RBAC('sample-grpc'),
      {
        name: 'envoy.filters.http.ext_authz',
        config: {
          grpcService: { envoyGrpc: { clusterName: 'outbound|9000||ext-authz.foo.svc.cluster.local', authority: 'ext-authz.foo.svc.cluster.local' }, timeout: '600s' },
          transportApiVersion: 'V3',
          filterEnabledMetadata: ENABLED_FOR('sample-grpc'),
        },
      },
    ]);
  });

  const denyFallback: { name: string; providers: unknown[] }[] = [
    { name: 'a provider the mesh does not define', providers: [{ name: 'other', envoyExtAuthzGrpc: { service: 'ext-authz.foo.svc.cluster.local', port: 9000 } }] },
    { name: 'no providers at all', providers: [] },
    { name: 'a provider whose service does not exist', providers: [{ name: 'sample', envoyExtAuthzHttp: { service: 'nowhere.foo.svc.cluster.local', port: 8000 } }] },
  ];
  for (const c of denyFallback)
    it(`DENY fallback: ${c.name}`, () => {
      const got = filters(SERVICES + CUSTOM_POLICY.replace('PROVIDER', 'sample'), mesh(c.providers));
      assert.deepEqual(got, [
        {
          name: 'envoy.filters.http.rbac',
          config: { rules: { action: 'DENY', policies: { 'istio-ext-authz-sample-ns[foo]-policy[ext-authz]-rule[0]-deny-due-to-bad-CUSTOM-action': ADMIN_RULE } } },
        },
      ]);
    });
});

describe('CUSTOM authorization translation: who gets the filters', () => {
  const m = mesh([{ name: 'sample', envoyExtAuthzGrpc: { service: 'ext-authz.foo.svc.cluster.local', port: 9000 } }]);
  const yaml = SERVICES + CUSTOM_POLICY.replace('PROVIDER', 'sample');
  const cases: { name: string; proxy?: TestProxyOptions; cls?: ListenerClass; want: string[] }[] = [
    { name: 'a selected sidecar, inbound', want: ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz'] },
    { name: 'outbound listeners: none', cls: 'sidecar-outbound', want: [] },
    { name: 'a workload the selector does not match', proxy: { labels: { app: 'other' } }, want: [] },
    { name: 'a workload in another namespace', proxy: { namespace: 'bar' }, want: [] },
    { name: 'a gateway the selector matches', proxy: { type: 'router' }, cls: 'gateway', want: ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz'] },
    { name: 'proxyless gRPC: none', proxy: { type: 'proxyless' }, want: [] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const got = filters(yaml, m, { ...(c.proxy !== undefined ? { proxy: c.proxy } : {}), ...(c.cls !== undefined ? { cls: c.cls } : {}) });
      assert.deepEqual(
        got.map((f) => f.name),
        c.want,
      );
    });

  it('two providers for one workload: deny-all filters, unless PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS gives each its own pair', () => {
    const providers = mesh([
      { name: 'alpha', envoyExtAuthzHttp: { service: 'ext-authz.foo.svc.cluster.local', port: 8000 } },
      { name: 'zeta', envoyExtAuthzGrpc: { service: 'ext-authz.foo.svc.cluster.local', port: 9000 } },
    ]);
    const yaml = SERVICES + CUSTOM_POLICY.replace('PROVIDER', 'alpha') + CUSTOM_POLICY.replace('PROVIDER', 'zeta').replace('name: ext-authz\n', 'name: ext-authz-2\n');
    const off = filters(yaml, providers);
    assert.deepEqual(off.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.rbac'], 'each provider a deny-all RBAC filter');
    assert.ok(off.every((f) => JSON.stringify(f.config).includes('-deny-due-to-bad-CUSTOM-action')));
    const on = pilotFeaturesFromEnv({ PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS: 'true' });
    assert.deepEqual(on.problems, []);
    const pairs = filters(yaml, providers, { features: on.features });
    assert.deepEqual(pairs.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz', 'envoy.filters.http.rbac', 'envoy.filters.http.ext_authz']);
    assert.match(JSON.stringify(pairs[1]?.config), /"prefix":"istio-ext-authz-alpha"/);
    assert.match(JSON.stringify(pairs[3]?.config), /"prefix":"istio-ext-authz-zeta"/);
  });

  it('no CUSTOM policy: no filters, whatever the providers', () => {
    assert.deepEqual(filters(SERVICES, m), []);
    assert.deepEqual(filters(SERVICES, DEFAULT_MESH_CONFIG), []);
  });

  it('a root-namespace CUSTOM policy applies mesh-wide', () => {
    const root = CUSTOM_POLICY.replace('PROVIDER', 'sample').replace('namespace: foo', 'namespace: istio-system');
    const got = filters(SERVICES + root, m, { proxy: { namespace: 'bar' } });
    assert.deepEqual(
      got.map((f) => f.name),
      ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz'],
    );
  });
});

describe('mesh config extensionProviders validation', () => {
  it('names every bad field', () => {
    const r = parseMeshConfig({
      extensionProviders: [
        { name: 'Bad_Name', envoyExtAuthzHttp: { service: '', port: 0, pathPrefix: 'check', statusOnError: '999', headersToUpstreamOnAllow: ['*'], timeout: 'soon' } },
        { name: 'dup', envoyExtAuthzGrpc: { service: 'a', port: 1 } },
        { name: 'dup', envoyExtAuthzGrpc: { service: 'a', port: 70000 } },
        { envoyExtAuthzGrpc: { service: 'a', port: 1 } },
      ],
    });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.issues.map((i) => `${i.path}: ${i.message}`),
      [
        'extensionProviders[0].name: invalid provider name "Bad_Name": uppercase letters not allowed (use lowercase): character "B" at position 0',
        'extensionProviders[0].envoyExtAuthzHttp.pathPrefix: pathPrefix should begin with `/` but found "check"',
        'extensionProviders[0].envoyExtAuthzHttp.service: service must not be empty',
        'extensionProviders[0].envoyExtAuthzHttp.port: port must be in the range [1, 65535], found: 0',
        'extensionProviders[0].envoyExtAuthzHttp.statusOnError: unsupported statusOnError 999',
        'extensionProviders[0].envoyExtAuthzHttp.timeout: invalid duration "soon": want seconds such as "0.5s"',
        'extensionProviders[0].envoyExtAuthzHttp.headersToUpstreamOnAllow[0]: a single wildcard ("*") is not supported, change it to either prefix or suffix match',
        'extensionProviders[2].name: extension provider name must be unique, found duplicate: dup',
        'extensionProviders[2].envoyExtAuthzGrpc.port: port must be in the range [1, 65535], found: 70000',
        'extensionProviders[3].name: extension provider name must not be empty, found empty at index: 3',
      ],
    );
  });
});
