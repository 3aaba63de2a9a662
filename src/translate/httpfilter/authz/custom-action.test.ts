import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { loadText } from '../../../api/load.js';
import { createKindRegistry } from '../../../api/kind.js';
import { ALL_KINDS } from '../../../api/kinds.js';
import { validateObject } from '../../../api/validate.js';
import type { AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { RBACSchema as HttpRBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { MetadataMatcherSchema } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import { buildCustomHttpRbac, buildCustomTcpRbac } from './custom-action.js';

const REGISTRY = createKindRegistry(ALL_KINDS);
const OPTS = { trustDomain: 'cluster.local' };

function policies(yaml: string): AuthorizationPolicy[] {
  const loaded = loadText(yaml, 'test.yaml');
  // The validator the config store runs (validateDocuments is this per document; src/config is off-limits to translate/).
  return loaded.documents.map((d) => {
    const v = validateObject(d.raw, REGISTRY);
    assert.ok(v.ok, JSON.stringify(v.ok ? [] : v.issues));
    return v.resource as AuthorizationPolicy;
  });
}

const custom = (name: string, provider: string, path: string): string =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: foo\nspec:\n  action: CUSTOM\n  provider: {name: ${provider}}\n  rules:\n  - to: [{operation: {paths: ["${path}"]}}]\n---\n`;

const pathPolicy = (p: string): string => `
permissions: [{andRules: {rules: [{orRules: {rules: [{urlPath: {path: {exact: ${p}}}}]}}]}}]
principals: [{andIds: {ids: [{any: true}]}}]`;

describe('buildCustomHttpRbac', () => {
  it('one provider: shadow-mode RBAC with istio-ext-authz-<provider> names and the ext_authz enabling matcher', () => {
    const got = buildCustomHttpRbac(policies(custom('httpbin-1', 'default', '/httpbin1') + custom('httpbin-2', 'default', '/httpbin2')), OPTS);
    assert.equal(got.filterName, 'envoy.filters.http.rbac');
    assert.equal(got.plans.length, 1);
    const plan = got.plans[0];
    assert.ok(plan?.kind === 'ext-authz');
    assert.deepEqual(toJson(HttpRBACSchema, plan.rbac, { registry: XDS_REGISTRY }), {
      shadowRules: {
        action: 'DENY',
        policies: {
          'istio-ext-authz-default-ns[foo]-policy[httpbin-1]-rule[0]': parse(pathPolicy('/httpbin1')),
          'istio-ext-authz-default-ns[foo]-policy[httpbin-2]-rule[0]': parse(pathPolicy('/httpbin2')),
        },
      },
      shadowRulesStatPrefix: 'istio_ext_authz_',
    });
    assert.deepEqual(toJson(MetadataMatcherSchema, plan.filterEnabledMetadata), {
      filter: 'envoy.filters.http.rbac',
      path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
      value: { stringMatch: { prefix: 'istio-ext-authz-default' } },
    });
  });

  it('dry-run CUSTOM policies (rejected by validation, handled by istiod anyway) go to rules, still only evaluated', () => {
    const [p] = policies(custom('dry', 'opa', '/d'));
    assert.ok(p !== undefined);
    const dry: AuthorizationPolicy = { ...p, metadata: { ...p.metadata, annotations: { 'istio.io/dry-run': 'true' } } };
    const got = buildCustomHttpRbac([dry], OPTS);
    const plan = got.plans[0];
    assert.ok(plan?.kind === 'ext-authz');
    assert.deepEqual(Object.keys(plan.rbac.rules?.policies ?? {}), ['istio-ext-authz-opa-ns[foo]-policy[dry]-rule[0]']);
    assert.deepEqual(plan.rbac.shadowRules?.policies, {});
  });

  it('several providers without the feature flag: enforcing DENY configs with the bad-CUSTOM suffix, sorted by provider', () => {
    const got = buildCustomHttpRbac(policies(custom('a', 'zeta', '/a') + custom('b', 'alpha', '/b')), OPTS);
    assert.deepEqual(got.plans.map((p) => [p.kind, p.provider]), [['deny', 'alpha'], ['deny', 'zeta']]);
    const first = got.plans[0];
    assert.deepEqual(toJson(HttpRBACSchema, first!.rbac, { registry: XDS_REGISTRY }), {
      rules: { action: 'DENY', policies: { 'istio-ext-authz-alpha-ns[foo]-policy[b]-rule[0]-deny-due-to-bad-CUSTOM-action': parse(pathPolicy('/b')) } },
    });
  });

  it('several providers with the flag: one ext-authz plan each', () => {
    const got = buildCustomHttpRbac(policies(custom('a', 'zeta', '/a') + custom('b', 'alpha', '/b')), { ...OPTS, allowMultipleProviders: true });
    assert.deepEqual(got.plans.map((p) => [p.kind, p.provider]), [['ext-authz', 'alpha'], ['ext-authz', 'zeta']]);
  });

  it('an unknown provider becomes a deny config', () => {
    const got = buildCustomHttpRbac(policies(custom('a', 'missing', '/a')), { ...OPTS, knownProviders: new Set(['opa']) });
    assert.equal(got.plans[0]?.kind, 'deny');
  });

  it('TCP: HTTP-only fields are dropped (CUSTOM evaluates as DENY), stat prefix tcp.', () => {
    const got = buildCustomTcpRbac(policies(custom('a', 'opa', '/a')), OPTS);
    assert.equal(got.filterName, 'envoy.filters.network.rbac');
    const plan = got.plans[0];
    assert.ok(plan?.kind === 'ext-authz');
    assert.equal(plan.rbac.statPrefix, 'tcp.');
    const pol = plan.rbac.shadowRules?.policies['istio-ext-authz-opa-ns[foo]-policy[a]-rule[0]'];
    assert.deepEqual(pol?.permissions.map((p) => p.rule.case), ['andRules']);
    assert.deepEqual(pol?.permissions[0]?.rule.case === 'andRules' ? pol.permissions[0].rule.value.rules.map((r) => r.rule.case) : [], ['any']);
  });
});
