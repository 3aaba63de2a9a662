// One HTTPRoute rule with (at most) one of its matches as a VirtualService HTTP route
// (pilot/pkg/config/kube/gateway/conversion.go convertHTTPRoute, createURIMatch, createHeadersMatch,
// createQueryParamsMatch, createMethodMatch): Istio splits every rule into one route per match so that the
// routes can be sorted by Gateway API precedence afterwards (virtual-services.ts).
// - name: the rule's name, else `<ns>.<route>.<rule index>`;
// - path Exact -> uri exact, PathPrefix -> uri prefix (a trailing `/` dropped), RegularExpression -> regex;
//   headers and query params Exact/RegularExpression; method -> exact;
// - filters (filters.ts), `timeouts.request` -> timeout, `timeouts.backendRequest` -> timeout (Istio has no
//   per-try timeout without a retry policy, so it wins);
// - no backend with weight > 0 and no redirect: a 500 direct response, as the spec requires.
// A ConfigError result fails the whole route (Istio: nothing of the route is applied); `invalid` lists
// problems that leave the rule routing (missing backends, an unusable mirror).

import { at } from '../../lib/issue.js';
import { parseGoDuration } from '../../api/validation/duration.js';
import { effectivePath, type HTTPRouteMatch, type HTTPRouteRule } from '../../api/gateway-api/http-route.js';
import type { HTTPHeaderMatch } from '../../api/gateway-api/common.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch } from '../../api/networking/virtual-service.js';
import { REASON, type ConfigError } from './conditions.js';
import { headerOperations, httpDestinations, isConfigError, weightSum, type BackendScope } from './backends.js';
import { corsOf, mirrorOf, redirectOf, rewriteOf } from './filters.js';

export interface RuleResult {
  readonly route: HTTPRoute;
  readonly invalid: readonly ConfigError[];
}

/** The route's identity for rule names. */
export interface RouteName {
  readonly namespace: string;
  readonly name: string;
}

export function ruleName(rule: { name?: string | undefined }, route: RouteName, pos: number): string {
  return rule.name ?? `${route.namespace}.${route.name}.${pos}`;
}

/** A Gateway API duration as a VirtualService duration (`1.5s`); undefined for zero (disabled). */
export function gatewayDuration(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const p = parseGoDuration(d);
  if (!p.ok || p.ns === 0) return undefined;
  return `${p.ns / 1e9}s`;
}

export function stringMatchMap(list: readonly { type?: 'Exact' | 'RegularExpression' | undefined; name: string; value: string }[] | undefined): Record<string, StringMatch> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const out: Record<string, StringMatch> = {};
  for (const m of list) out[m.name] = (m.type ?? 'Exact') === 'Exact' ? { exact: m.value } : { regex: m.value };
  return out;
}

export function headersMatch(headers: readonly HTTPHeaderMatch[] | undefined): Record<string, StringMatch> | undefined {
  return stringMatchMap(headers);
}

/** createURIMatch and friends. */
function matchRequest(m: HTTPRouteMatch): HTTPMatchRequest {
  const { type, value } = effectivePath(m);
  let uri: StringMatch;
  if (type === 'PathPrefix') uri = { prefix: value !== '/' && value.endsWith('/') ? value.slice(0, -1) : value };
  else if (type === 'Exact') uri = { exact: value };
  else uri = { regex: value };
  const headers = headersMatch(m.headers);
  const queryParams = stringMatchMap(m.queryParams);
  return {
    uri,
    ...(headers !== undefined ? { headers } : {}),
    ...(queryParams !== undefined ? { queryParams } : {}),
    ...(m.method !== undefined ? { method: { exact: m.method } } : {}),
  };
}

/** convertHTTPRoute for rule `pos` at `rulePath` (`spec.rules[i]`), restricted to `match` (undefined: no match). */
export function convertHttpRule(scope: BackendScope, rule: HTTPRouteRule, match: HTTPRouteMatch | undefined, route: RouteName, pos: number, rulePath: string): RuleResult | ConfigError {
  const out: HTTPRoute = { name: ruleName(rule, route, pos) };
  if (match !== undefined) out.match = [matchRequest(match)];
  const invalid: ConfigError[] = [];
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
      case 'RequestRedirect':
        if (f.requestRedirect !== undefined) out.redirect = redirectOf(f.requestRedirect);
        break;
      case 'RequestMirror': {
        if (f.requestMirror === undefined) break;
        const m = mirrorOf(scope, f.requestMirror, at(fp, 'requestMirror'));
        if (isConfigError(m)) invalid.push(m);
        else out.mirrors = [...(out.mirrors ?? []), m];
        break;
      }
      case 'URLRewrite': {
        const rw = f.urlRewrite !== undefined ? rewriteOf(f.urlRewrite) : undefined;
        if (rw !== undefined) out.rewrite = rw;
        else delete out.rewrite;
        break;
      }
      case 'CORS':
        if (f.cors !== undefined) out.corsPolicy = corsOf(f.cors);
        break;
      default:
        return { reason: REASON.InvalidFilter, message: `unsupported filter type ${JSON.stringify(f.type)}`, path: fp };
    }
  }
  const timeout = gatewayDuration(rule.timeouts?.request);
  const backendTimeout = gatewayDuration(rule.timeouts?.backendRequest);
  if (backendTimeout !== undefined) out.timeout = backendTimeout;
  else if (timeout !== undefined) out.timeout = timeout;
  if (weightSum(rule.backendRefs) === 0 && out.redirect === undefined) {
    out.directResponse = { status: 500 };
    return { route: out, invalid };
  }
  if (rule.backendRefs === undefined) return { route: out, invalid };
  const dests = httpDestinations(scope, rule.backendRefs, rulePath);
  if (isConfigError(dests)) return dests;
  out.route = dests.route;
  return { route: out, invalid: [...dests.invalid, ...invalid] };
}
