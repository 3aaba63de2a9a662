// gateway.networking.k8s.io GRPCRoute: schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_grpcroutes.yaml, apis/v1/grpcroute_types.go), including
// the CEL rules on method matches and filters with their own messages.
// Defaults (API server): method match type Exact, header match type Exact, backendRef weight 1.

import { at, error, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, z } from '../schema.js';
import {
  BackendRefSchema,
  backendRefIssues,
  GATEWAY_API_GROUP,
  headerMatchesIssues,
  HostnameSchema,
  HTTPHeaderFilterSchema,
  HTTPHeaderMatchSchema,
  HTTPRequestMirrorFilterSchema,
  LocalObjectReferenceSchema,
  ParentReferenceSchema,
  parentRefsIssues,
  routeFiltersIssues,
  SectionNameSchema,
  totalMatchesIssues,
} from './common.js';

export const GRPCMethodMatchSchema = obj({
  type: enumOf(['Exact', 'RegularExpression']).optional(),
  service: z.string().max(1024).optional(),
  method: z.string().max(1024).optional(),
});
export type GRPCMethodMatch = z.infer<typeof GRPCMethodMatchSchema>;

/** GRPCHeaderMatch has HTTPHeaderMatch's shape. */
export const GRPCHeaderMatchSchema = HTTPHeaderMatchSchema;
export type GRPCHeaderMatch = z.infer<typeof GRPCHeaderMatchSchema>;

export const GRPCRouteMatchSchema = obj({
  method: GRPCMethodMatchSchema.optional(),
  headers: z.array(GRPCHeaderMatchSchema).max(16).optional(),
});
export type GRPCRouteMatch = z.infer<typeof GRPCRouteMatchSchema>;

export const GRPC_ROUTE_FILTER_TYPES = ['ResponseHeaderModifier', 'RequestHeaderModifier', 'RequestMirror', 'ExtensionRef'] as const;

export const GRPCRouteFilterSchema = obj({
  type: enumOf(GRPC_ROUTE_FILTER_TYPES),
  requestHeaderModifier: HTTPHeaderFilterSchema.optional(),
  responseHeaderModifier: HTTPHeaderFilterSchema.optional(),
  requestMirror: HTTPRequestMirrorFilterSchema.optional(),
  extensionRef: LocalObjectReferenceSchema.optional(),
});
export type GRPCRouteFilter = z.infer<typeof GRPCRouteFilterSchema>;

export const GRPCBackendRefSchema = obj({
  ...BackendRefSchema.shape,
  filters: z.array(GRPCRouteFilterSchema).max(16).optional(),
});
export type GRPCBackendRef = z.infer<typeof GRPCBackendRefSchema>;

export const GRPCRouteRuleSchema = obj({
  name: SectionNameSchema.optional(),
  matches: z.array(GRPCRouteMatchSchema).max(64).optional(),
  filters: z.array(GRPCRouteFilterSchema).max(16).optional(),
  backendRefs: z.array(GRPCBackendRefSchema).max(16).optional(),
});
export type GRPCRouteRule = z.infer<typeof GRPCRouteRuleSchema>;

export const GRPCRouteSpecSchema = obj({
  parentRefs: z.array(ParentReferenceSchema).max(32).optional(),
  hostnames: z.array(HostnameSchema).max(16).optional(),
  rules: z.array(GRPCRouteRuleSchema).max(16).optional(),
});
export type GRPCRouteSpec = z.infer<typeof GRPCRouteSpecSchema>;

const BodySchema = obj({ spec: GRPCRouteSpecSchema, status: z.unknown().optional() });
export type GRPCRouteBody = z.infer<typeof BodySchema>;
export type GRPCRoute = Resource<GRPCRouteBody>;

const FIELDS_BY_TYPE: Readonly<Record<string, string>> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
};
const NOT_REPEATABLE = ['RequestHeaderModifier', 'ResponseHeaderModifier'] as const;
const SERVICE_RE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
const METHOD_RE = /^[A-Za-z_][A-Za-z_0-9]*$/;

/** CEL on GRPCMethodMatch (the type is always set after defaulting, so service or method is required). */
function methodMatchIssues(path: string, m: GRPCMethodMatch): Issue[] {
  const out: Issue[] = [];
  if (m.service === undefined && m.method === undefined) out.push(error(path, "One or both of 'service' or 'method' must be specified"));
  if ((m.type ?? 'Exact') === 'Exact') {
    if (m.service !== undefined && !SERVICE_RE.test(m.service))
      out.push(error(path, 'service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)'));
    if (m.method !== undefined && !METHOD_RE.test(m.method))
      out.push(error(path, 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)'));
  }
  return out;
}

function filtersIssues(path: string, filters: readonly GRPCRouteFilter[] | undefined): Issue[] {
  return routeFiltersIssues(path, filters, FIELDS_BY_TYPE, NOT_REPEATABLE);
}

export function validateGRPCRoute(r: GRPCRoute): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [];
  out.push(...parentRefsIssues('spec.parentRefs', spec.parentRefs));
  const rules = spec.rules ?? [];
  rules.forEach((rule, i) => {
    const rp = at('spec.rules', i);
    (rule.matches ?? []).forEach((m, j) => {
      const mp = at(at(rp, 'matches'), j);
      if (m.method !== undefined) out.push(...methodMatchIssues(at(mp, 'method'), m.method));
      out.push(...headerMatchesIssues(at(mp, 'headers'), m.headers));
    });
    out.push(...filtersIssues(at(rp, 'filters'), rule.filters));
    (rule.backendRefs ?? []).forEach((b, j) => {
      const bp = at(at(rp, 'backendRefs'), j);
      out.push(...backendRefIssues(bp, b));
      out.push(...filtersIssues(at(bp, 'filters'), b.filters));
    });
  });
  out.push(...totalMatchesIssues('spec.rules', rules.map((rule) => rule.matches?.length ?? 0)));
  return out;
}

export const GRPC_ROUTE = defineKind<GRPCRouteBody>({
  group: GATEWAY_API_GROUP,
  kind: 'GRPCRoute',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateGRPCRoute,
});
