import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, toJson } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { loadText } from '../../../api/load.js';
import { createKindRegistry } from '../../../api/kind.js';
import { ALL_KINDS } from '../../../api/kinds.js';
import { validateObject } from '../../../api/validate.js';
import type { AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { RBACSchema as HttpRBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { buildHttpRbac, buildRbacRules, type RbacAction, type RbacBuildOptions } from './build-rbac.js';
import { uriTemplateOf } from './matchers.js';

const REGISTRY = createKindRegistry(ALL_KINDS);
const OPTS: RbacBuildOptions = { trustDomain: 'cluster.local' };

/** Policies from YAML through the real loader and validator (no invalid documents allowed). */
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

function ap(name: string, spec: string, extra = ''): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: foo\n${extra}spec:\n${spec}\n---\n`;
}

function httpJson(yaml: string, action: RbacAction = 'ALLOW', opts: RbacBuildOptions = OPTS): unknown {
  const rbac = buildHttpRbac(policies(yaml), action, opts);
  assert.ok(rbac !== undefined);
  return toJson(HttpRBACSchema, rbac, { registry: XDS_REGISTRY });
}

/** One policy's generated permissions/principals under `rules`. */
function onePolicy(yaml: string, name: string, action: RbacAction = 'ALLOW', opts: RbacBuildOptions = OPTS): unknown {
  const json = httpJson(yaml, action, opts) as { rules?: { policies?: Record<string, unknown> } };
  return json.rules?.policies?.[name];
}

const ANY_POLICY = parse(`
permissions: [{andRules: {rules: [{any: true}]}}]
principals: [{andIds: {ids: [{any: true}]}}]
`);

describe('buildHttpRbac: whole configs as istiod emits them', () => {
  const cases: { name: string; yaml: string; action?: RbacAction; want: string }[] = [
    {
      name: 'allow-all: rules [{}] matches everything',
      yaml: ap('allow-all', '  rules:\n  - {}'),
      want: `
rules:
  policies:
    ns[foo]-policy[allow-all]-rule[0]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'allow-nothing: spec {} becomes a policy that never matches',
      yaml: ap('allow-none', '  {}'),
      want: `
rules:
  policies:
    ns[foo]-policy[allow-none]-rule[0]:
      permissions: [{notRule: {any: true}}]
      principals: [{notId: {any: true}}]
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'deny-all: action DENY',
      yaml: ap('deny-all', '  action: DENY\n  rules:\n  - {}'),
      action: 'DENY',
      want: `
rules:
  action: DENY
  policies:
    ns[foo]-policy[deny-all]-rule[0]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'audit: action LOG',
      yaml: ap('audit', '  action: AUDIT\n  rules:\n  - {}'),
      action: 'AUDIT',
      want: `
rules:
  action: LOG
  policies:
    ns[foo]-policy[audit]-rule[0]:
      permissions: [{andRules: {rules: [{any: true}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'dry-run only: shadow_rules and no enforced rules',
      yaml: ap('dry', '  rules:\n  - to:\n    - operation: {ports: ["80"]}', '  annotations:\n    istio.io/dry-run: "true"\n'),
      want: `
shadowRules:
  policies:
    ns[foo]-policy[dry]-rule[0]:
      permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 80}]}}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
shadowRulesStatPrefix: istio_dry_run_allow_`,
    },
    {
      name: 'dry-run mix (DENY): enforced and shadow side by side, deny stat prefix',
      yaml:
        ap('dry', '  action: DENY\n  rules:\n  - to:\n    - operation: {ports: ["80"]}', '  annotations:\n    istio.io/dry-run: "true"\n') +
        ap('real', '  action: DENY\n  rules:\n  - to:\n    - operation: {ports: ["9000"]}', '  annotations:\n    istio.io/dry-run: "false"\n'),
      action: 'DENY',
      want: `
rules:
  action: DENY
  policies:
    ns[foo]-policy[real]-rule[0]:
      permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 9000}]}}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
shadowRules:
  action: DENY
  policies:
    ns[foo]-policy[dry]-rule[0]:
      permissions: [{andRules: {rules: [{orRules: {rules: [{destinationPort: 80}]}}]}}]
      principals: [{andIds: {ids: [{any: true}]}}]
shadowRulesStatPrefix: istio_dry_run_deny_`,
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(httpJson(c.yaml, c.action), parse(c.want)));

  it('ignores policies of other actions and returns undefined when none has the action', () => {
    const ps = policies(ap('a', '  rules:\n  - {}') + ap('d', '  action: DENY\n  rules:\n  - {}'));
    assert.equal(buildHttpRbac(ps, 'AUDIT', OPTS), undefined);
    const deny = buildHttpRbac(ps, 'DENY', OPTS);
    assert.deepEqual(Object.keys(deny?.rules?.policies ?? {}), ['ns[foo]-policy[d]-rule[0]']);
  });

  it("dryRun: 'enforce' moves dry-run policies into the enforced rules", () => {
    const ps = policies(ap('dry', '  rules:\n  - {}', '  annotations:\n    istio.io/dry-run: "true"\n'));
    const rbac = buildHttpRbac(ps, 'ALLOW', { ...OPTS, dryRun: 'enforce' });
    assert.deepEqual(Object.keys(rbac?.rules?.policies ?? {}), ['ns[foo]-policy[dry]-rule[0]']);
    assert.equal(rbac?.shadowRules, undefined);
  });
});

describe('buildHttpRbac: sources', () => {
  const cases: { name: string; source: string; opts?: RbacBuildOptions; want: string }[] = [
    {
      name: 'principals: exact / prefix / suffix / presence',
      source: 'principals: ["cluster.local/ns/a/sa/b", "pre-*", "*-suf", "*"]',
      want: `
- orIds:
    ids:
    - authenticated: {principalName: {exact: spiffe://cluster.local/ns/a/sa/b}}
    - authenticated: {principalName: {prefix: spiffe://pre-}}
    - authenticated: {principalName: {safeRegex: {regex: 'spiffe://.*-suf'}}}
    - authenticated: {principalName: {safeRegex: {regex: .+}}}`,
    },
    {
      name: 'notPrincipals under notId; a suffix is regex-quoted the Go way',
      source: 'notPrincipals: ["*.example.com/ns/x/sa/y"]',
      want: `
- notId:
    orIds:
      ids:
      - authenticated: {principalName: {safeRegex: {regex: 'spiffe://.*\\.example\\.com/ns/x/sa/y'}}}`,
    },
    {
      name: 'namespaces with wildcards',
      source: 'namespaces: ["ns", "ns-*", "*"]',
      want: `
- orIds:
    ids:
    - authenticated: {principalName: {safeRegex: {regex: '.*/ns/ns/.*'}}}
    - authenticated: {principalName: {safeRegex: {regex: '.*/ns/ns-.*/.*'}}}
    - authenticated: {principalName: {safeRegex: {regex: '.*/ns/.*/.*'}}}`,
    },
    {
      name: 'serviceAccounts default to the policy namespace',
      source: 'serviceAccounts: ["my-ns/my-sa", "sa-only"]',
      want: `
- orIds:
    ids:
    - authenticated: {principalName: {safeRegex: {regex: 'spiffe://.+/ns/my-ns/(.+/|)sa/my-sa(/.+)?'}}}
    - authenticated: {principalName: {safeRegex: {regex: 'spiffe://.+/ns/foo/(.+/|)sa/sa-only(/.+)?'}}}`,
    },
    {
      name: 'ipBlocks -> direct_remote_ip, remoteIpBlocks -> remote_ip (remote first, as Istio orders them)',
      source: 'ipBlocks: ["1.2.3.4", "5.6.0.0/16"]\n            notIpBlocks: ["2001:DB8::1"]\n            remoteIpBlocks: ["10.0.0.0/8"]',
      want: `
- orIds: {ids: [{remoteIp: {addressPrefix: 10.0.0.0, prefixLen: 8}}]}
- orIds:
    ids:
    - directRemoteIp: {addressPrefix: 1.2.3.4, prefixLen: 32}
    - directRemoteIp: {addressPrefix: 5.6.0.0, prefixLen: 16}
- notId: {orIds: {ids: [{directRemoteIp: {addressPrefix: '2001:db8::1', prefixLen: 128}}]}}`,
    },
    {
      name: 'requestPrincipals: iss/sub split on the last slash against jwt_authn payload',
      source: 'requestPrincipals: ["https://issuer.example/sub-1", "*"]',
      want: `
- orIds:
    ids:
    - andIds:
        ids:
        - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: iss}], value: {stringMatch: {exact: 'https://issuer.example'}}}
        - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: sub}], value: {stringMatch: {exact: sub-1}}}
    - andIds:
        ids:
        - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: iss}], value: {stringMatch: {safeRegex: {regex: .+}}}}
        - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: sub}], value: {stringMatch: {safeRegex: {regex: .+}}}}`,
    },
    {
      name: 'trustDomains: exact, presence and wildcard forms',
      source: 'trustDomains: ["td.io", "*", "*.corp"]',
      want: `
- orIds:
    ids:
    - authenticated: {principalName: {prefix: spiffe://td.io/}}
    - authenticated: {principalName: {prefix: 'spiffe://'}}
    - authenticated: {principalName: {safeRegex: {regex: 'spiffe://[^/]*\\.corp/.*'}}}`,
    },
    {
      name: 'trust domain aliases: a cluster.local principal expands to every trust domain',
      source: 'principals: ["cluster.local/ns/foo/sa/bar"]',
      opts: { trustDomain: 'td1', trustDomainAliases: ['td2'] },
      want: `
- orIds:
    ids:
    - authenticated: {principalName: {exact: spiffe://td1/ns/foo/sa/bar}}
    - authenticated: {principalName: {exact: spiffe://td2/ns/foo/sa/bar}}`,
    },
    {
      name: 'useFilterState matches the peer principal in filter state',
      source: 'principals: ["cluster.local/ns/a/sa/b"]',
      opts: { trustDomain: 'cluster.local', useFilterState: true },
      want: `
- orIds:
    ids:
    - filterState: {key: io.istio.peer_principal, stringMatch: {exact: spiffe://cluster.local/ns/a/sa/b}}`,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const yaml = ap('p', `  rules:\n    - from:\n        - source:\n            ${c.source}`);
      assert.deepEqual(onePolicy(yaml, 'ns[foo]-policy[p]-rule[0]', 'ALLOW', c.opts), {
        permissions: parse('[{andRules: {rules: [{any: true}]}}]'),
        principals: [{ andIds: { ids: parse(c.want) } }],
      });
    });
});

describe('buildHttpRbac: operations', () => {
  const cases: { name: string; operation: string; want: string }[] = [
    {
      name: 'hosts: :authority, case-insensitive',
      operation: 'hosts: ["exact.com", "*.suffix.com", "prefix.*", "*"]',
      want: `
- orRules:
    rules:
    - header: {name: ':authority', stringMatch: {exact: exact.com, ignoreCase: true}}
    - header: {name: ':authority', stringMatch: {suffix: .suffix.com, ignoreCase: true}}
    - header: {name: ':authority', stringMatch: {prefix: prefix., ignoreCase: true}}
    - header: {name: ':authority', presentMatch: true}`,
    },
    {
      name: 'methods and notMethods: :method, case-sensitive',
      operation: 'methods: ["GET", "P*"]\n            notMethods: ["*"]',
      want: `
- orRules:
    rules:
    - header: {name: ':method', stringMatch: {exact: GET}}
    - header: {name: ':method', stringMatch: {prefix: P}}
- notRule: {orRules: {rules: [{header: {name: ':method', presentMatch: true}}]}}`,
    },
    {
      name: 'paths: url_path exact / prefix / suffix / presence',
      operation: 'paths: ["/exact", "/prefix/*", "*/suffix", "*"]',
      want: `
- orRules:
    rules:
    - urlPath: {path: {exact: /exact}}
    - urlPath: {path: {prefix: /prefix/}}
    - urlPath: {path: {suffix: /suffix}}
    - urlPath: {path: {safeRegex: {regex: .+}}}`,
    },
    {
      name: 'ports and notPorts: destination_port (after host/method/path)',
      operation: 'ports: ["80", "90"]\n            notPorts: ["8000"]\n            methods: ["GET"]',
      want: `
- orRules: {rules: [{header: {name: ':method', stringMatch: {exact: GET}}}]}
- orRules: {rules: [{destinationPort: 80}, {destinationPort: 90}]}
- notRule: {orRules: {rules: [{destinationPort: 8000}]}}`,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const yaml = ap('p', `  rules:\n    - to:\n        - operation:\n            ${c.operation}`);
      assert.deepEqual(onePolicy(yaml, 'ns[foo]-policy[p]-rule[0]'), {
        permissions: [{ andRules: { rules: parse(c.want) } }],
        principals: parse('[{andIds: {ids: [{any: true}]}}]'),
      });
    });

  it('path templates {*} / {**} become uri_template (uri-template) as newer Istio emits them', () => {
    const ps = policies(ap('p', '  rules:\n    - to:\n        - operation:\n            paths: ["/path/{*}/x", "/{**}/tail"]'));
    const rbac = buildHttpRbac(ps, 'ALLOW', OPTS);
    const perm = rbac?.rules?.policies['ns[foo]-policy[p]-rule[0]']?.permissions[0];
    assert.equal(perm?.rule.case, 'andRules');
    const or = perm?.rule.case === 'andRules' ? perm.rule.value.rules[0] : undefined;
    assert.equal(or?.rule.case, 'orRules');
    const templates = (or?.rule.case === 'orRules' ? or.rule.value.rules : []).map((r) => {
      assert.equal(r.rule.case, 'uriTemplate');
      if (r.rule.case !== 'uriTemplate') return undefined;
      assert.equal(r.rule.value.name, 'uri-template');
      return r.rule.value.typedConfig === undefined ? undefined : uriTemplateOf(r.rule.value.typedConfig);
    });
    assert.deepEqual(templates, ['/path/*/x', '/**/tail']);
  });
});

describe('buildHttpRbac: when conditions', () => {
  const cases: { name: string; when: string; permissions?: string; principals?: string }[] = [
    {
      name: 'request.headers[x] with values and notValues',
      when: 'key: "request.headers[X-header]"\n      values: ["header", "*"]\n      notValues: ["bad-*"]',
      principals: `
- orIds: {ids: [{header: {name: X-header, stringMatch: {exact: header}}}, {header: {name: X-header, presentMatch: true}}]}
- notId: {orIds: {ids: [{header: {name: X-header, stringMatch: {prefix: bad-}}}]}}`,
    },
    { name: 'source.ip', when: 'key: source.ip\n      values: ["10.0.0.0/24"]', principals: '[{orIds: {ids: [{directRemoteIp: {addressPrefix: 10.0.0.0, prefixLen: 24}}]}}]' },
    { name: 'remote.ip', when: 'key: remote.ip\n      values: ["10.1.1.1"]', principals: '[{orIds: {ids: [{remoteIp: {addressPrefix: 10.1.1.1, prefixLen: 32}}]}}]' },
    {
      name: 'source.namespace',
      when: 'key: source.namespace\n      notValues: ["kube-*"]',
      principals: "[{notId: {orIds: {ids: [{authenticated: {principalName: {safeRegex: {regex: '.*/ns/kube-.*/.*'}}}}]}}}]",
    },
    {
      name: 'source.principal',
      when: 'key: source.principal\n      values: ["cluster.local/ns/a/sa/b"]',
      principals: '[{orIds: {ids: [{authenticated: {principalName: {exact: spiffe://cluster.local/ns/a/sa/b}}}]}}]',
    },
    {
      name: 'request.auth.principal (one value: no orIds wrapper)',
      when: 'key: request.auth.principal\n      values: ["iss/sub"]',
      principals: `
- andIds:
    ids:
    - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: iss}], value: {stringMatch: {exact: iss}}}
    - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: sub}], value: {stringMatch: {exact: sub}}}`,
    },
    {
      name: 'request.auth.audiences: list-or-scalar on payload.aud',
      when: 'key: request.auth.audiences\n      values: ["a1", "a2"]',
      principals: `
- metadata:
    filter: envoy.filters.http.jwt_authn
    path: [{key: payload}, {key: aud}]
    value:
      orMatch:
        valueMatchers:
        - listMatch: {oneOf: {orMatch: {valueMatchers: [{stringMatch: {exact: a1}}, {stringMatch: {exact: a2}}]}}}
        - orMatch: {valueMatchers: [{stringMatch: {exact: a1}}, {stringMatch: {exact: a2}}]}`,
    },
    {
      name: 'request.auth.presenter: payload.azp, notValues under notId',
      when: 'key: request.auth.presenter\n      notValues: ["p"]',
      principals: `
- notId:
    metadata:
      filter: envoy.filters.http.jwt_authn
      path: [{key: payload}, {key: azp}]
      value: {orMatch: {valueMatchers: [{listMatch: {oneOf: {stringMatch: {exact: p}}}}, {stringMatch: {exact: p}}]}}`,
    },
    {
      name: 'request.auth.claims[nested1][nested2]: nested payload path',
      when: 'key: "request.auth.claims[nested1][nested2]"\n      values: ["v-*"]',
      principals: `
- metadata:
    filter: envoy.filters.http.jwt_authn
    path: [{key: payload}, {key: nested1}, {key: nested2}]
    value: {orMatch: {valueMatchers: [{listMatch: {oneOf: {stringMatch: {prefix: v-}}}}, {stringMatch: {prefix: v-}}]}}`,
    },
    {
      name: 'destination.ip and destination.port are permissions',
      when: 'key: destination.ip\n      values: ["10.10.10.10"]\n    - key: destination.port\n      notValues: ["9001"]',
      permissions: `
- orRules: {rules: [{destinationIp: {addressPrefix: 10.10.10.10, prefixLen: 32}}]}
- notRule: {orRules: {rules: [{destinationPort: 9001}]}}`,
    },
    {
      name: 'connection.sni: requested_server_name',
      when: 'key: connection.sni\n      values: ["*.example.com", "*"]',
      permissions: '[{orRules: {rules: [{requestedServerName: {suffix: .example.com}}, {requestedServerName: {safeRegex: {regex: .+}}}]}}]',
    },
    {
      name: 'experimental.envoy.filters.*: metadata, [v] matches a list element',
      when: 'key: "experimental.envoy.filters.a.b[c]"\n      values: ["exact", "[item]"]',
      permissions: `
- metadata:
    filter: envoy.filters.a.b
    path: [{key: c}]
    value: {orMatch: {valueMatchers: [{stringMatch: {exact: exact}}, {listMatch: {oneOf: {stringMatch: {exact: item}}}}]}}`,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const yaml = ap('p', `  rules:\n  - when:\n    - ${c.when}`);
      assert.deepEqual(onePolicy(yaml, 'ns[foo]-policy[p]-rule[0]'), {
        permissions: [{ andRules: { rules: c.permissions === undefined ? [{ any: true }] : parse(c.permissions) } }],
        principals: [{ andIds: { ids: c.principals === undefined ? [{ any: true }] : parse(c.principals) } }],
      });
    });

  it('when conditions are ANDed after each from/to, one principal per from', () => {
    const yaml = ap(
      'p',
      '  rules:\n  - from:\n    - source: {namespaces: ["a"]}\n    - source: {namespaces: ["b"]}\n    when:\n    - key: source.ip\n      values: ["1.1.1.1"]',
    );
    const got = onePolicy(yaml, 'ns[foo]-policy[p]-rule[0]') as { principals: unknown[] };
    const ip = { orIds: { ids: [{ directRemoteIp: { addressPrefix: '1.1.1.1', prefixLen: 32 } }] } };
    const ns = (n: string): unknown => ({ orIds: { ids: [{ authenticated: { principalName: { safeRegex: { regex: `.*/ns/${n}/.*` } } } }] } });
    assert.deepEqual(got.principals, [{ andIds: { ids: [ns('a'), ip] } }, { andIds: { ids: [ns('b'), ip] } }]);
  });
});

describe('buildRbacRules', () => {
  it('names one policy per rule and reports nothing skipped for valid HTTP rules', () => {
    const ps = policies(ap('multi', '  rules:\n  - {}\n  - to:\n    - operation: {methods: ["GET"]}'));
    const built = buildRbacRules(ps, 'ALLOW', false, OPTS);
    assert.deepEqual(Object.keys(built.rules?.policies ?? {}), ['ns[foo]-policy[multi]-rule[0]', 'ns[foo]-policy[multi]-rule[1]']);
    assert.deepEqual(built.skipped, []);
    assert.deepEqual(toJson(HttpRBACSchema, create(HttpRBACSchema, built.rules === undefined ? {} : { rules: built.rules }), { registry: XDS_REGISTRY }), {
      rules: { policies: { 'ns[foo]-policy[multi]-rule[0]': ANY_POLICY, 'ns[foo]-policy[multi]-rule[1]': parse("permissions: [{andRules: {rules: [{orRules: {rules: [{header: {name: ':method', stringMatch: {exact: GET}}}]}}]}}]\nprincipals: [{andIds: {ids: [{any: true}]}}]") } },
    });
  });
});
