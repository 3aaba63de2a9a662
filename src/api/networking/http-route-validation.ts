// networking.istio.io VirtualService, HTTP part: Istio's checks on one HTTP route (validateHTTPRoute and
// the helpers it calls in istio/istio pkg/config/validation/virtualservice.go, validation.go and
// agent/validation.go): the action conflicts, CORS, fault injection, mirrors, redirect, direct response,
// retries and rewrite. Matches are checked in http-match.ts, header operations in http-headers.ts,
// destinations in route-common.ts; the schemas are in http-route.ts.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { onlyOneOf } from '../istio-common.js';
import { durationIssues, portErrors } from '../validation/common.js';
import { parseGoDuration } from '../validation/duration.js';
import { byteLength, goFloatF, goFloatV, goQuote, isGoInt } from '../validation/go-format.js';
import { authorityRewriteIssues, headersIssues, isHeaderName } from './http-headers.js';
import { matchRequestIssues, stringMatchOneOf, stringMatchRegexpIssues, stringRegexpIssues } from './http-match.js';
import type {
  CorsPolicy,
  HTTPDirectResponse,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPMirrorPolicy,
  HTTPRedirect,
  HTTPRetry,
  HTTPRewrite,
  HTTPRoute,
  Percent,
} from './http-route.js';
import { destinationIssues, routeDestinationIssues } from './route-common.js';

/** validateHTTPRouteConflict: exactly one action, and what each action excludes. */
function conflictIssues(path: string, h: HTTPRoute, routeType: 'independent' | 'root' | 'delegate'): Issue[] {
  const out: Issue[] = [];
  const hasRoute = (h.route?.length ?? 0) > 0;
  if (routeType === 'root') {
    if (h.redirect !== undefined) out.push(error(at(path, 'redirect'), `root HTTP route ${h.name ?? ''} must not specify redirect`));
    if (hasRoute) out.push(error(at(path, 'route'), `root HTTP route ${h.name ?? ''} must not specify route`));
    return out;
  }
  if (routeType === 'delegate' && h.delegate !== undefined) out.push(error(at(path, 'delegate'), 'delegate HTTP route cannot contain delegate'));
  if (h.redirect !== undefined) {
    if (hasRoute) out.push(error(path, 'HTTP route cannot contain both route and redirect'));
    if (h.fault !== undefined) out.push(error(path, 'HTTP route cannot contain both fault and redirect'));
    if (h.rewrite !== undefined) out.push(error(path, 'HTTP route rule cannot contain both rewrite and redirect'));
    if (h.directResponse !== undefined) out.push(error(path, 'HTTP route rule cannot contain both direct_response and redirect'));
  } else if (h.directResponse !== undefined) {
    if (hasRoute) out.push(error(path, 'HTTP route cannot contain both route and direct_response'));
    if (h.fault !== undefined) out.push(error(path, 'HTTP route cannot contain both fault and direct_response'));
    if (h.rewrite !== undefined) out.push(error(path, 'HTTP route rule cannot contain both rewrite and direct_response'));
  } else if (!hasRoute) {
    out.push(error(path, 'HTTP route, redirect or direct_response is required'));
  }
  if (h.mirror !== undefined && (h.mirrors?.length ?? 0) > 0) out.push(error(path, 'HTTP route cannot contain both mirror and mirrors'));
  return out;
}

function corsIssues(path: string, c: CorsPolicy | undefined): Issue[] {
  if (c === undefined) return [];
  const out: Issue[] = [];
  for (const [i, o] of (c.allowOrigins ?? []).entries()) {
    const p = at(at(path, 'allowOrigins'), i);
    out.push(...stringMatchOneOf(p, o));
    const match = o.exact ?? o.prefix ?? o.regex ?? '';
    // Istio prints the (empty) match value here, hence the odd message.
    if (match === '') out.push(error(p, `'' is not a valid match type for CORS allow origins`));
    else out.push(...stringMatchRegexpIssues(p, o, 'corsPolicy.allowOrigins'));
  }
  for (const [i, m] of (c.allowMethods ?? []).entries()) if (!CORS_METHODS.has(m)) out.push(error(at(at(path, 'allowMethods'), i), `${goQuote(m)} is not a supported HTTP method`));
  for (const f of ['allowHeaders', 'exposeHeaders'] as const) {
    for (const [i, name] of (c[f] ?? []).entries()) {
      const p = at(at(path, f), i);
      if (name === '') out.push(error(p, 'header name cannot be empty'));
      else if (name !== '*' && !isHeaderName(name)) out.push(error(p, `header name ${name} is not a valid header name`));
    }
  }
  if (c.maxAge !== undefined) {
    out.push(...durationIssues(at(path, 'maxAge'), c.maxAge));
    const d = parseGoDuration(c.maxAge);
    if (d.ok && d.ns % 1e9 !== 0) out.push(error(at(path, 'maxAge'), 'max_age duration is accurate only to seconds precision'));
  }
  return out;
}

/** Go's net/http methods, plus `*` (supportedCORSMethods). */
const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);

/** grpc.SupportedGRPCStatus (pkg/util/grpc/codes.go). */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
];

/** validatePercentage: 0, or within [0.0001, 100]. */
function percentageIssues(path: string, p: Percent | undefined): Issue[] {
  if (p === undefined) return [];
  const v = p.value ?? 0;
  return v < 0 || v > 100 || (v > 0 && v < 0.0001) ? [error(path, `percentage ${goFloatV(v)} is neither 0.0, nor in range [0.0001, 100.0]`)] : [];
}

/** validateHTTPStatus: Istio's bound is 600 inclusive although its message says 599. */
function httpStatusErrors(status: number): string[] {
  return status < 200 || status > 600 ? [`HTTP status ${status} is not in range 200-599`] : [];
}

function faultIssues(path: string, f: HTTPFaultInjection | undefined): Issue[] {
  if (f === undefined) return [];
  const out: Issue[] = [];
  if (f.abort === undefined && f.delay === undefined) out.push(error(path, 'HTTP fault injection must have an abort and/or a delay'));
  const a = f.abort;
  if (a !== undefined) {
    const ap = at(path, 'abort');
    out.push(...onlyOneOf(ap, a, ['httpStatus', 'grpcStatus', 'http2Error']));
    out.push(...percentageIssues(at(ap, 'percentage'), a.percentage));
    if (a.grpcStatus !== undefined) {
      if (!GRPC_STATUS_NAMES.includes(a.grpcStatus))
        out.push(
          error(
            at(ap, 'grpcStatus'),
            `gRPC status ${goQuote(a.grpcStatus)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`,
          ),
        );
    } else if (a.http2Error !== undefined) out.push(error(at(ap, 'http2Error'), 'HTTP/2 abort fault injection not supported yet'));
    else if (a.httpStatus !== undefined) for (const m of httpStatusErrors(a.httpStatus)) out.push(error(at(ap, 'httpStatus'), m));
    // An abort without an error type is only a warning in validateHTTPFaultInjectionAbort, and
    // validateHTTPFaultInjection folds it with appendErrors, which drops warnings: Istio reports nothing.
  }
  const d = f.delay;
  if (d !== undefined) {
    const dp = at(path, 'delay');
    out.push(...onlyOneOf(dp, d, ['fixedDelay', 'exponentialDelay']));
    out.push(...percentageIssues(at(dp, 'percentage'), d.percentage));
    if (d.fixedDelay !== undefined) out.push(...durationIssues(at(dp, 'fixedDelay'), d.fixedDelay));
    else if (d.exponentialDelay !== undefined) {
      out.push(...durationIssues(at(dp, 'exponentialDelay'), d.exponentialDelay));
      out.push(error(at(dp, 'exponentialDelay'), 'exponentialDelay not supported yet'));
    }
  }
  return out;
}

function mirrorsIssues(path: string, mirrors: readonly HTTPMirrorPolicy[] | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [i, m] of (mirrors ?? []).entries()) {
    const p = at(path, i);
    if (m.destination === undefined) {
      out.push(error(at(p, 'destination'), 'destination is required for mirrors'));
      continue;
    }
    out.push(...destinationIssues(at(p, 'destination'), m.destination));
    if (m.percentage !== undefined) {
      const v = m.percentage.value ?? 0;
      if (v > 100) out.push(error(at(p, 'percentage'), `mirror percentage must have a max value of 100 (it has ${goFloatF(v)})`));
      if (v < 0) out.push(error(at(p, 'percentage'), `mirror percentage must have a min value of 0 (it has ${goFloatF(v)})`));
    }
  }
  return out;
}

/** validateHTTPRedirect: Istio reports only the first problem. */
function redirectIssues(path: string, r: HTTPRedirect | undefined, matches: readonly HTTPMatchRequest[] | undefined): Issue[] {
  if (r === undefined) return [];
  const oneOf = onlyOneOf(path, r, ['port', 'derivePort']);
  const first = ((): Issue | undefined => {
    const uri = r.uri ?? '';
    const prefixRewrite = r.prefixRewrite ?? '';
    if (uri !== '' && prefixRewrite !== '') return error(path, 'redirect may only specify one of uri or prefix_rewrite');
    if (prefixRewrite !== '' && (matches ?? []).some((m) => m.uri !== undefined && m.uri.prefix === undefined))
      return error(at(path, 'prefixRewrite'), 'redirect prefix_rewrite requires all URI matches to use prefix match type');
    const hasPort = r.port !== undefined || r.derivePort !== undefined;
    if (uri === '' && prefixRewrite === '' && (r.authority ?? '') === '' && !hasPort && (r.scheme ?? '') === '')
      return error(path, 'redirect must specify URI, authority, scheme, or port');
    const code = r.redirectCode ?? 0;
    if (code !== 0 && (code < 300 || code > 399)) return error(at(path, 'redirectCode'), `${code} is not a valid redirect code, must be 3xx`);
    if ((r.scheme ?? '') !== '' && r.scheme !== 'http' && r.scheme !== 'https') return error(at(path, 'scheme'), 'invalid redirect scheme, must be "http" or "https"');
    const portError = (r.port ?? 0) > 0 ? portErrors(r.port ?? 0)[0] : undefined;
    if (portError !== undefined) return error(at(path, 'port'), portError);
    return undefined;
  })();
  return first === undefined ? oneOf : [...oneOf, first];
}

const KB = 1024;
const MB = 1024 * KB;

function directResponseIssues(path: string, d: HTTPDirectResponse | undefined): Issue[] {
  if (d === undefined) return [];
  const out: Issue[] = [];
  if (d.body !== undefined) {
    const bp = at(path, 'body');
    out.push(...onlyOneOf(bp, d.body, ['string', 'bytes']));
    const size = d.body.string !== undefined ? byteLength(d.body.string) : d.body.bytes !== undefined ? Buffer.from(d.body.bytes, 'base64').length : 0;
    if (size > MB) out.push(error(bp, 'large direct_responses may impact control plane performance, must be less than 1MB'));
    else if (size > 100 * KB) out.push(warning(bp, 'large direct_responses may impact control plane performance'));
  }
  for (const m of httpStatusErrors(d.status ?? 0)) out.push(error(at(path, 'status'), m));
  return out;
}

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies (agent/validation.go supportedRetryOnPolicies). */
export const RETRY_ON_POLICIES: ReadonlySet<string> = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** Codes for which Go's net/http StatusText is non-empty. */
const GO_HTTP_STATUS_CODES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425,
  426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** agent.ValidateHTTPRetry. The policy list is split on `,` without trimming spaces, as Istio does. */
export function retryIssues(path: string, r: HTTPRetry | undefined): Issue[] {
  if (r === undefined) return [];
  const out: Issue[] = [];
  const attempts = r.attempts ?? 0;
  if (attempts < 0) out.push(error(at(path, 'attempts'), 'attempts cannot be negative'));
  if (attempts === 0 && (r.perTryTimeout !== undefined || (r.retryOn ?? '') !== '' || r.retryRemoteLocalities !== undefined))
    out.push(error(path, 'http retry policy configured when attempts are set to 0 (disabled)'));
  out.push(...durationIssues(at(path, 'perTryTimeout'), r.perTryTimeout));
  if ((r.retryOn ?? '') !== '') {
    for (const policy of (r.retryOn ?? '').split(',')) {
      const code = isGoInt(policy) ? Number(policy) : 0;
      if (!GO_HTTP_STATUS_CODES.has(code) && !RETRY_ON_POLICIES.has(policy))
        out.push(error(at(path, 'retryOn'), `${goQuote(policy)} is not a valid retryOn policy`));
    }
  }
  out.push(...durationIssues(at(path, 'backoff'), r.backoff));
  return out;
}

function rewriteIssues(path: string, r: HTTPRewrite | undefined): Issue[] {
  if (r === undefined) return [];
  const uri = r.uri ?? '';
  if (uri !== '' && r.uriRegexRewrite !== undefined) return [error(path, 'rewrite may only contain one of URI or UriRegexRewrite')];
  if (uri === '' && r.uriRegexRewrite === undefined && (r.authority ?? '') === '')
    return [error(path, 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified')];
  const rr = r.uriRegexRewrite;
  if (rr === undefined) return [];
  const rp = at(path, 'uriRegexRewrite');
  // Istio joins these under "UriRegexRewrite has errors" (errors.Join, a newline); one line here.
  if ((rr.match ?? '') === '' || (rr.rewrite ?? '') === '')
    return [error(rp, 'UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and Match fields to be specified')];
  return stringRegexpIssues(at(rp, 'match'), rr.match ?? '', 'HTTPRewrite.UriRegexRewrite.Match').map((i) => ({
    ...i,
    message: `UriRegexRewrite has errors: ${i.message}`,
  }));
}

export interface HttpRouteOptions {
  /** The VirtualService has no hosts: it is a delegate, so its routes may not delegate again. */
  readonly delegate: boolean;
  /** `internal.istio.io/route-semantics: gateway` (Gateway API generated config). */
  readonly gatewaySemantics: boolean;
}

/** validateHTTPRoute: every problem of one HTTP route at `path` (e.g. `spec.http[0]`). */
export function httpRouteIssues(path: string, h: HTTPRoute, opts: HttpRouteOptions): Issue[] {
  const routeType = opts.delegate ? 'delegate' : h.delegate !== undefined ? 'root' : 'independent';
  const out: Issue[] = [];
  out.push(...conflictIssues(path, h, routeType));
  out.push(...matchRequestIssues(at(path, 'match'), h.match));
  out.push(...headersIssues(at(path, 'headers'), h.headers));
  out.push(...corsIssues(at(path, 'corsPolicy'), h.corsPolicy));
  out.push(...faultIssues(at(path, 'fault'), h.fault));
  if (h.mirrorPercent !== undefined) {
    if (h.mirrorPercent > 100) out.push(error(at(path, 'mirrorPercent'), `mirror_percent must have a max value of 100 (it has ${h.mirrorPercent})`));
    out.push(warning(at(path, 'mirrorPercent'), 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead'));
  }
  if (h.mirrorPercentage !== undefined) {
    const v = h.mirrorPercentage.value ?? 0;
    const p = at(path, 'mirrorPercentage');
    if (v > 100) out.push(error(p, `mirror_percentage must have a max value of 100 (it has ${goFloatF(v)})`));
    if (v < 0) out.push(error(p, `mirror_percentage must have a min value of 0 (it has ${goFloatF(v)})`));
  }
  out.push(...destinationIssues(at(path, 'mirror'), h.mirror));
  out.push(...mirrorsIssues(at(path, 'mirrors'), h.mirrors));
  out.push(...redirectIssues(at(path, 'redirect'), h.redirect, h.match));
  out.push(...directResponseIssues(at(path, 'directResponse'), h.directResponse));
  out.push(...retryIssues(at(path, 'retries'), h.retries));
  out.push(...rewriteIssues(at(path, 'rewrite'), h.rewrite));
  out.push(...authorityRewriteIssues(path, h.rewrite, h.headers));
  out.push(...routeDestinationIssues(at(path, 'route'), h.route, opts.gatewaySemantics));
  for (const [i, r] of (h.route ?? []).entries()) out.push(...headersIssues(at(at(at(path, 'route'), i), 'headers'), r.headers));
  out.push(...durationIssues(at(path, 'timeout'), h.timeout));
  return out;
}
