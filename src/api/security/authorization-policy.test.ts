import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { AUTHORIZATION_POLICY, conditionAttributeError, effectiveAction, isDryRun, type AuthorizationPolicy } from './authorization-policy.js';

const K = [AUTHORIZATION_POLICY];
const head = (spec: string, meta = ''): string =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: foo${meta}}\nspec:\n${spec}`;

describe('AuthorizationPolicy', () => {
  it('accepts the Istio docs examples', () => {
    // allow-nothing, allow-all, deny-all
    expectValid(head('  {}\n'), K);
    expectValid(head('  rules:\n  - {}\n'), K);
    expectValid(head('  action: DENY\n  rules:\n  - {}\n'), K);
    // "httpbin" ALLOW example from the AuthorizationPolicy reference
    expectValid(
      head(`  selector:
    matchLabels: {app: httpbin, version: v1}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    - source:
        namespaces: ["test"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*"]
    - operation:
        methods: ["POST"]
        paths: ["/data"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`),
      K,
    );
    // CUSTOM with an ext-authz provider, path templates, ipBlocks and a header condition
    expectValid(
      head(`  action: CUSTOM
  provider: {name: my-ext-authz}
  rules:
  - to:
    - operation:
        paths: ["/admin/{*}/settings", "/api/{**}"]
        ports: ["8080"]
    when:
    - key: request.headers[x-user]
      notValues: ["guest"]
    - key: source.ip
      values: ["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"]
`),
      K,
    );
  });

  it('accepts the v1beta1 alias, targetRefs and serviceAccounts', () => {
    expectValid(
      `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: gw}
spec:
  targetRefs:
  - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}
  rules:
  - from:
    - source: {serviceAccounts: ["default/sleep", "curl"], trustDomains: ["*.local"]}
`,
      K,
    );
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'unknown action', spec: '  action: REJECT\n  rules: [{}]\n', path: 'spec.action', message: 'must be one of ALLOW, DENY, AUDIT, CUSTOM' },
    {
      name: 'CUSTOM without provider name',
      spec: '  action: CUSTOM\n  rules: [{}]\n',
      path: 'spec.provider',
      message: '`provider.name` must not be empty',
    },
    {
      name: 'CUSTOM without rules',
      spec: '  action: CUSTOM\n  provider: {name: x}\n',
      path: 'spec.rules',
      message: 'CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request',
    },
    {
      name: 'CUSTOM with principals',
      spec: '  action: CUSTOM\n  provider: {name: x}\n  rules:\n  - from:\n    - source: {principals: [a]}\n',
      path: 'spec.rules[0].from[0].source.principals',
      message: 'From.Principals is currently not supported with CUSTOM action',
    },
    {
      name: 'CUSTOM with a request.auth condition',
      spec: '  action: CUSTOM\n  provider: {name: x}\n  rules:\n  - when:\n    - {key: "request.auth.claims[iss]", values: [a]}\n',
      path: 'spec.rules[0].when[0].key',
      message: 'request.auth.claims[iss] is currently not supported with CUSTOM action',
    },
    { name: 'provider with ALLOW', spec: '  provider: {name: x}\n  rules: [{}]\n', path: 'spec.provider', message: '`provider` must not be with non CUSTOM action, found ALLOW' },
    { name: 'DENY without rules', spec: '  action: DENY\n', path: 'spec.rules', message: 'DENY action without `rules` is meaningless' },
    { name: 'empty from', spec: '  rules:\n  - from: []\n', path: 'spec.rules[0].from', message: '`from` must not be empty, found at rule 0' },
    { name: 'empty to', spec: '  rules:\n  - {}\n  - to: []\n', path: 'spec.rules[1].to', message: '`to` must not be empty, found at rule 1' },
    { name: 'from without source', spec: '  rules:\n  - from: [{}]\n', path: 'spec.rules[0].from[0].source', message: '`from.source` must not be nil, found at rule 0' },
    { name: 'empty source', spec: '  rules:\n  - from: [{source: {}}]\n', path: 'spec.rules[0].from[0].source', message: '`from.source` must not be empty, found at rule 0' },
    { name: 'to without operation', spec: '  rules:\n  - to: [{}]\n', path: 'spec.rules[0].to[0].operation', message: '`to.operation` must not be nil, found at rule 0' },
    { name: 'empty operation', spec: '  rules:\n  - to: [{operation: {}}]\n', path: 'spec.rules[0].to[0].operation', message: '`to.operation` must not be empty, found at rule 0' },
    {
      name: 'serviceAccounts with namespaces',
      spec: '  rules:\n  - from: [{source: {serviceAccounts: [a], namespaces: [b]}}]\n',
      path: 'spec.rules[0].from[0].source',
      message: 'cannot set serviceAccounts with namespaces or principals, found at rule 0',
    },
    {
      name: 'wildcard service account',
      spec: '  rules:\n  - from: [{source: {serviceAccounts: ["ns/*"]}}]\n',
      path: 'spec.rules[0].from[0].source.serviceAccounts[0]',
      message: 'wildcard not allowed, found in ServiceAccounts',
    },
    {
      name: 'service account with two slashes',
      spec: '  rules:\n  - from: [{source: {notServiceAccounts: ["a/b/c"]}}]\n',
      path: 'spec.rules[0].from[0].source.notServiceAccounts[0]',
      message: `expected format 'serviceAccount' or 'namespace/serviceAccount', found "a/b/c" in NotServiceAccounts`,
    },
    {
      name: 'trust domain with a slash',
      spec: '  rules:\n  - from: [{source: {trustDomains: ["a/b"]}}]\n',
      path: 'spec.rules[0].from[0].source.trustDomains[0]',
      message: `trust domain must not contain '/', found in TrustDomains: "a/b"`,
    },
    {
      name: 'empty principal',
      spec: '  rules:\n  - from: [{source: {principals: [a, ""]}}]\n',
      path: 'spec.rules[0].from[0].source.principals[1]',
      message: 'empty value not allowed, found in Principals',
    },
    {
      name: 'bad CIDR',
      spec: '  rules:\n  - from: [{source: {ipBlocks: ["10.0.0.0/33"]}}]\n',
      path: 'spec.rules[0].from[0].source.ipBlocks[0]',
      message: 'bad CIDR range (10.0.0.0/33): netip.ParsePrefix("10.0.0.0/33"): prefix length out of range',
    },
    {
      name: 'bad IP',
      spec: '  rules:\n  - from: [{source: {notRemoteIpBlocks: ["1.2.3"]}}]\n',
      path: 'spec.rules[0].from[0].source.notRemoteIpBlocks[0]',
      message: 'bad IP address (1.2.3)',
    },
    {
      name: 'bad port',
      spec: '  rules:\n  - to: [{operation: {ports: ["http"]}}]\n',
      path: 'spec.rules[0].to[0].operation.ports[0]',
      message: 'bad port (http): strconv.ParseUint: parsing "http": invalid syntax',
    },
    { name: 'port out of range', spec: '  rules:\n  - to: [{operation: {notPorts: ["70000"]}}]\n', path: 'spec.rules[0].to[0].operation.notPorts[0]', message: 'bad port (70000): <nil>' },
    {
      name: '{**} not last',
      spec: '  rules:\n  - to: [{operation: {paths: ["/foo/{**}/{*}"]}}]\n',
      path: 'spec.rules[0].to[0].operation.paths[0]',
      message: 'invalid or unsupported path foo/{**}/{*}, found in Paths. {**} is not the last operator',
    },
    {
      name: 'brace beyond a template',
      spec: '  rules:\n  - to: [{operation: {notPaths: ["/foo/{*}.txt"]}}]\n',
      path: 'spec.rules[0].to[0].operation.notPaths[0]',
      message: "invalid or unsupported path foo/{*}.txt, found in NotPaths. Contains '{' or '}' beyond a supported path template",
    },
    {
      name: 'invalid literal beside a template',
      spec: '  rules:\n  - to: [{operation: {paths: ["/a b/{*}"]}}]\n',
      path: 'spec.rules[0].to[0].operation.paths[0]',
      message: 'invalid or unsupported path a b/{*}, found in Paths. Contains segment a b with invalid string literal',
    },
    { name: 'empty method', spec: '  rules:\n  - to: [{operation: {methods: [""]}}]\n', path: 'spec.rules[0].to[0].operation.methods[0]', message: 'empty value not allowed, found in Methods' },
    { name: 'condition without key', spec: '  rules:\n  - when: [{values: [a]}]\n', path: 'spec.rules[0].when[0].key', message: '`key` must not be empty' },
    {
      name: 'condition without values',
      spec: '  rules:\n  - when: [{key: source.ip}]\n',
      path: 'spec.rules[0].when[0]',
      message: 'at least one of `values` or `notValues` must be set for key source.ip',
    },
    {
      name: 'unknown condition key',
      spec: '  rules:\n  - when: [{key: source.foo, values: [a]}]\n',
      path: 'spec.rules[0].when[0].values',
      message: 'invalid `value` for `key` source.foo: unknown attribute: source.foo',
    },
    {
      name: 'header key without brackets',
      spec: '  rules:\n  - when: [{key: request.headers, notValues: [a]}]\n',
      path: 'spec.rules[0].when[0].notValues',
      message: 'invalid `notValue` for `key` request.headers: bad key (request.headers): should have format a[b]',
    },
    {
      name: 'bad IP in a condition',
      spec: '  rules:\n  - when: [{key: destination.ip, values: ["x"]}]\n',
      path: 'spec.rules[0].when[0].values',
      message: 'invalid `value` for `key` destination.ip: bad IP address (x)',
    },
    {
      name: 'destination.labels condition',
      spec: '  rules:\n  - when: [{key: "destination.labels[app]", values: [a]}]\n',
      path: 'spec.rules[0].when[0].values',
      message: 'attribute destination.labels[app] is replaced by the workload selector',
    },
    {
      name: 'selector and targetRef',
      spec: '  selector: {matchLabels: {app: a}}\n  targetRef: {kind: Service, name: s}\n',
      path: 'spec',
      message: 'only one of targetRefs or workloadSelector can be set',
    },
    { name: 'unknown field', spec: '  rules:\n  - from: [{source: {principal: [a]}}]\n', path: 'spec.rules[0].from[0].source.principal', message: 'unknown field "principal"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('checks the dry-run annotation', () => {
    const ann = (v: string): string => `, annotations: {"istio.io/dry-run": "${v}"}`;
    expectValid(head('  action: DENY\n  rules: [{to: [{operation: {ports: ["80"]}}]}]\n', ann('true')), K);
    expectInvalid(head('  rules: [{}]\n', ann('yes')), K, [
      {
        path: 'metadata.annotations["istio.io/dry-run"]',
        message: 'foo/ap has annotation istio.io/dry-run with invalid value (yes): strconv.ParseBool: parsing "yes": invalid syntax',
      },
    ]);
    expectInvalid(head('  action: AUDIT\n  rules: [{}]\n', ann('true')), K, [
      { path: 'metadata.annotations["istio.io/dry-run"]', message: 'the annotation istio.io/dry-run currently only supports action ALLOW/DENY, found action AUDIT in foo/ap' },
    ]);
  });

  it('warns about a DENY rule with only HTTP attributes', () => {
    const w = expectValid(head('  action: DENY\n  rules:\n  - to: [{operation: {methods: [POST]}}]\n'), K);
    assert.deepEqual(
      w.map((i) => [i.path, i.message]),
      [
        [
          'spec.rules[0]',
          'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port',
        ],
      ],
    );
    assert.equal(expectValid(head('  action: DENY\n  rules:\n  - from: [{source: {namespaces: [x]}}]\n'), K).length, 0);
  });

  it('reports every problem at once', () => {
    const issues = expectInvalid(head('  action: DENY\n  provider: {name: x}\n  rules:\n  - from: []\n    to: [{operation: {ports: [""]}}]\n'), K, [
      { path: 'spec.provider', message: 'found DENY' },
      { path: 'spec.rules[0].from', message: '`from` must not be empty' },
      { path: 'spec.rules[0].to[0].operation.ports[0]', message: 'bad port ()' },
      { path: 'spec.rules[0].to[0].operation.ports[0]', message: 'empty value not allowed, found in Ports' },
    ]);
    assert.equal(issues.filter((i) => i.severity === 'error').length, 4);
  });

  it('exposes effective action and dry-run', () => {
    const out = validateYaml(head('  rules: [{}]\n', ', annotations: {"istio.io/dry-run": "T"}'), K);
    assert.ok(out.ok);
    const ap = out.resource as AuthorizationPolicy;
    assert.equal(effectiveAction(ap), 'ALLOW');
    assert.equal(isDryRun(ap), true);
    assert.equal(isDryRun({ ...ap, metadata: { name: 'x' } }), false);
    assert.equal(conditionAttributeError('request.auth.claims[groups]', ['admin']), undefined);
    assert.equal(conditionAttributeError('request.auth.claims[]', ['admin']), 'bad key (request.auth.claims[]): should have format a[b]');
    assert.equal(conditionAttributeError('destination.port', ['65536']), 'bad port (65536): <nil>');
    assert.equal(conditionAttributeError('source.serviceAccount', ['ns/']), `expected format 'serviceAccount' or 'namespace/serviceAccount', found empty serviceAccount "ns/" in source.serviceAccount`);
  });
});
