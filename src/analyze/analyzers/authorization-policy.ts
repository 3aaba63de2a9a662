// auth.AuthorizationPoliciesAnalyzer: policies whose selector (or namespace) has no workload (IST0127) and
// source namespaces that do not exist (IST0101).
// Source: istio/istio pkg/config/analysis/analyzers/authz/authorizationpolicies.go. Workloads are Pods and
// pod templates (util.listWorkloads); with none loaded, IST0127 is skipped. Known namespaces are Namespace
// objects plus the namespaces loaded objects live in (util.knownNamespaces).

import { AUTHORIZATION_POLICY } from '../../api/security/authorization-policy.js';
import type { Analyzer } from '../framework.js';
import { knownNamespaces, listWorkloads, selectorMatches, selectorString } from '../util.js';

/** namespaceMatch: `*`, `*suffix`, `prefix*`, else case-insensitive equality. */
export function namespaceMatch(ns: string, exp: string): boolean {
  if (exp === '*') return true;
  if (exp.startsWith('*')) return ns.endsWith(exp.slice(1));
  if (exp.endsWith('*')) return ns.startsWith(exp.slice(0, -1));
  return ns.toLowerCase() === exp.toLowerCase();
}

export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'Checks the validity of authorization policies',
  inputs: ['networking.istio.io/MeshConfig', 'security.istio.io/AuthorizationPolicy', '/Namespace', '/Pod'],
  analyze(ctx) {
    const workloads = listWorkloads(ctx);
    const namespaces = [...knownNamespaces(ctx)];
    const root = ctx.meshConfig.rootNamespace ?? 'istio-system';
    for (const e of ctx.list(AUTHORIZATION_POLICY)) {
      const spec = e.resource.spec;
      const ns = e.resource.metadata.namespace ?? '';
      if (workloads.length > 0) {
        const labels = spec.selector?.matchLabels;
        if (ns === root) {
          // A mesh-wide policy: only a selector can fail to match, anywhere in the mesh.
          if (spec.selector !== undefined && !workloads.some((w) => selectorMatches(labels, w.labels)))
            ctx.report('IST0127', e, [selectorString(labels)]);
        } else if (spec.selector === undefined) {
          if (!workloads.some((w) => w.namespace === ns)) ctx.report('IST0127', e, ['']);
        } else if (!workloads.some((w) => w.namespace === ns && selectorMatches(labels, w.labels))) {
          ctx.report('IST0127', e, [selectorString(labels)]);
        }
      }
      (spec.rules ?? []).forEach((rule, i) =>
        (rule.from ?? []).forEach((from, j) => {
          const src = from.source;
          const all = [...(src?.namespaces ?? []).map((n, k) => ({ n, path: `spec.rules[${i}].from[${j}].source.namespaces[${k}]` })), ...(src?.notNamespaces ?? []).map((n, k) => ({ n, path: `spec.rules[${i}].from[${j}].source.notNamespaces[${k}]` }))];
          for (const { n, path } of all) if (!namespaces.some((x) => namespaceMatch(x, n))) ctx.report('IST0101', e, ['namespace', n], path);
        }),
      );
    }
  },
};
