// Which RequestAuthentications apply to a proxy, as istiod's AuthenticationPolicies.GetJwtPoliciesForWorkload
// selects them (pilot/pkg/model/authentication.go getConfigsForWorkload; policyattachment.go
// WorkloadPolicyMatcher.ShouldAttachPolicy): policies of the workload's namespace, then of the root
// namespace, each oldest first. A workload that is not a Gateway API gateway (no
// `gateway.networking.k8s.io/gateway-name` label: sidecars and Istio Gateway deployments) takes policies
// whose selector is a subset of its labels and never those with targetRef(s). A Gateway API gateway takes
// selector policies when they name no target (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, on by default)
// and targetRef(s) policies of its own namespace that name its Gateway.

import type { RequestAuthentication } from '../../../api/security/request-authentication.js';
import type { PolicyTargetReference } from '../../../api/istio-common.js';
import type { MeshSnapshot } from '../../../model/snapshot.js';
import { selectorMatches } from '../../../registry/labels.js';

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export interface PolicyWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

function targetRefsOf(ra: RequestAuthentication): readonly PolicyTargetReference[] {
  const refs = ra.spec.targetRefs ?? [];
  return refs.length === 0 && ra.spec.targetRef !== undefined ? [ra.spec.targetRef] : refs;
}

function shouldAttach(ra: RequestAuthentication, w: PolicyWorkload): boolean {
  const gatewayName = w.labels[GATEWAY_NAME_LABEL];
  const refs = targetRefsOf(ra);
  const selected = (): boolean => {
    const sel = ra.spec.selector?.matchLabels;
    return sel === undefined || selectorMatches(sel, w.labels);
  };
  if (gatewayName === undefined) return refs.length === 0 && selected();
  if (refs.length === 0) return selected();
  const policyNs = ra.metadata.namespace ?? 'default';
  if (policyNs !== w.namespace) return false;
  return refs.some((r) => {
    const ns = r.namespace ?? '';
    return (ns === '' || ns === w.namespace) && r.group === GATEWAY_API_GROUP && r.kind === 'Gateway' && r.name === gatewayName;
  });
}

export function requestAuthenticationsForProxy(snapshot: MeshSnapshot, w: PolicyWorkload): RequestAuthentication[] {
  const root = snapshot.mesh.rootNamespace;
  const out: RequestAuthentication[] = [];
  for (const ns of w.namespace === root ? [root] : [w.namespace, root]) for (const ra of snapshot.requestAuthentications(ns)) if (shouldAttach(ra, w)) out.push(ra);
  return out;
}
