import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../../../api/load.js';
import { createKindRegistry } from '../../../api/kind.js';
import { ALL_KINDS } from '../../../api/kinds.js';
import { validateObject } from '../../../api/validate.js';
import type { AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import { policiesForWorkload } from './policies-for-workload.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

function policies(yaml: string): AuthorizationPolicy[] {
  const loaded = loadText(yaml, 'test.yaml');
  // The validator the config store runs (validateDocuments is this per document; src/config is off-limits to translate/).
  return loaded.documents.map((d) => {
    const v = validateObject(d.raw, REGISTRY);
    assert.ok(v.ok, JSON.stringify(v.ok ? [] : v.issues));
    return v.resource as AuthorizationPolicy;
  });
}

const ap = (ns: string, name: string, spec: string): string =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}\n---\n`;

const ALL = policies(
  ap('istio-system', 'mesh-deny', '  action: DENY\n  rules: [{}]') +
    ap('istio-system', 'mesh-app-audit', '  action: AUDIT\n  selector: {matchLabels: {app: httpbin}}\n  rules: [{}]') +
    ap('foo', 'ns-allow', '  rules: [{}]') +
    ap('foo', 'httpbin-allow', '  selector: {matchLabels: {app: httpbin, version: v1}}\n  rules: [{}]') +
    ap('foo', 'other-allow', '  selector: {matchLabels: {app: other}}\n  rules: [{}]') +
    ap('foo', 'ext', '  action: CUSTOM\n  provider: {name: opa}\n  rules: [{}]') +
    ap('foo', 'gw-only', '  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n  rules: [{}]') +
    ap('bar', 'bar-allow', '  rules: [{}]'),
);

const names = (ps: readonly AuthorizationPolicy[]): string[] => ps.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

describe('policiesForWorkload', () => {
  const cases: { name: string; ns: string; labels: Record<string, string>; want: Record<'custom' | 'deny' | 'allow' | 'audit', string[]> }[] = [
    {
      name: 'httpbin v1 in foo: root-namespace policies, namespace-wide ones, matching selectors; targetRefs skipped',
      ns: 'foo',
      labels: { app: 'httpbin', version: 'v1', extra: 'x' },
      want: {
        custom: ['foo/ext'],
        deny: ['istio-system/mesh-deny'],
        allow: ['foo/httpbin-allow', 'foo/ns-allow'],
        audit: ['istio-system/mesh-app-audit'],
      },
    },
    {
      name: 'selector mismatch excluded (httpbin v2 does not get httpbin-allow)',
      ns: 'foo',
      labels: { app: 'httpbin', version: 'v2' },
      want: { custom: ['foo/ext'], deny: ['istio-system/mesh-deny'], allow: ['foo/ns-allow'], audit: ['istio-system/mesh-app-audit'] },
    },
    {
      name: 'another namespace: only the root-namespace policies and its own',
      ns: 'bar',
      labels: { app: 'reviews' },
      want: { custom: [], deny: ['istio-system/mesh-deny'], allow: ['bar/bar-allow'], audit: [] },
    },
    {
      name: 'the Gateway API gateway gw in foo: targetRefs naming it attach, as do selector-free and matching policies',
      ns: 'foo',
      labels: { 'gateway.networking.k8s.io/gateway-name': 'gw', app: 'gw-istio' },
      want: { custom: ['foo/ext'], deny: ['istio-system/mesh-deny'], allow: ['foo/gw-only', 'foo/ns-allow'], audit: [] },
    },
    {
      name: 'another Gateway API gateway: a targetRef naming gw does not attach',
      ns: 'foo',
      labels: { 'gateway.networking.k8s.io/gateway-name': 'other' },
      want: { custom: ['foo/ext'], deny: ['istio-system/mesh-deny'], allow: ['foo/ns-allow'], audit: [] },
    },
    {
      name: 'a workload in the root namespace',
      ns: 'istio-system',
      labels: { app: 'httpbin' },
      want: { custom: [], deny: ['istio-system/mesh-deny'], allow: [], audit: ['istio-system/mesh-app-audit'] },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const got = policiesForWorkload(ALL, { namespace: c.ns, labels: c.labels }, 'istio-system');
      assert.deepEqual(
        { custom: names(got.custom), deny: names(got.deny), allow: names(got.allow), audit: names(got.audit) },
        c.want,
      );
    });
});
