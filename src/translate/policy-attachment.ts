// Whether a workload-scoped policy (AuthorizationPolicy, RequestAuthentication, ...) attaches to a proxy, as
// istiod's WorkloadPolicyMatcher.ShouldAttachPolicy decides (pilot/pkg/model/policyattachment.go). A workload
// that is not a Gateway API gateway (no `gateway.networking.k8s.io/gateway-name` label: sidecars and Istio
// Gateway deployments) takes policies whose selector is a subset of its labels and never those with
// targetRef(s). A Gateway API gateway takes selector policies when they name no target
// (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, on by default) and targetRef(s) policies of its own namespace that
// name its Gateway.

import type { PolicyTargetReference } from '../api/istio-common.js';
import { selectorMatches } from '../registry/labels.js';

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export interface PolicyWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The parts of a policy attachment reads. */
export interface AttachablePolicy {
  readonly metadata: { readonly namespace?: string | undefined };
  readonly spec: {
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> | undefined } | undefined;
    readonly targetRef?: PolicyTargetReference | undefined;
    readonly targetRefs?: readonly PolicyTargetReference[] | undefined;
  };
}

function targetRefsOf(p: AttachablePolicy): readonly PolicyTargetReference[] {
  const refs = p.spec.targetRefs ?? [];
  return refs.length === 0 && p.spec.targetRef !== undefined ? [p.spec.targetRef] : refs;
}

export function shouldAttachPolicy(p: AttachablePolicy, w: PolicyWorkload): boolean {
  const gatewayName = w.labels[GATEWAY_NAME_LABEL];
  const refs = targetRefsOf(p);
  const selected = (): boolean => {
    const sel = p.spec.selector?.matchLabels;
    return sel === undefined || selectorMatches(sel, w.labels);
  };
  if (gatewayName === undefined) return refs.length === 0 && selected();
  if (refs.length === 0) return selected();
  if ((p.metadata.namespace ?? 'default') !== w.namespace) return false;
  return refs.some((r) => {
    const ns = r.namespace ?? '';
    return (ns === '' || ns === w.namespace) && r.group === GATEWAY_API_GROUP && r.kind === 'Gateway' && r.name === gatewayName;
  });
}
