// Which workloads a namespaced Istio policy selects by labels (AuthorizationPolicy, PeerAuthentication,
// RequestAuthentication, Telemetry, WasmPlugin, EnvoyFilter): a policy in the workload's own namespace
// or in the mesh's root namespace whose selector the workload's labels satisfy; no selector (or an
// empty one) selects every workload of its namespace, and from the root namespace every workload of the
// mesh (Istio's pilot/pkg/model/policyattachment.go and getPoliciesForWorkload). A policy that names a
// targetRef/targetRefs attaches to gateways and waypoints instead, and selects no workload by label.
// Shared by `isthmus x describe` and the dashboard, so both list the same policies. Pure.

import { selectorMatches } from '../registry/labels.js';
import type { Labels } from '../registry/types.js';

/** How a policy applies: mesh-wide (root namespace, no selector), namespace-wide (no selector), or by its selector. */
export type PolicyLevel = 'mesh' | 'namespace' | 'workload';

export interface PolicyPlacement {
  readonly namespace: string;
  /** matchLabels (or a Sidecar/EnvoyFilter's `labels`); undefined or empty: no selector. */
  readonly selector: Labels | undefined;
  /** The policy names a targetRef or targetRefs. */
  readonly targeted?: boolean;
}

export interface SelectableWorkload {
  readonly namespace: string;
  readonly labels: Labels;
}

/** The level at which the policy applies to the workload; undefined when it does not select it. */
export function policyLevelFor(p: PolicyPlacement, w: SelectableWorkload, rootNamespace: string): PolicyLevel | undefined {
  if (p.targeted === true) return undefined;
  if (p.namespace !== rootNamespace && p.namespace !== w.namespace) return undefined;
  const selector = p.selector ?? {};
  if (Object.keys(selector).length === 0) return p.namespace === rootNamespace ? 'mesh' : 'namespace';
  return selectorMatches(selector, w.labels) ? 'workload' : undefined;
}
