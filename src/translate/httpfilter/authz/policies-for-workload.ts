// Which AuthorizationPolicies apply to a sidecar workload, bucketed by action, as istiod's
// AuthorizationPolicies.ListAuthorizationPolicies + WorkloadPolicyMatcher.ShouldAttachPolicy select them
// (pilot/pkg/model/authorization.go, policyattachment.go): policies of the root namespace and of the workload's
// namespace; no selector = every workload in that namespace (mesh-wide for the root namespace); a selector must
// be a subset of the workload's labels (in the root namespace: any namespace's workloads).
// Policies with targetRef/targetRefs attach only to Gateway API gateways whose Gateway they name (and to
// waypoints, which Isthmus does not run), never to sidecars (policy-attachment.ts).

import type { AuthorizationPolicy } from '../../../api/security/authorization-policy.js';
import { effectiveAction } from '../../../api/security/authorization-policy.js';
import { shouldAttachPolicy } from '../../policy-attachment.js';

export interface WorkloadPolicies {
  readonly custom: AuthorizationPolicy[];
  readonly deny: AuthorizationPolicy[];
  readonly allow: AuthorizationPolicy[];
  readonly audit: AuthorizationPolicy[];
}

export interface AuthzWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** True when the policy names targets (targetRef or non-empty targetRefs): gateway/waypoint-only. */
export function hasTargetRefs(ap: AuthorizationPolicy): boolean {
  return ap.spec.targetRef !== undefined || (ap.spec.targetRefs?.length ?? 0) > 0;
}

/** Istio's sortConfigByCreationTime: creation time, then name, then namespace. */
function byCreation(a: AuthorizationPolicy, b: AuthorizationPolicy): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.metadata.name !== b.metadata.name) return a.metadata.name < b.metadata.name ? -1 : 1;
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function policiesForWorkload(
  policies: readonly AuthorizationPolicy[],
  workload: AuthzWorkload,
  rootNamespace: string,
): WorkloadPolicies {
  const out: WorkloadPolicies = { custom: [], deny: [], allow: [], audit: [] };
  const namespaces = rootNamespace === workload.namespace ? [rootNamespace] : [rootNamespace, workload.namespace];
  for (const ns of namespaces) {
    const inNs = policies.filter((p) => (p.metadata.namespace ?? 'default') === ns).sort(byCreation);
    for (const p of inNs) {
      if (!shouldAttachPolicy(p, workload)) continue;
      switch (effectiveAction(p)) {
        case 'ALLOW':
          out.allow.push(p);
          break;
        case 'DENY':
          out.deny.push(p);
          break;
        case 'AUDIT':
          out.audit.push(p);
          break;
        case 'CUSTOM':
          out.custom.push(p);
          break;
      }
    }
  }
  return out;
}
