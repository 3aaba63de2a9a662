// Which RequestAuthentications apply to a proxy, as istiod's AuthenticationPolicies.GetJwtPoliciesForWorkload
// selects them (pilot/pkg/model/authentication.go getConfigsForWorkload; policyattachment.go
// WorkloadPolicyMatcher.ShouldAttachPolicy): policies of the workload's namespace, then of the root
// namespace, each oldest first, those that attach to it (policy-attachment.ts).

import type { RequestAuthentication } from '../../../api/security/request-authentication.js';
import type { MeshSnapshot } from '../../../model/snapshot.js';
import { GATEWAY_NAME_LABEL, shouldAttachPolicy, type PolicyWorkload } from '../../policy-attachment.js';

export { GATEWAY_NAME_LABEL, type PolicyWorkload };

export function requestAuthenticationsForProxy(snapshot: MeshSnapshot, w: PolicyWorkload): RequestAuthentication[] {
  const root = snapshot.mesh.rootNamespace;
  const out: RequestAuthentication[] = [];
  for (const ns of w.namespace === root ? [root] : [w.namespace, root]) for (const ra of snapshot.requestAuthentications(ns)) if (shouldAttachPolicy(ra, w)) out.push(ra);
  return out;
}
