// networking.istio.io VirtualService: schema, Istio's validation (ValidateVirtualService in istio/istio
// pkg/config/validation/validation.go), the unreachable-rule analysis Istio reports as warnings (reused by
// analyzers IST0130/IST0131), and the `gateways` default. The HTTP route messages live in http-route.ts
// (checked by http-route-validation.ts, http-match.ts, http-headers.ts) and Destination in route-common.ts;
// their types are re-exported here.
// Defaults as Istio applies them: no `gateways` means the `mesh` gateway (all sidecars).

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { exportToIssues } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { int32, obj, stringMap, uint32, z } from '../schema.js';
import { gatewayBoundDomainErrors, ipSubnetErrors, isIPAddress, wildcardDomainErrors } from '../validation/common.js';
import { goQuote } from '../validation/go-format.js';
import { istioLabelsIssues } from '../validation/istio-labels.js';
import { isJwtClaimRoute } from './http-headers.js';
import { HTTPRouteSchema, type HTTPMatchRequest, type HTTPRoute, type StringMatch } from './http-route.js';
import { httpRouteIssues } from './http-route-validation.js';
import { DestinationSchema, gatewayNamesIssues, routeDestinationIssues } from './route-common.js';

export type {
  CorsPolicy,
  Delegate,
  Headers,
  HeaderOperations,
  HTTPBody,
  HTTPDirectResponse,
  HTTPFaultAbort,
  HTTPFaultDelay,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPMirrorPolicy,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  HTTPRouteDestination,
  Percent,
  RegexRewrite,
  StringMatch,
} from './http-route.js';
export type { Destination, PortSelector } from './route-common.js';

/** The reserved gateway name meaning every sidecar in the mesh (constants.IstioMeshGateway). */
export const MESH_GATEWAY = 'mesh';

export const RouteDestinationSchema = obj({ destination: DestinationSchema.optional(), weight: int32.optional() });
export type RouteDestination = z.infer<typeof RouteDestinationSchema>;

export const L4MatchAttributesSchema = obj({
  destinationSubnets: z.array(z.string()).optional(),
  port: uint32.optional(),
  sourceSubnet: z.string().optional(),
  sourceLabels: stringMap.optional(),
  gateways: z.array(z.string()).optional(),
  sourceNamespace: z.string().optional(),
});
export type L4MatchAttributes = z.infer<typeof L4MatchAttributesSchema>;

/** `sniHosts` is REQUIRED in the API; Istio's validator reports a missing one with its own message. */
export const TLSMatchAttributesSchema = obj({
  sniHosts: z.array(z.string()).optional(),
  destinationSubnets: z.array(z.string()).optional(),
  port: uint32.optional(),
  sourceLabels: stringMap.optional(),
  gateways: z.array(z.string()).optional(),
  sourceNamespace: z.string().optional(),
});
export type TLSMatchAttributes = z.infer<typeof TLSMatchAttributesSchema>;

export const TCPRouteSchema = obj({ match: z.array(L4MatchAttributesSchema).optional(), route: z.array(RouteDestinationSchema).optional() });
export type TCPRoute = z.infer<typeof TCPRouteSchema>;

export const TLSRouteSchema = obj({ match: z.array(TLSMatchAttributesSchema).optional(), route: z.array(RouteDestinationSchema).optional() });
export type TLSRoute = z.infer<typeof TLSRouteSchema>;

export const VirtualServiceSpecSchema = obj({
  hosts: z.array(z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  http: z.array(HTTPRouteSchema).optional(),
  tls: z.array(TLSRouteSchema).optional(),
  tcp: z.array(TCPRouteSchema).optional(),
  exportTo: z.array(z.string()).optional(),
});
export type VirtualServiceSpec = z.infer<typeof VirtualServiceSpecSchema>;

const BodySchema = obj({ spec: VirtualServiceSpecSchema.default({}), status: z.unknown().optional() });
export type VirtualServiceBody = z.infer<typeof BodySchema>;
export type VirtualService = Resource<VirtualServiceBody>;

/** The gateways a VirtualService applies to: none listed means `mesh` (virtual_service.proto, `gateways`). */
export function effectiveGateways(vs: { readonly spec: Pick<VirtualServiceSpec, 'gateways'> }): readonly string[] {
  const g = vs.spec.gateways ?? [];
  return g.length === 0 ? [MESH_GATEWAY] : g;
}

// ---------------------------------------------------------------------------------------------------------
// Unreachable rules (analyzeUnreachableHTTPRules / TCP / TLS in validation.go)

export type RouteKind = 'http' | 'tcp' | 'tls';

/** One finding of the unreachable-rule analysis; Istio's AnalysisAwareError types name the two kinds. */
export interface UnreachableRuleFinding {
  /** `VirtualServiceUnreachableRule` (IST0130) or `VirtualServiceIneffectiveMatch` (IST0131). */
  readonly type: 'VirtualServiceUnreachableRule' | 'VirtualServiceIneffectiveMatch';
  readonly routeKind: RouteKind;
  readonly ruleIndex: number;
  /** Istio's label of the rule: the HTTP route's quoted name, else `#<index>`. */
  readonly rule: string;
  readonly matchIndex?: number;
  /** Istio's label of the ineffective match (`"name"`, `#1`, or `#1 of prefix /a` for overlaps). */
  readonly match?: string;
  /** Istio's label of the earlier rule (or match) that shadows this one. */
  readonly dupRule?: string;
  /** Why the rule is not used, or `duplicate/overlapping match` for an ineffective match. */
  readonly reason: string;
  /** Field path of the rule or match, e.g. `spec.http[2].match[0]`. */
  readonly path: string;
  /** Istio's warning text. */
  readonly message: string;
}

function unusedFinding(routeKind: RouteKind, ruleIndex: number, rule: string, reason: string): UnreachableRuleFinding {
  return {
    type: 'VirtualServiceUnreachableRule',
    routeKind,
    ruleIndex,
    rule,
    reason,
    path: at(at('spec', routeKind), ruleIndex),
    message: `virtualService rule ${rule} not used (${reason})`,
  };
}

function ineffectiveFinding(routeKind: RouteKind, ruleIndex: number, rule: string, matchIndex: number, match: string, dupRule: string): UnreachableRuleFinding {
  return {
    type: 'VirtualServiceIneffectiveMatch',
    routeKind,
    ruleIndex,
    rule,
    matchIndex,
    match,
    dupRule,
    reason: 'duplicate/overlapping match',
    path: at(at(at(at('spec', routeKind), ruleIndex), 'match'), matchIndex),
    message: `virtualService rule ${rule} match ${match} is not used (duplicate/overlapping match in rule ${dupRule})`,
  };
}

function httpRuleName(r: HTTPRoute | undefined, n: number): string {
  return r?.name !== undefined && r.name !== '' ? goQuote(r.name) : `#${n}`;
}

function httpMatchName(m: HTTPMatchRequest, n: number): string {
  return m.name !== undefined && m.name !== '' ? goQuote(m.name) : `#${n}`;
}

function canonicalStringMatch(sm: StringMatch): unknown {
  // A StringMatch keeps its oneof member even when empty (`exact: ""`), as Go's json.Marshal does.
  if (sm.exact !== undefined) return { exact: sm.exact };
  if (sm.prefix !== undefined) return { prefix: sm.prefix };
  if (sm.regex !== undefined) return { regex: sm.regex };
  return {};
}

/**
 * Istio compares matches by their JSON (asJSON, without the match name): proto3 zero values are omitted and
 * map keys sorted. This is the same identity with our values.
 */
function canonicalMatch(m: Readonly<Record<string, unknown>>, stringMatchFields: ReadonlySet<string>, stringMatchMaps: ReadonlySet<string>): string {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m).sort()) {
    const v = m[k];
    if (k === 'name' || v === undefined || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (stringMatchFields.has(k)) out[k] = canonicalStringMatch(v as StringMatch);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (entries.length === 0) continue;
      out[k] = entries.map(([ek, ev]) => [ek, stringMatchMaps.has(k) ? canonicalStringMatch(ev as StringMatch) : ev]);
    } else out[k] = v;
  }
  return JSON.stringify(out);
}

const HTTP_SM_FIELDS: ReadonlySet<string> = new Set(['uri', 'scheme', 'method', 'authority']);
const HTTP_SM_MAPS: ReadonlySet<string> = new Set(['headers', 'queryParams', 'withoutHeaders']);
const NONE: ReadonlySet<string> = new Set();

interface PrefixMatch {
  readonly ruleIndex: number;
  readonly matchIndex: number;
  readonly routeStr: string;
  readonly matchStr: string;
  readonly prefix: string;
  readonly port: number;
  readonly method: string;
  readonly authority: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly queryParams: ReadonlyMap<string, string>;
  readonly withoutHeaders: ReadonlyMap<string, string>;
}

function exactOrPrefix(sm: StringMatch | undefined): string {
  if ((sm?.exact ?? '') !== '') return `exact:${sm?.exact ?? ''}`;
  if ((sm?.prefix ?? '') !== '') return `prefix:${sm?.prefix ?? ''}`;
  return '';
}

/** genMatchHTTPRoutes: only URI-prefix matches take part in the overlap check. */
function prefixMatch(route: HTTPRoute, m: HTTPMatchRequest, ruleIndex: number, matchIndex: number): PrefixMatch | undefined {
  const prefix = m.uri?.prefix ?? '';
  if (prefix === '') return undefined;
  const toMap = (r: Readonly<Record<string, StringMatch>> | undefined): Map<string, string> =>
    new Map(Object.entries(r ?? {}).map(([k, v]) => [k, exactOrPrefix(v)]));
  const method = exactOrPrefix(m.method);
  return {
    ruleIndex,
    matchIndex,
    routeStr: httpRuleName(route, ruleIndex),
    matchStr: httpMatchName(m, matchIndex),
    prefix,
    port: m.port ?? 0,
    // No method means GET for this comparison (Istio's choice, see istio/istio#32701).
    method: method === '' ? 'exact:GET' : method,
    authority: exactOrPrefix(m.authority),
    headers: toMap(m.headers),
    queryParams: toMap(m.queryParams),
    withoutHeaders: toMap(m.withoutHeaders),
  };
}

function mapCovered(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, av] of a) {
    const bv = b.get(k);
    if (bv === undefined) return false;
    if (av !== bv && !av.startsWith(bv)) return false;
  }
  return true;
}

/** coveredValidation: does earlier match `a` catch everything later match `b` would? */
function covered(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix)) return false;
  if (b.port !== a.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  return mapCovered(a.headers, b.headers) && mapCovered(a.queryParams, b.queryParams) && mapCovered(a.withoutHeaders, b.withoutHeaders);
}

function analyzeRules(
  routeKind: RouteKind,
  routes: readonly { readonly match?: readonly Readonly<Record<string, unknown>>[] | undefined }[],
  ruleName: (n: number) => string,
  matchName: (m: Readonly<Record<string, unknown>>, n: number) => string,
  onNewMatch: (ruleIndex: number, matchIndex: number) => void,
): UnreachableRuleFinding[] {
  const out: UnreachableRuleFinding[] = [];
  const seen = new Map<string, number>();
  let emptyMatchAt = -1;
  const smFields = routeKind === 'http' ? HTTP_SM_FIELDS : NONE;
  const smMaps = routeKind === 'http' ? HTTP_SM_MAPS : NONE;
  for (const [n, route] of routes.entries()) {
    const matches = route.match ?? [];
    if (matches.length === 0) {
      if (emptyMatchAt >= 0) out.push(unusedFinding(routeKind, n, ruleName(n), 'only the last rule can have no matches'));
      emptyMatchAt = n;
      continue;
    }
    let dups = 0;
    for (const [mn, m] of matches.entries()) {
      if (emptyMatchAt >= 0) {
        out.push(unusedFinding(routeKind, n, ruleName(n), 'route without matches defined before'));
        continue;
      }
      const key = canonicalMatch(m, smFields, smMaps);
      const dup = seen.get(key);
      if (dup !== undefined) {
        out.push(ineffectiveFinding(routeKind, n, ruleName(n), mn, matchName(m, mn), ruleName(dup)));
        dups++;
        continue;
      }
      seen.set(key, n);
      onNewMatch(n, mn);
    }
    if (dups === matches.length) out.push(unusedFinding(routeKind, n, ruleName(n), 'all matches used by prior rules'));
  }
  return out;
}

/**
 * Rules and matches of a VirtualService that can never be used: a rule after a catch-all rule, a match
 * identical to an earlier one, and (HTTP) a URI-prefix match covered by an earlier, shorter prefix with the
 * same other conditions. Istio reports these as warnings; analyzers IST0130/IST0131 reuse the findings.
 */
export function unreachableRules(spec: VirtualServiceSpec): UnreachableRuleFinding[] {
  const http = spec.http ?? [];
  const prefixes: PrefixMatch[] = [];
  const out = analyzeRules(
    'http',
    http,
    (n) => httpRuleName(http[n], n),
    (m, n) => httpMatchName(m as HTTPMatchRequest, n),
    (n, mn) => {
      const route = http[n];
      const m = route?.match?.[mn];
      const p = route !== undefined && m !== undefined ? prefixMatch(route, m, n, mn) : undefined;
      if (p !== undefined) prefixes.push(p);
    },
  );
  for (let i = 0; i < prefixes.length; i++) {
    const a = prefixes[i] as PrefixMatch;
    for (let j = i + 1; j < prefixes.length; j++) {
      const b = prefixes[j] as PrefixMatch;
      if (b.prefix === a.prefix) continue; // exact duplicates were reported above
      if (covered(a, b))
        out.push(
          ineffectiveFinding('http', b.ruleIndex, b.routeStr, b.matchIndex, `${b.matchStr} of prefix ${b.prefix}`, `${a.matchStr} of prefix ${a.prefix} on ${a.routeStr}`),
        );
    }
  }
  const plain = (n: number): string => `#${n}`;
  const plainMatch = (_m: unknown, n: number): string => `#${n}`;
  out.push(...analyzeRules('tcp', spec.tcp ?? [], plain, plainMatch, () => undefined));
  out.push(...analyzeRules('tls', spec.tls ?? [], plain, plainMatch, () => undefined));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Validation

const ROUTE_SEMANTICS_ANNOTATION = 'internal.istio.io/route-semantics';

/** SubsetOf in pkg/config/host/name.go: every name `a` matches is also matched by `b`. */
function hostSubsetOf(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw) return bw && a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Matches in pkg/config/host/name.go: the two names have some host in common. */
function hostsMatch(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

function tlsRouteIssues(path: string, tls: TLSRoute, spec: VirtualServiceSpec, boundToGateway: boolean, gatewaySemantics: boolean): Issue[] {
  const out: Issue[] = [];
  if ((tls.match?.length ?? 0) === 0) out.push(error(at(path, 'match'), 'TLS route must have at least one match condition'));
  for (const [j, m] of (tls.match ?? []).entries()) {
    const mp = at(at(path, 'match'), j);
    if ((m.sniHosts?.length ?? 0) === 0) out.push(error(at(mp, 'sniHosts'), 'TLS match must have at least one SNI host'));
    for (const [k, sni] of (m.sniHosts ?? []).entries()) out.push(...sniHostIssues(at(at(mp, 'sniHosts'), k), sni, spec, boundToGateway));
    for (const [k, s] of (m.destinationSubnets ?? []).entries()) for (const e of ipSubnetErrors(s)) out.push(error(at(at(mp, 'destinationSubnets'), k), e));
    if ((m.port ?? 0) !== 0) out.push(...portIssue(at(mp, 'port'), m.port ?? 0));
    out.push(...istioLabelsIssues(at(mp, 'sourceLabels'), m.sourceLabels));
    out.push(...gatewayNamesIssues(at(mp, 'gateways'), m.gateways, false, true));
  }
  if ((tls.route?.length ?? 0) === 0) out.push(error(at(path, 'route'), 'TLS route is required'));
  out.push(...routeDestinationIssues(at(path, 'route'), tls.route, gatewaySemantics));
  return out;
}

/** validateSniHost: a valid (wildcard) domain within one of the VirtualService's hosts; an IP is only warned about. */
function sniHostIssues(path: string, sni: string, spec: VirtualServiceSpec, boundToGateway: boolean): Issue[] {
  const errs = boundToGateway ? gatewayBoundDomainErrors(true, sni) : wildcardDomainErrors(sni);
  if (errs.length > 0) {
    if (isIPAddress(sni)) return [warning(path, `using an IP address (${goQuote(sni)}) goes against SNI spec and most clients do not support this`)];
    return errs.map((m) => error(path, m));
  }
  const hosts = spec.hosts ?? [];
  if (hosts.some((h) => hostSubsetOf(sni, h))) return [];
  return [error(path, `SNI host ${goQuote(sni)} is not a compatible subset of any of the virtual service hosts: [${hosts.join(', ')}]`)];
}

function portIssue(path: string, port: number): Issue[] {
  return port >= 1 && port <= 65535 ? [] : [error(path, `port number ${port} must be in the range 1..65535`)];
}

function tcpRouteIssues(path: string, tcp: TCPRoute, gatewaySemantics: boolean): Issue[] {
  const out: Issue[] = [];
  for (const [j, m] of (tcp.match ?? []).entries()) {
    const mp = at(at(path, 'match'), j);
    for (const [k, s] of (m.destinationSubnets ?? []).entries()) for (const e of ipSubnetErrors(s)) out.push(error(at(at(mp, 'destinationSubnets'), k), e));
    if ((m.port ?? 0) !== 0) out.push(...portIssue(at(mp, 'port'), m.port ?? 0));
    out.push(...istioLabelsIssues(at(mp, 'sourceLabels'), m.sourceLabels));
    out.push(...gatewayNamesIssues(at(mp, 'gateways'), m.gateways, false, false));
  }
  if ((tcp.route?.length ?? 0) === 0) out.push(error(at(path, 'route'), 'TCP route is required'));
  out.push(...routeDestinationIssues(at(path, 'route'), tcp.route, gatewaySemantics));
  return out;
}

export function validateVirtualService(r: VirtualService, ctx?: { readonly namespace: string | undefined }): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [];
  const hosts = spec.hosts ?? [];
  const gateways = spec.gateways ?? [];
  const http = spec.http ?? [];
  const tls = spec.tls ?? [];
  const tcp = spec.tcp ?? [];

  if (hosts.length === 0) {
    // No hosts: a delegate VirtualService, which only carries HTTP routes.
    if (gateways.length > 0) out.push(error('spec.gateways', 'delegate virtual service must have no gateways specified'));
    if (tls.length > 0) out.push(error('spec.tls', 'delegate virtual service must have no tls route specified'));
    if (tcp.length > 0) out.push(error('spec.tcp', 'delegate virtual service must have no tcp route specified'));
  }
  const gatewaySemantics = r.metadata.annotations?.[ROUTE_SEMANTICS_ANNOTATION] === 'gateway';

  let appliesToMesh = true;
  let appliesToGateway = false;
  if (gateways.length > 0) {
    out.push(...gatewayNamesIssues('spec.gateways', gateways, gatewaySemantics, true));
    appliesToGateway = !gateways.includes(MESH_GATEWAY);
    appliesToMesh = !appliesToGateway;
  }

  if (!appliesToGateway) {
    for (const [i, h] of http.entries()) {
      for (const [j, m] of (h.match ?? []).entries()) {
        for (const f of ['headers', 'withoutHeaders'] as const) {
          for (const key of Object.keys(m[f] ?? {})) {
            if (isJwtClaimRoute(key))
              out.push(
                error(
                  at(at(at(at(at('spec.http', i), 'match'), j), f), key),
                  `JWT claim based routing (key: ${key}) is only supported for gateway, found no gateways: [${gateways.join(' ')}]`,
                ),
              );
          }
        }
      }
    }
  }

  const sni = tls.some((t) => (t.match ?? []).some((m) => (m.sniHosts?.length ?? 0) > 0));
  let allHostsValid = true;
  for (const [i, h] of hosts.entries()) {
    const errs = appliesToGateway ? gatewayBoundDomainErrors(sni, h) : wildcardDomainErrors(h);
    if (errs.length > 0) {
      if (!isIPAddress(h)) {
        for (const m of errs) out.push(error(at('spec.hosts', i), m));
        allHostsValid = false;
      }
    } else if (appliesToMesh && h === '*') {
      out.push(error(at('spec.hosts', i), 'wildcard host * is not allowed for virtual services bound to the mesh gateway'));
      allHostsValid = false;
    }
  }
  // Literal and wildcard duplicates (`*.foo.com` and `*.com`) alike.
  if (allHostsValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        const a = hosts[i] ?? '';
        const b = hosts[j] ?? '';
        if (hostsMatch(a, b)) out.push(error(at('spec.hosts', j), `duplicate hosts in virtual service: ${a} & ${b}`));
      }
    }
  }

  if (http.length === 0 && tcp.length === 0 && tls.length === 0) out.push(error('spec', 'http, tcp or tls must be provided in virtual service'));
  for (const [i, h] of http.entries()) out.push(...httpRouteIssues(at('spec.http', i), h, { delegate: hosts.length === 0, gatewaySemantics }));
  // validateSniHost's isGateway(): true unless `mesh` is listed, so also when no gateway is listed at all.
  const sniBoundToGateway = !gateways.includes(MESH_GATEWAY);
  for (const [i, t] of tls.entries()) out.push(...tlsRouteIssues(at('spec.tls', i), t, spec, sniBoundToGateway, gatewaySemantics));
  for (const [i, t] of tcp.entries()) out.push(...tcpRouteIssues(at('spec.tcp', i), t, gatewaySemantics));

  const namespace = ctx?.namespace ?? r.metadata.namespace ?? 'default';
  out.push(...exportToIssues('spec.exportTo', namespace, spec.exportTo));

  for (const f of unreachableRules(spec)) out.push(warning(f.path, f.message));
  return out;
}

export const VIRTUAL_SERVICE = defineKind<VirtualServiceBody>({
  group: 'networking.istio.io',
  kind: 'VirtualService',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateVirtualService,
});
