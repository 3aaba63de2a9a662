// gateway.networking.k8s.io TCPRoute: schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_tcproutes.yaml for v1, the experimental channel's CRD for
// v1alpha2, apis/v1/tcproute_types.go). The versions differ in limits, so those are checked by version:
//   v1:       exactly one rule.
//   v1alpha2: 1..16 rules with unique names; parentRefs may also be told apart by `port`.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { versionOf } from '../resource.js';
import { obj, z } from '../schema.js';
import { backendRefsRulesIssues, BackendRefsRuleSchema, GATEWAY_API_GROUP, ParentReferenceSchema, parentRefsIssues } from './common.js';

/** TCPRouteRule: a name and backendRefs, as TLSRouteRule. */
export const TCPRouteRuleSchema = BackendRefsRuleSchema;
export type TCPRouteRule = z.infer<typeof TCPRouteRuleSchema>;

export const K8sTCPRouteSpecSchema = obj({
  parentRefs: z.array(ParentReferenceSchema).max(32).optional(),
  // maxItems is 1 in v1 and 16 in v1alpha2: checked in validateK8sTCPRoute.
  rules: z.array(TCPRouteRuleSchema).min(1),
});
export type K8sTCPRouteSpec = z.infer<typeof K8sTCPRouteSpecSchema>;

const BodySchema = obj({ spec: K8sTCPRouteSpecSchema, status: z.unknown().optional() });
export type K8sTCPRouteBody = z.infer<typeof BodySchema>;
export type K8sTCPRoute = Resource<K8sTCPRouteBody>;

export function validateK8sTCPRoute(r: K8sTCPRoute): Issue[] {
  const spec = r.spec;
  const alpha = versionOf(r.apiVersion) !== 'v1';
  const out: Issue[] = [];
  out.push(...parentRefsIssues('spec.parentRefs', spec.parentRefs, alpha));
  out.push(...backendRefsRulesIssues('spec.rules', spec.rules, alpha ? 16 : 1, alpha));
  return out;
}

export const TCP_ROUTE = defineKind<K8sTCPRouteBody>({
  group: GATEWAY_API_GROUP,
  kind: 'TCPRoute',
  versions: ['v1', 'v1alpha2'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateK8sTCPRoute,
});
