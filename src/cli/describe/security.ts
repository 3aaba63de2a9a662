// The security config that applies to a workload, as istioctl's describe reports it:
// - the effective PeerAuthentication (istioctl describePeerAuthentication + Istio's
//   ComposePeerAuthentication, pilot/pkg/security/authn/policy_applier.go): of the policies in the
//   workload's namespace and the root namespace whose selector its labels satisfy (no selector: all), the
//   oldest mesh-level one (root namespace, no selector), then the oldest namespace-level one, then the
//   oldest workload-level one (a selector, outside the root namespace) each override the mode unless
//   UNSET; PERMISSIVE when none sets it. Port-level modes come from the workload-level policy, UNSET
//   inheriting the workload's mode.
// - the AuthorizationPolicies that select it: those in the root namespace (mesh-wide) and in its own
//   namespace whose selector matches, leaving out policies that name a target (targetRef/targetRefs
//   attach to gateways and waypoints, not to sidecars by label).
// Which policies select the workload is src/model/policy-selection.ts, shared with the dashboard.

import { isKind } from '../../api/kind.js';
import { AUTHORIZATION_POLICY, effectiveAction, isDryRun } from '../../api/security/authorization-policy.js';
import { PEER_AUTHENTICATION, type MtlsMode, type PeerAuthentication } from '../../api/security/peer-authentication.js';
import { policyLevelFor } from '../../model/policy-selection.js';
import type { AuthorizationPolicyRef, ConfigInput, MtlsModeName, ObjectRef, PeerAuthenticationSummary, WorkloadInfo } from './types.js';

function refOf(c: ConfigInput, ns: string): ObjectRef {
  return { name: c.resource.metadata.name, namespace: ns, ...(c.origin !== undefined ? { origin: c.origin } : {}) };
}

/** Istio's config order: creation time, then name, then namespace (an unknown time sorts first, as the zero time does). */
function older(a: ConfigInput, b: ConfigInput): number {
  const ka = [a.resource.metadata.creationTimestamp ?? '', a.resource.metadata.name, a.resource.metadata.namespace ?? ''];
  const kb = [b.resource.metadata.creationTimestamp ?? '', b.resource.metadata.name, b.resource.metadata.namespace ?? ''];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] ?? '') < (kb[i] ?? '') ? -1 : 1;
  return 0;
}

function set(mode: MtlsMode | undefined): mode is MtlsModeName {
  return mode !== undefined && mode !== 'UNSET';
}

export function effectivePeerAuthentication(config: readonly ConfigInput[], w: WorkloadInfo, rootNamespace: string): PeerAuthenticationSummary {
  const matched: { c: ConfigInput; pa: PeerAuthentication; ns: string }[] = [];
  for (const c of [...config].sort(older)) {
    if (!isKind(c.resource, PEER_AUTHENTICATION)) continue;
    const pa = c.resource;
    const ns = pa.metadata.namespace ?? 'default';
    if (policyLevelFor({ namespace: ns, selector: pa.spec.selector?.matchLabels }, w, rootNamespace) === undefined) continue;
    matched.push({ c, pa, ns });
  }
  const hasSelector = (pa: PeerAuthentication): boolean => Object.keys(pa.spec.selector?.matchLabels ?? {}).length > 0;
  const mesh = matched.find((m) => !hasSelector(m.pa) && m.ns === rootNamespace);
  const namespace = matched.find((m) => !hasSelector(m.pa) && m.ns !== rootNamespace);
  const workload = matched.find((m) => hasSelector(m.pa) && m.ns !== rootNamespace);
  let mode: MtlsModeName = 'PERMISSIVE';
  for (const level of [mesh, namespace, workload]) {
    const m = level?.pa.spec.mtls?.mode;
    if (set(m)) mode = m;
  }
  const portLevel = Object.entries(workload?.pa.spec.portLevelMtls ?? {})
    .map(([port, m]) => ({ port: Number(port), mode: set(m.mode) ? m.mode : mode }))
    .sort((a, b) => a.port - b.port);
  // istioctl lists the root namespace's policies first, then the workload namespace's.
  const applied = [...matched.filter((m) => m.ns === rootNamespace), ...matched.filter((m) => m.ns !== rootNamespace)].map((m) => refOf(m.c, m.ns));
  return { mode, portLevel, applied };
}

export function appliedAuthorizationPolicies(config: readonly ConfigInput[], w: WorkloadInfo, rootNamespace: string): AuthorizationPolicyRef[] {
  const out: { ref: AuthorizationPolicyRef; root: boolean }[] = [];
  for (const c of config) {
    if (!isKind(c.resource, AUTHORIZATION_POLICY)) continue;
    const ap = c.resource;
    const ns = ap.metadata.namespace ?? 'default';
    const targeted = ap.spec.targetRef !== undefined || (ap.spec.targetRefs ?? []).length > 0;
    if (policyLevelFor({ namespace: ns, selector: ap.spec.selector?.matchLabels, targeted }, w, rootNamespace) === undefined) continue;
    out.push({ ref: { ...refOf(c, ns), action: effectiveAction(ap), dryRun: isDryRun(ap), rules: ap.spec.rules?.length ?? 0 }, root: ns === rootNamespace && ns !== w.namespace });
  }
  return out
    .sort((a, b) => (a.root !== b.root ? (a.root ? -1 : 1) : a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0))
    .map((x) => x.ref);
}
