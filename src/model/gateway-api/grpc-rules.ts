// One GRPCRoute rule with (at most) one of its matches as a VirtualService HTTP route
// (pilot/pkg/config/kube/gateway/conversion.go convertGRPCRoute, createGRPCURIMatch): gRPC calls are
// `POST /<service>/<method>`, so method matches become path matches —
//   Exact: service+method -> uri exact `/<s>/<m>`, service only -> prefix `/<s>/`, method only -> regex `/[^/]+/<m>`;
//   RegularExpression: -> regex `/<s>/<m>`, `/<s>/.+` or `/[^/]+/<m>`.
// Header matches and the header-modifier filters as for HTTPRoute; a mirror that cannot be resolved fails
// the route (unlike HTTPRoute, where it is only left out), as Istio does.

import { at } from '../../lib/issue.js';
import type { GRPCRouteMatch, GRPCRouteRule } from '../../api/gateway-api/grpc-route.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch } from '../../api/networking/virtual-service.js';
import { REASON, type ConfigError } from './conditions.js';
import { headerOperations, httpDestinations, isConfigError, weightSum, type BackendScope } from './backends.js';
import { mirrorOf } from './filters.js';
import { headersMatch, ruleName, type RouteName, type RuleResult } from './http-rules.js';

function grpcUriMatch(m: GRPCRouteMatch, path: string): StringMatch | ConfigError | undefined {
  const mm = m.method;
  if (mm === undefined) return undefined;
  if (mm.method === undefined && mm.service === undefined) {
    return { reason: REASON.InvalidConfiguration, message: 'gRPC match must have method or service defined', path: at(path, 'method') };
  }
  if ((mm.type ?? 'Exact') === 'Exact') {
    if (mm.method === undefined) return { prefix: `/${mm.service ?? ''}/` };
    if (mm.service === undefined) return { regex: `/[^/]+/${mm.method}` };
    return { exact: `/${mm.service}/${mm.method}` };
  }
  if (mm.method === undefined) return { regex: `/${mm.service ?? ''}/.+` };
  if (mm.service === undefined) return { regex: `/[^/]+/${mm.method}` };
  return { regex: `/${mm.service}/${mm.method}` };
}

/** convertGRPCRoute for rule `pos` at `rulePath`, restricted to `match` (undefined: no match). */
export function convertGrpcRule(scope: BackendScope, rule: GRPCRouteRule, match: GRPCRouteMatch | undefined, matchPath: string, route: RouteName, pos: number, rulePath: string): RuleResult | ConfigError {
  const out: HTTPRoute = { name: ruleName(rule, route, pos) };
  if (match !== undefined) {
    const uri = grpcUriMatch(match, matchPath);
    if (isConfigError(uri)) return uri;
    const headers = headersMatch(match.headers);
    const m: HTTPMatchRequest = { ...(uri !== undefined ? { uri } : {}), ...(headers !== undefined ? { headers } : {}) };
    out.match = [m];
  }
  for (const [i, f] of (rule.filters ?? []).entries()) {
    const fp = at(at(rulePath, 'filters'), i);
    switch (f.type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const ops = headerOperations(f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier, fp);
        if (isConfigError(ops)) return ops;
        if (ops === undefined) break;
        out.headers = { ...(out.headers ?? {}), [f.type === 'RequestHeaderModifier' ? 'request' : 'response']: ops };
        break;
      }
      case 'RequestMirror': {
        if (f.requestMirror === undefined) break;
        const m = mirrorOf(scope, f.requestMirror, at(fp, 'requestMirror'));
        if (isConfigError(m)) return m;
        out.mirrors = [...(out.mirrors ?? []), m];
        break;
      }
      default:
        return { reason: REASON.InvalidFilter, message: `unsupported filter type ${JSON.stringify(f.type)}`, path: fp };
    }
  }
  if (weightSum(rule.backendRefs) === 0) {
    out.directResponse = { status: 500 };
    return { route: out, invalid: [] };
  }
  const dests = httpDestinations(scope, rule.backendRefs ?? [], rulePath);
  if (isConfigError(dests)) return dests;
  out.route = dests.route;
  return { route: out, invalid: dests.invalid };
}
