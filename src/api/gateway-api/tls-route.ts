// gateway.networking.k8s.io TLSRoute: schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_tlsroutes.yaml for v1 and v1alpha3, the experimental
// channel's CRD for v1alpha2, apis/v1/tlsroute_types.go). The versions differ, so these are by version:
//   v1, v1alpha3: `hostnames` required (1..1024, no IPs) and exactly one rule.
//   v1alpha2:     `hostnames` optional, 1..16 rules with unique names, parentRefs told apart by `port` too.

import { error, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { versionOf } from '../resource.js';
import { obj, z } from '../schema.js';
import { isIPAddress } from '../validation/common.js';
import { backendRefsRulesIssues, BackendRefsRuleSchema, GATEWAY_API_GROUP, HostnameSchema, ParentReferenceSchema, parentRefsIssues } from './common.js';

/** TLSRouteRule: a name and backendRefs, as TCPRouteRule. */
export const TLSRouteRuleSchema = BackendRefsRuleSchema;
export type TLSRouteRule = z.infer<typeof TLSRouteRuleSchema>;

export const K8sTLSRouteSpecSchema = obj({
  parentRefs: z.array(ParentReferenceSchema).max(32).optional(),
  // Required (minItems 1) in v1 and v1alpha3 only: checked in validateK8sTLSRoute.
  hostnames: z.array(HostnameSchema).max(1024).optional(),
  // maxItems is 1 in v1/v1alpha3 and 16 in v1alpha2: checked in validateK8sTLSRoute.
  rules: z.array(TLSRouteRuleSchema).min(1),
});
export type K8sTLSRouteSpec = z.infer<typeof K8sTLSRouteSpecSchema>;

const BodySchema = obj({ spec: K8sTLSRouteSpecSchema, status: z.unknown().optional() });
export type K8sTLSRouteBody = z.infer<typeof BodySchema>;
export type K8sTLSRoute = Resource<K8sTLSRouteBody>;

export function validateK8sTLSRoute(r: K8sTLSRoute): Issue[] {
  const spec = r.spec;
  const v1alpha2 = versionOf(r.apiVersion) === 'v1alpha2';
  const out: Issue[] = [];
  out.push(...parentRefsIssues('spec.parentRefs', spec.parentRefs, v1alpha2));
  if (!v1alpha2) {
    if (spec.hostnames === undefined) out.push(error('spec.hostnames', 'required field is missing'));
    else if (spec.hostnames.length === 0) out.push(error('spec.hostnames', 'must have at least 1 entries'));
    // CEL on hostnames (the other two rules there restate the item pattern).
    else if (spec.hostnames.some((h) => isIPAddress(h))) out.push(error('spec.hostnames', 'Hostnames cannot contain an IP'));
  }
  out.push(...backendRefsRulesIssues('spec.rules', spec.rules, v1alpha2 ? 16 : 1, v1alpha2));
  return out;
}

export const TLS_ROUTE = defineKind<K8sTLSRouteBody>({
  group: GATEWAY_API_GROUP,
  kind: 'TLSRoute',
  versions: ['v1', 'v1alpha2', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateK8sTLSRoute,
});
