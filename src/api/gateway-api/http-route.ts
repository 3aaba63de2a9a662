// gateway.networking.k8s.io HTTPRoute: schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_httproutes.yaml, apis/v1/httproute_types.go), including
// the CEL rules on filters, path matches, redirects/rewrites and timeouts with their own messages.
// Named K8sHTTPRoute to keep it apart from Istio's VirtualService HTTPRoute.
// Defaults (API server; resolved by the effective*() helpers): `rules` and a rule's `matches` default to
// one `PathPrefix /` match, a path match's type to PathPrefix and value to `/`, header/query matches to
// Exact, backendRef weight 1, redirect statusCode 302, mirror fraction denominator 100.

import { at, error, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, z } from '../schema.js';
import { durationMs } from '../validation/duration.js';
import {
  BackendRefSchema,
  backendRefIssues,
  GATEWAY_API_GROUP,
  GatewayDurationSchema,
  HeaderNameSchema,
  HTTPHeaderFilterSchema,
  HTTPHeaderMatchSchema,
  headerMatchesIssues,
  HostnameSchema,
  HTTPRequestMirrorFilterSchema,
  listMapIssues,
  listSetIssues,
  LocalObjectReferenceSchema,
  ParentReferenceSchema,
  parentRefsIssues,
  routeFiltersIssues,
  patterned,
  PortNumberSchema,
  PreciseHostnameSchema,
  SectionNameSchema,
  totalMatchesIssues,
} from './common.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

export const HTTPPathMatchSchema = obj({
  type: enumOf(['Exact', 'PathPrefix', 'RegularExpression']).optional(),
  value: z.string().max(1024).optional(),
});
export type HTTPPathMatch = z.infer<typeof HTTPPathMatchSchema>;

export const HTTPQueryParamMatchSchema = obj({
  type: enumOf(['Exact', 'RegularExpression']).optional(),
  name: HeaderNameSchema,
  value: z.string().min(1).max(1024),
});
export type HTTPQueryParamMatch = z.infer<typeof HTTPQueryParamMatchSchema>;

export const HTTPRouteMatchSchema = obj({
  path: HTTPPathMatchSchema.optional(),
  headers: z.array(HTTPHeaderMatchSchema).max(16).optional(),
  queryParams: z.array(HTTPQueryParamMatchSchema).max(16).optional(),
  method: enumOf(HTTP_METHODS).optional(),
});
export type HTTPRouteMatch = z.infer<typeof HTTPRouteMatchSchema>;

export const HTTPPathModifierSchema = obj({
  type: enumOf(['ReplaceFullPath', 'ReplacePrefixMatch']),
  replaceFullPath: z.string().max(1024).optional(),
  replacePrefixMatch: z.string().max(1024).optional(),
});
export type HTTPPathModifier = z.infer<typeof HTTPPathModifierSchema>;

export const HTTPRequestRedirectFilterSchema = obj({
  scheme: enumOf(['http', 'https']).optional(),
  hostname: PreciseHostnameSchema.optional(),
  path: HTTPPathModifierSchema.optional(),
  port: PortNumberSchema.optional(),
  statusCode: z.literal([301, 302, 303, 307, 308]).optional(),
});
export type HTTPRequestRedirectFilter = z.infer<typeof HTTPRequestRedirectFilterSchema>;

export const HTTPURLRewriteFilterSchema = obj({
  hostname: PreciseHostnameSchema.optional(),
  path: HTTPPathModifierSchema.optional(),
});
export type HTTPURLRewriteFilter = z.infer<typeof HTTPURLRewriteFilterSchema>;

const CORS_ORIGIN_PATTERN = '(^\\*$)|(^(http(s)?):\\/\\/(((\\*\\.)?([a-zA-Z0-9\\-]+\\.)*[a-zA-Z0-9-]+|\\*)(:([0-9]{1,5}))?)$)';

export const HTTPCORSFilterSchema = obj({
  allowOrigins: z.array(patterned(CORS_ORIGIN_PATTERN).min(1).max(253)).max(64).optional(),
  allowCredentials: z.boolean().optional(),
  allowMethods: z.array(enumOf([...HTTP_METHODS, '*'])).max(9).optional(),
  allowHeaders: z.array(HeaderNameSchema).max(64).optional(),
  exposeHeaders: z.array(HeaderNameSchema).max(64).optional(),
  maxAge: z.number().int().min(1).max(2147483647).optional(),
});
export type HTTPCORSFilter = z.infer<typeof HTTPCORSFilterSchema>;

export const HTTP_ROUTE_FILTER_TYPES = [
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestMirror',
  'RequestRedirect',
  'URLRewrite',
  'ExtensionRef',
  'CORS',
] as const;

export const HTTPRouteFilterSchema = obj({
  type: enumOf(HTTP_ROUTE_FILTER_TYPES),
  requestHeaderModifier: HTTPHeaderFilterSchema.optional(),
  responseHeaderModifier: HTTPHeaderFilterSchema.optional(),
  requestMirror: HTTPRequestMirrorFilterSchema.optional(),
  requestRedirect: HTTPRequestRedirectFilterSchema.optional(),
  urlRewrite: HTTPURLRewriteFilterSchema.optional(),
  cors: HTTPCORSFilterSchema.optional(),
  extensionRef: LocalObjectReferenceSchema.optional(),
});
export type HTTPRouteFilter = z.infer<typeof HTTPRouteFilterSchema>;

export const HTTPBackendRefSchema = obj({
  ...BackendRefSchema.shape,
  filters: z.array(HTTPRouteFilterSchema).max(16).optional(),
});
export type HTTPBackendRef = z.infer<typeof HTTPBackendRefSchema>;

export const HTTPRouteTimeoutsSchema = obj({
  request: GatewayDurationSchema.optional(),
  backendRequest: GatewayDurationSchema.optional(),
});
export type HTTPRouteTimeouts = z.infer<typeof HTTPRouteTimeoutsSchema>;

export const HTTPRouteRuleSchema = obj({
  name: SectionNameSchema.optional(),
  matches: z.array(HTTPRouteMatchSchema).max(64).optional(),
  filters: z.array(HTTPRouteFilterSchema).max(16).optional(),
  backendRefs: z.array(HTTPBackendRefSchema).max(16).optional(),
  timeouts: HTTPRouteTimeoutsSchema.optional(),
});
export type HTTPRouteRule = z.infer<typeof HTTPRouteRuleSchema>;

export const K8sHTTPRouteSpecSchema = obj({
  parentRefs: z.array(ParentReferenceSchema).max(32).optional(),
  hostnames: z.array(HostnameSchema).max(16).optional(),
  rules: z.array(HTTPRouteRuleSchema).min(1).max(16).optional(),
});
export type K8sHTTPRouteSpec = z.infer<typeof K8sHTTPRouteSpecSchema>;

const BodySchema = obj({ spec: K8sHTTPRouteSpecSchema, status: z.unknown().optional() });
export type K8sHTTPRouteBody = z.infer<typeof BodySchema>;
export type K8sHTTPRoute = Resource<K8sHTTPRouteBody>;

// ---- defaults ----------------------------------------------------------------------------------------

const DEFAULT_MATCH: HTTPRouteMatch = { path: { type: 'PathPrefix', value: '/' } };

/** A rule's matches after defaulting: absent means one `PathPrefix /` match (an explicit `[]` stays empty). */
export function effectiveMatches(rule: HTTPRouteRule): readonly HTTPRouteMatch[] {
  return rule.matches ?? [DEFAULT_MATCH];
}

/** The route's rules after defaulting: absent means one rule with the default match and no backends. */
export function effectiveRules(spec: K8sHTTPRouteSpec): readonly HTTPRouteRule[] {
  return spec.rules ?? [{ matches: [DEFAULT_MATCH] }];
}

/** A match's path after defaulting: type PathPrefix, value `/`. */
export function effectivePath(m: HTTPRouteMatch): { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string } {
  return { type: m.path?.type ?? 'PathPrefix', value: m.path?.value ?? '/' };
}

// ---- checks ------------------------------------------------------------------------------------------

const FIELDS_BY_TYPE: Readonly<Record<string, string>> = {
  CORS: 'cors',
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
};
const NOT_REPEATABLE = ['CORS', 'RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite'] as const;
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

function pathMatchIssues(path: string, m: HTTPRouteMatch): Issue[] {
  const { type, value } = effectivePath(m);
  if (type !== 'Exact' && type !== 'PathPrefix') return [];
  const out: Issue[] = [];
  const p = at(path, 'path');
  const add = (msg: string): void => void out.push(error(p, msg));
  if (!value.startsWith('/')) add("value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']");
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#'])
    if (value.includes(bad)) add(`must not contain '${bad}' when type one of ['Exact', 'PathPrefix']`);
  if (value.endsWith('/..')) add("must not end with '/..' when type one of ['Exact', 'PathPrefix']");
  if (value.endsWith('/.')) add("must not end with '/.' when type one of ['Exact', 'PathPrefix']");
  if (!PATH_CHARS.test(value))
    add(`must only contain valid characters (matching ${PATH_CHARS.source}) for types ['Exact', 'PathPrefix']`);
  return out;
}

function pathModifierIssues(path: string, m: HTTPPathModifier | undefined): Issue[] {
  if (m === undefined) return [];
  const out: Issue[] = [];
  if (m.type === 'ReplaceFullPath' && m.replaceFullPath === undefined)
    out.push(error(path, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'"));
  if (m.replaceFullPath !== undefined && m.type !== 'ReplaceFullPath')
    out.push(error(path, "type must be 'ReplaceFullPath' when replaceFullPath is set"));
  if (m.type === 'ReplacePrefixMatch' && m.replacePrefixMatch === undefined)
    out.push(error(path, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"));
  if (m.replacePrefixMatch !== undefined && m.type !== 'ReplacePrefixMatch')
    out.push(error(path, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set"));
  return out;
}

function corsIssues(path: string, c: HTTPCORSFilter): Issue[] {
  const out: Issue[] = [];
  const wildcard = (list: readonly string[] | undefined, field: string, msg: string): void => {
    if (list !== undefined && list.includes('*') && list.length > 1) out.push(error(at(path, field), msg));
    out.push(...listSetIssues(at(path, field), list));
  };
  // The CRD's messages say "methods" for allowHeaders too.
  wildcard(c.allowOrigins, 'allowOrigins', "AllowOrigins cannot contain '*' alongside other origins");
  wildcard(c.allowMethods, 'allowMethods', "AllowMethods cannot contain '*' alongside other methods");
  wildcard(c.allowHeaders, 'allowHeaders', "AllowHeaders cannot contain '*' alongside other methods");
  out.push(...listSetIssues(at(path, 'exposeHeaders'), c.exposeHeaders));
  return out;
}

/** Checks for one filters list (a rule's or a backendRef's). */
function filtersIssues(path: string, filters: readonly HTTPRouteFilter[] | undefined): Issue[] {
  if (filters === undefined) return [];
  const out: Issue[] = [];
  if (filters.some((f) => f.type === 'RequestRedirect') && filters.some((f) => f.type === 'URLRewrite'))
    out.push(error(path, 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both'));
  out.push(
    ...routeFiltersIssues(path, filters, FIELDS_BY_TYPE, NOT_REPEATABLE, (p, f) => [
      ...(f.requestRedirect !== undefined ? pathModifierIssues(at(at(p, 'requestRedirect'), 'path'), f.requestRedirect.path) : []),
      ...(f.urlRewrite !== undefined ? pathModifierIssues(at(at(p, 'urlRewrite'), 'path'), f.urlRewrite.path) : []),
      ...(f.cors !== undefined ? corsIssues(at(p, 'cors'), f.cors) : []),
    ]),
  );
  return out;
}

const usesPrefixRedirect = (f: HTTPRouteFilter): boolean =>
  f.requestRedirect?.path?.type === 'ReplacePrefixMatch' && f.requestRedirect.path.replacePrefixMatch !== undefined;
const usesPrefixRewrite = (f: HTTPRouteFilter): boolean =>
  f.urlRewrite?.path?.type === 'ReplacePrefixMatch' && f.urlRewrite.path.replacePrefixMatch !== undefined;

function ruleIssues(path: string, rule: HTTPRouteRule): Issue[] {
  const out: Issue[] = [];
  const matches = effectiveMatches(rule);
  const backendRefs = rule.backendRefs ?? [];
  const filters = rule.filters ?? [];
  // CEL on HTTPRouteRule.
  if (backendRefs.length > 0 && filters.some((f) => f.requestRedirect !== undefined))
    out.push(error(path, 'RequestRedirect filter must not be used together with backendRefs'));
  const first = matches[0];
  const onePrefixMatch = matches.length === 1 && first !== undefined && effectivePath(first).type === 'PathPrefix';
  if (!onePrefixMatch) {
    if (filters.some(usesPrefixRedirect))
      out.push(error(path, 'When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'));
    if (filters.some(usesPrefixRewrite))
      out.push(error(path, 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'));
    if (backendRefs.some((b) => (b.filters ?? []).some(usesPrefixRedirect)))
      out.push(
        error(path, 'Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'),
      );
    if (backendRefs.some((b) => (b.filters ?? []).some(usesPrefixRewrite)))
      out.push(
        error(path, 'Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'),
      );
  }
  (rule.matches ?? []).forEach((m, i) => {
    const mp = at(at(path, 'matches'), i);
    out.push(...pathMatchIssues(mp, m));
    out.push(...headerMatchesIssues(at(mp, 'headers'), m.headers));
    out.push(...listMapIssues(at(mp, 'queryParams'), m.queryParams, (q) => q.name));
  });
  out.push(...filtersIssues(at(path, 'filters'), rule.filters));
  backendRefs.forEach((b, i) => {
    const bp = at(at(path, 'backendRefs'), i);
    out.push(...backendRefIssues(bp, b));
    out.push(...filtersIssues(at(bp, 'filters'), b.filters));
  });
  const t = rule.timeouts;
  if (t?.request !== undefined && t.backendRequest !== undefined) {
    const req = durationMs(t.request);
    const back = durationMs(t.backendRequest);
    if (req !== undefined && back !== undefined && req !== 0 && back > req)
      out.push(error(at(path, 'timeouts'), 'backendRequest timeout cannot be longer than request timeout'));
  }
  return out;
}

export function validateK8sHTTPRoute(r: K8sHTTPRoute): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [];
  out.push(...parentRefsIssues('spec.parentRefs', spec.parentRefs));
  (spec.rules ?? []).forEach((rule, i) => out.push(...ruleIssues(at('spec.rules', i), rule)));
  out.push(...totalMatchesIssues('spec.rules', (spec.rules ?? []).map((rule) => effectiveMatches(rule).length)));
  return out;
}

export const HTTP_ROUTE = defineKind<K8sHTTPRouteBody>({
  group: GATEWAY_API_GROUP,
  kind: 'HTTPRoute',
  versions: ['v1', 'v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateK8sHTTPRoute,
});
