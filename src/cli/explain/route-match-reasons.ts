// Why a route does or does not match a request, condition by condition. The compiled route table only
// answers "which route", so each condition of a RouteMatch (path specifier, each header, each query
// parameter, grpc, runtime fraction) is compiled alone with the proxy's own matchers
// (compileRouteMatch, compileHeaderMatcher, compileQueryParameterMatcher) and run against the same
// RequestView the table uses; the route's verdict is the whole match compiled by the proxy, so the
// reasons can never disagree with what the proxy does.

import { create } from '@bufbuild/protobuf';
import { RouteMatchSchema, type HeaderMatcher, type QueryParameterMatcher, type RouteMatch } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { compileRouteMatch, isGrpcRequest } from '../../proxy/http/route/route-match.js';
import { compileHeaderMatcher, compileQueryParameterMatcher } from '../../proxy/http/route/header-matcher.js';
import { compileFraction, ALWAYS } from '../../proxy/http/route/proto-values.js';
import type { RequestView } from '../../proxy/http/route/request-view.js';

export type Tri = 'yes' | 'no' | 'sometimes';

export interface ConditionResult {
  /** `prefix "/reviews"`, `header end-user exact "jason"`. */
  readonly condition: string;
  readonly result: Tri;
  /** What the request has: `header end-user is absent`, `path is "/ratings"`. */
  readonly why: string;
}

export interface RouteMatchExplanation {
  readonly matched: Tri;
  readonly conditions: readonly ConditionResult[];
}

function q(s: string): string {
  return JSON.stringify(s);
}

export function describeStringMatcher(m: StringMatcher | undefined): string {
  if (m === undefined) return 'any value';
  const ic = m.ignoreCase ? ' (ignoring case)' : '';
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact':
      return `exact ${q(p.value)}${ic}`;
    case 'prefix':
      return `prefix ${q(p.value)}${ic}`;
    case 'suffix':
      return `suffix ${q(p.value)}${ic}`;
    case 'contains':
      return `contains ${q(p.value)}${ic}`;
    case 'safeRegex':
      return `regex ${q(p.value.regex)}`;
    case 'custom':
      return `custom matcher ${p.value.name}`;
    case undefined:
      return 'any value';
  }
}

function describeHeader(h: HeaderMatcher): string {
  const s = h.headerMatchSpecifier;
  let what: string;
  switch (s.case) {
    case 'exactMatch':
      what = `exact ${q(s.value)}`;
      break;
    case 'prefixMatch':
      what = `prefix ${q(s.value)}`;
      break;
    case 'suffixMatch':
      what = `suffix ${q(s.value)}`;
      break;
    case 'containsMatch':
      what = `contains ${q(s.value)}`;
      break;
    case 'safeRegexMatch':
      what = `regex ${q(s.value.regex)}`;
      break;
    case 'rangeMatch':
      what = `in range [${s.value.start}, ${s.value.end})`;
      break;
    case 'presentMatch':
      what = s.value ? 'present' : 'absent';
      break;
    case 'stringMatch':
      what = describeStringMatcher(s.value);
      break;
    case undefined:
      what = 'present';
      break;
  }
  return `header ${h.name} ${h.invertMatch ? 'not ' : ''}${what}${h.treatMissingHeaderAsEmpty ? ' (missing counts as "")' : ''}`;
}

function describeQuery(m: QueryParameterMatcher): string {
  const s = m.queryParameterMatchSpecifier;
  if (s.case === 'stringMatch') return `query parameter ${m.name} ${describeStringMatcher(s.value)}`;
  return `query parameter ${m.name} ${s.case === 'presentMatch' && !s.value ? 'absent' : 'present'}`;
}

/** The path condition of a RouteMatch, as people read it. */
export function describePath(m: RouteMatch): string {
  const ci = m.caseSensitive === false ? ' (ignoring case)' : '';
  const p = m.pathSpecifier;
  switch (p.case) {
    case 'prefix':
      return `prefix ${q(p.value)}${ci}`;
    case 'path':
      return `path ${q(p.value)}${ci}`;
    case 'pathSeparatedPrefix':
      return `path_separated_prefix ${q(p.value)}${ci}`;
    case 'safeRegex':
      return `path regex ${q(p.value.regex)}`;
    case 'connectMatcher':
      return 'method CONNECT';
    case 'pathMatchPolicy':
      return 'path template (path_match_policy)';
    case undefined:
      return 'no path specifier';
  }
}

/** A RouteMatch in one line: `prefix "/" and header end-user exact "jason"`. */
export function describeRouteMatch(m: RouteMatch | undefined): string {
  if (m === undefined) return 'no match';
  const parts = [describePath(m), ...m.headers.map(describeHeader), ...m.queryParameters.map(describeQuery)];
  if (m.grpc !== undefined) parts.push('gRPC requests');
  if (m.runtimeFraction !== undefined) {
    const f = compileFraction(m.runtimeFraction.defaultValue, ALWAYS);
    parts.push(`${percent(f.numerator, f.denominator)} of requests`);
  }
  return parts.join(' and ');
}

export function percent(numerator: number, denominator: number): string {
  const p = (100 * Math.min(numerator, denominator)) / denominator;
  return `${Number.isInteger(p) ? p : p.toFixed(4).replace(/0+$/, '')}%`;
}

function tri(b: boolean): Tri {
  return b ? 'yes' : 'no';
}

function headerWhy(view: RequestView, name: string): string {
  const v = view.header(name.toLowerCase());
  return v === undefined ? `header ${name} is absent` : `header ${name} is ${q(v)}`;
}

/** Evaluates `m` against the request `view` (reset by the caller), condition by condition. */
export function explainRouteMatch(m: RouteMatch | undefined, view: RequestView): RouteMatchExplanation {
  if (m === undefined) return { matched: 'no', conditions: [{ condition: 'match', result: 'no', why: 'the route has no match' }] };
  const problems: string[] = [];
  const conditions: ConditionResult[] = [];
  const pathOnly = create(RouteMatchSchema, { pathSpecifier: m.pathSpecifier, ...(m.caseSensitive !== undefined ? { caseSensitive: m.caseSensitive } : {}) });
  const pathOk = compileRouteMatch(pathOnly, 'match', problems).matches(view);
  conditions.push({
    condition: describePath(m),
    result: tri(pathOk),
    why: m.pathSpecifier.case === 'connectMatcher' ? `method is ${view.input.method}` : `path is ${q(view.matchPath)}`,
  });
  m.headers.forEach((h, i) => {
    const ok = compileHeaderMatcher(h, `match.headers[${i}]`, problems).matches(view);
    conditions.push({ condition: describeHeader(h), result: tri(ok), why: headerWhy(view, h.name) });
  });
  m.queryParameters.forEach((qp, i) => {
    const ok = compileQueryParameterMatcher(qp, `match.query_parameters[${i}]`, problems).matches(view);
    const v = view.queryParam(qp.name);
    conditions.push({ condition: describeQuery(qp), result: tri(ok), why: v === undefined ? `query parameter ${qp.name} is absent` : `query parameter ${qp.name} is ${q(v)}` });
  });
  if (m.grpc !== undefined) {
    const ok = isGrpcRequest(view);
    conditions.push({ condition: 'gRPC request', result: tri(ok), why: headerWhy(view, 'content-type') });
  }
  if (m.runtimeFraction !== undefined) {
    const f = compileFraction(m.runtimeFraction.defaultValue, ALWAYS);
    const r: Tri = f.numerator <= 0 ? 'no' : f.numerator >= f.denominator ? 'yes' : 'sometimes';
    conditions.push({ condition: `runtime_fraction ${percent(f.numerator, f.denominator)}`, result: r, why: 'drawn per request' });
  }
  let matched: Tri = conditions.some((c) => c.result === 'no') ? 'no' : conditions.some((c) => c.result === 'sometimes') ? 'sometimes' : 'yes';
  // The whole match as the proxy compiles it decides; the conditions above only explain it.
  if (matched !== 'sometimes') {
    const whole = compileRouteMatch(m, 'match', problems).matches(view);
    if (whole !== (matched === 'yes')) matched = tri(whole);
  }
  return { matched, conditions };
}
