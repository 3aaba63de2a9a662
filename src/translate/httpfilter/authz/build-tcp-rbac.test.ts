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
import { RBACSchema as NetworkRBACSchema } from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { buildRbacRules, buildTcpRbac, type RbacAction } from './build-rbac.js';

const REGISTRY = createKindRegistry(ALL_KINDS);
const OPTS = { trustDomain: 'cluster.local' };

function policies(yaml: string): AuthorizationPolicy[] {
  const loaded = loadText(yaml, 'test.yaml');
  assert.deepEqual(loaded.problems, []);
  // The validator the config store runs (validateDocuments is this per document; src/config is off-limits to translate/).
  return loaded.documents.map((d) => {
    const v = validateObject(d.raw, REGISTRY);
    assert.ok(v.ok, JSON.stringify(v.ok ? [] : v.issues));
    return v.resource as AuthorizationPolicy;
  });
}

function tcpJson(yaml: string, action: RbacAction): unknown {
  const rbac = buildTcpRbac(policies(yaml), action, OPTS);
  assert.ok(rbac !== undefined);
  return toJson(NetworkRBACSchema, rbac, { registry: XDS_REGISTRY });
}

const head = (action: string): string =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n  action: ${action}\n  rules:\n`;

const NS1 = "{orIds: {ids: [{authenticated: {principalName: {safeRegex: {regex: '.*/ns/ns-1/.*'}}}}]}}";

describe('buildTcpRbac: HTTP-only attributes on a TCP filter chain', () => {
  const cases: { name: string; action: RbacAction; rules: string; want: string }[] = [
    {
      name: 'ALLOW: every rule uses an HTTP-only field -> ALLOW with no policies (allows nothing)',
      action: 'ALLOW',
      rules: `
  - from: [{source: {requestPrincipals: ["id-1"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - from: [{source: {namespaces: ["ns-1"]}}]
    to: [{operation: {hosts: ["example.com"]}}]`,
      want: `
rules: {}
statPrefix: tcp.
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'ALLOW: rules with HTTP-only fields are dropped, pure TCP rules kept (names keep their index)',
      action: 'ALLOW',
      rules: `
  - from: [{source: {requestPrincipals: ["id-1"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - from: [{source: {namespaces: ["ns-1"]}}]
    to: [{operation: {ports: ["8080"], methods: ["GET"]}}]
  - from: [{source: {namespaces: ["ns-1"]}}]
    to: [{operation: {ports: ["80"]}}]`,
      want: `
rules:
  policies:
    ns[foo]-policy[p]-rule[2]:
      permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 80}]}}]}}]
      principals: [{andIds: {ids: [${NS1}]}}]
statPrefix: tcp.
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'DENY: HTTP-only fields are dropped and the rule still matches on the rest',
      action: 'DENY',
      rules: `
  - from: [{source: {requestPrincipals: ["id-1"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - from: [{source: {namespaces: ["ns-1"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - from: [{source: {requestPrincipals: ["id-1"]}}]
    to: [{operation: {ports: ["8080"], methods: ["GET"]}}]
  - when:
    - key: "request.headers[:method]"
      values: ["GET"]
    - key: request.auth.claims[iss]
      values: ["x"]
  - when:
    - key: destination.port
      values: ["80"]`,
      want: `
rules:
  action: DENY
  policies:
    ns[foo]-policy[p]-rule[0]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
    ns[foo]-policy[p]-rule[1]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [${NS1}]}}]
    ns[foo]-policy[p]-rule[2]:
      permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 8080}]}}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
    ns[foo]-policy[p]-rule[3]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
    ns[foo]-policy[p]-rule[4]:
      permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 80}]}}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
statPrefix: tcp.
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'AUDIT behaves like DENY (LOG action, HTTP-only fields dropped)',
      action: 'AUDIT',
      rules: `
  - from: [{source: {namespaces: ["ns-1"], requestPrincipals: ["id-1"]}}]`,
      want: `
rules:
  action: LOG
  policies:
    ns[foo]-policy[p]-rule[0]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [${NS1}]}}]
statPrefix: tcp.
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(tcpJson(head(c.action) + c.rules.slice(1), c.action), parse(c.want)));

  it('reports the dropped ALLOW rules with the reason', () => {
    const ps = policies(head('ALLOW') + '  - to: [{operation: {paths: ["/a"]}}]');
    const built = buildRbacRules(ps, 'ALLOW', true, OPTS);
    assert.deepEqual(built.skipped, [
      { name: 'ns[foo]-policy[p]-rule[0]', reason: 'skipped rule ns[foo]-policy[p]-rule[0] on TCP filter chain: "path-matcher" is HTTP only' },
    ]);
  });

  it('the same ALLOW policy on HTTP keeps all its rules', () => {
    const ps = policies(head('ALLOW') + '  - to: [{operation: {paths: ["/a"]}}]');
    assert.deepEqual(buildRbacRules(ps, 'ALLOW', false, OPTS).skipped, []);
  });
});
