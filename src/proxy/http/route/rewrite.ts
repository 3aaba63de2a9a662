// Path and host rewrites of a route, compiled once and evaluated per request.
// Path (RouteEntryImplBase::currentUrlPathAfterRewriteWithMatchedPath): at most one of
// - prefix_rewrite: the matched prefix (the configured prefix or path; the whole path without query for
//   safe_regex and CONNECT routes) is replaced, the rest of the path and the query kept;
// - regex_rewrite: every match in the path without query is substituted (`\1` groups), query kept;
// - path_rewrite_policy (envoy.path.rewrite.uri_template): the template rewrite of a uri_template match,
//   query kept.
// A rewrite that yields an empty path leaves the path alone.
// Host (finalizeHostHeader): host_rewrite_literal, host_rewrite_header (its first value, if non-empty),
// or host_rewrite_path_regex over the path without query. auto_host_rewrite is the router's (the picked
// host's hostname) and only flagged. A weighted cluster's host_rewrite_literal applies first, so the
// route's rewrite wins when it yields a host.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-routeaction-prefix-rewrite

import type { RouteAction } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RegexMatchAndSubstitute } from '../../../xds/gen/envoy/type/matcher/v3/regex_pb.js';
import { asciiLower } from './ascii.js';
import { compileRegex, parseRewrite, type CompiledRegex, type Rewrite } from './regex.js';
import type { RequestView } from './request-view.js';
import type { CompiledRouteMatch } from './route-match.js';
import { checkHeaderValueField } from './field-rules.js';
import { applyUriRewrite, decodeTemplateAny, parseUriRewrite, URI_TEMPLATE_REWRITE_TYPE, type UriRewrite, type UriTemplate } from './uri-template.js';

export type PathRewrite =
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly regex: CompiledRegex; readonly rewrite: Rewrite }
  | { readonly kind: 'template'; readonly template: UriTemplate; readonly rewrite: UriRewrite };

/** A regex and its substitution, compiled; undefined with a problem when either is invalid. */
export function compileRegexSubstitution(r: RegexMatchAndSubstitute, path: string, problems: string[]): { regex: CompiledRegex; rewrite: Rewrite } | undefined {
  if (!checkHeaderValueField(r.substitution, `${path}.substitution`, problems)) return undefined;
  const re = compileRegex(r.pattern?.regex ?? '');
  if (!re.ok) {
    problems.push(`${path}.pattern.regex: ${re.reason}`);
    return undefined;
  }
  const sub = parseRewrite(r.substitution, re.regex.groupCount);
  if (!sub.ok) {
    problems.push(`${path}.substitution: ${sub.reason}`);
    return undefined;
  }
  return { regex: re.regex, rewrite: sub.rewrite };
}

/** The route action's path rewrite, if any. */
export function compileRoutePathRewrite(a: RouteAction, match: CompiledRouteMatch, path: string, problems: string[]): PathRewrite | undefined {
  const count = (a.prefixRewrite !== '' ? 1 : 0) + (a.regexRewrite !== undefined ? 1 : 0) + (a.pathRewritePolicy !== undefined ? 1 : 0);
  if (count > 1) {
    problems.push(`${path}: specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy`);
    return undefined;
  }
  if (a.prefixRewrite !== '') {
    if (!checkHeaderValueField(a.prefixRewrite, `${path}.prefix_rewrite`, problems)) return undefined;
    if (match.kind === 'pathMatchPolicy') {
      problems.push(`${path}.prefix_rewrite: cannot be used with a path_match_policy match`);
      return undefined;
    }
    return { kind: 'prefix', value: a.prefixRewrite };
  }
  if (a.regexRewrite !== undefined) {
    const c = compileRegexSubstitution(a.regexRewrite, `${path}.regex_rewrite`, problems);
    return c === undefined ? undefined : { kind: 'regex', ...c };
  }
  if (a.pathRewritePolicy !== undefined) {
    const at = `${path}.path_rewrite_policy`;
    const cfg = a.pathRewritePolicy.typedConfig;
    const decoded = cfg === undefined ? ({ ok: false, reason: 'typed_config must be set' } as const) : decodeTemplateAny(cfg, URI_TEMPLATE_REWRITE_TYPE);
    if (!decoded.ok) {
      problems.push(`${at}: ${decoded.reason}`);
      return undefined;
    }
    if (match.template === undefined) {
      problems.push(`${at}: the uri_template rewriter needs a uri_template path_match_policy on the route's match`);
      return undefined;
    }
    const rw = parseUriRewrite(decoded.value, match.template);
    if (typeof rw === 'string') {
      problems.push(`${at}.typed_config.path_template_rewrite: ${JSON.stringify(decoded.value)}: ${rw}`);
      return undefined;
    }
    return { kind: 'template', template: match.template, rewrite: rw };
  }
  return undefined;
}

/**
 * The new path (query kept) or undefined for no change. `matchedLength` is what prefix_rewrite replaces
 * (undefined: the whole path without query).
 */
export function applyPathRewrite(rw: PathRewrite, req: RequestView, matchedLength: number | undefined): string | undefined {
  const path = req.input.path;
  switch (rw.kind) {
    case 'prefix':
      return rw.value + path.slice(matchedLength ?? req.pathOnly.length);
    case 'regex': {
      const only = req.pathOnly;
      const out = rw.regex.replaceAll(only, rw.rewrite);
      return out === '' ? undefined : out + path.slice(only.length);
    }
    case 'template': {
      const only = req.pathOnly;
      const out = applyUriRewrite(rw.template, rw.rewrite, only);
      return out === undefined || out === '' ? undefined : out + path.slice(only.length);
    }
  }
}

export type HostRewrite =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'pathRegex'; readonly regex: CompiledRegex; readonly rewrite: Rewrite };

/** The route action's host rewrite (auto_host_rewrite is a flag on the action, not here). */
export function compileHostRewrite(a: RouteAction, path: string, problems: string[]): HostRewrite | undefined {
  const h = a.hostRewriteSpecifier;
  switch (h.case) {
    case 'hostRewriteLiteral':
      if (!checkHeaderValueField(h.value, `${path}.host_rewrite_literal`, problems)) return undefined;
      return h.value === '' ? undefined : { kind: 'literal', value: h.value };
    case 'hostRewriteHeader':
      return h.value === '' ? undefined : { kind: 'header', name: asciiLower(h.value) };
    case 'hostRewritePathRegex': {
      const c = compileRegexSubstitution(h.value, `${path}.host_rewrite_path_regex`, problems);
      return c === undefined ? undefined : { kind: 'pathRegex', ...c };
    }
    case 'autoHostRewrite':
    case undefined:
      return undefined;
  }
}

/** The new :authority, or undefined when the rewrite yields nothing. */
export function applyHostRewrite(h: HostRewrite, req: RequestView): string | undefined {
  switch (h.kind) {
    case 'literal':
      return h.value;
    case 'header': {
      const v = req.input.headers[h.name];
      const first = typeof v === 'string' ? v : v?.[0];
      return first === undefined || first === '' ? undefined : first;
    }
    case 'pathRegex': {
      const out = h.regex.replaceAll(req.pathOnly, h.rewrite);
      return out === '' ? undefined : out;
    }
  }
}
