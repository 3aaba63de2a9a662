// The CORS filter's request-path decisions, pure: given a route's effective policy (config.ts) and the
// request, answer a preflight locally or say which headers to set on the response. No I/O, no state;
// the filter wires these into decode/encode. Behaviour follows Envoy's CorsFilter
// (source/extensions/filters/http/cors/cors_filter.cc; docs configuration/http/http_filters/cors_filter):
// - a request without a non-empty `origin`, or whose policy is disabled, gets no CORS treatment;
// - a preflight (OPTIONS + origin + non-empty access-control-request-method) from an allowed origin is
//   answered by the proxy with 200; from a disallowed origin it is forwarded upstream unless
//   forward_not_matching_preflights is false, in which case Envoy still answers 200 without
//   access-control-allow-origin;
// - any other request from an allowed origin is forwarded and its response gets access-control-allow-origin
//   (the request's origin echoed, never `*`), -allow-credentials and -expose-headers; a disallowed origin
//   gets no CORS headers and the request is still forwarded.

import { mathRandom, type Random } from '../../lib/random.js';
import type { CorsPolicyConfig, Fraction } from './config.js';

/** Request headers as node's IncomingHttpHeaders: lower-case names. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** Response code details of a preflight the proxy answered (HttpResponseCodeDetails::CorsResponse). */
export const CORS_RESPONSE_CODE_DETAILS = 'cors_response';

/** Counters under `http.<stat_prefix>.cors.`. */
export const CORS_STATS = Object.freeze({ originValid: 'origin_valid', originInvalid: 'origin_invalid' });

export function corsStatName(statPrefix: string, stat: (typeof CORS_STATS)[keyof typeof CORS_STATS]): string {
  return `http.${statPrefix}.cors.${stat}`;
}

export interface CorsPreflightReply {
  readonly status: 200;
  readonly headers: Readonly<Record<string, string>>;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function header(headers: HeaderMap, name: string): string {
  const v = headers[name];
  if (v === undefined) return '';
  return typeof v === 'string' ? v : v.join(',');
}

/** Runtime featureEnabled with no runtime layer: the default value decides (`random % denominator < numerator`). */
function rolled(f: Fraction | undefined, unset: boolean, random: Random): boolean {
  if (f === undefined) return unset;
  if (f.numerator <= 0) return false;
  if (f.numerator >= f.denominator) return true;
  return random.next() * f.denominator < f.numerator;
}

/** CorsFilter::isOriginAllowed: the first policy's matchers, where matching `*` allows every origin. */
export function isCorsOriginAllowed(policy: CorsPolicyConfig, origin: string): boolean {
  if (policy.allowAnyOrigin) return true;
  for (const m of policy.allowOrigins) if (m.match(origin)) return true;
  return false;
}

/**
 * Whether the policy applies to this request (filter_enabled rolled; shadow mode only counts stats, so it
 * does not apply). `random` is consulted only for a fractional filter_enabled (Istio always emits 100%);
 * it defaults to Math.random. With a fractional rate, corsPreflight and corsResponseHeaders roll
 * separately; a filter that must keep one decision per request passes a Random that replays its draw.
 */
function applies(policy: CorsPolicyConfig, random: Random): boolean {
  return rolled(policy.filterEnabled, true, random);
}

/**
 * The local reply to a CORS preflight, or undefined when the request must continue upstream (not a
 * preflight, no policy, policy disabled, or a disallowed origin with forward_not_matching_preflights
 * unset/true). `method` is the request method (`:method`).
 */
export function corsPreflight(
  policy: CorsPolicyConfig | undefined,
  method: string,
  headers: HeaderMap,
  random: Random = mathRandom,
): CorsPreflightReply | undefined {
  if (policy === undefined || method !== 'OPTIONS') return undefined;
  const origin = header(headers, 'origin');
  if (origin === '') return undefined;
  const requestMethod = header(headers, 'access-control-request-method');
  if (requestMethod === '') return undefined;
  if (!applies(policy, random)) return undefined;
  const allowed = isCorsOriginAllowed(policy, origin);
  if (!allowed && policy.forwardNotMatchingPreflights !== false) return undefined;

  const out: Record<string, string> = {};
  if (allowed) out['access-control-allow-origin'] = origin;
  if (policy.allowCredentials === true) out['access-control-allow-credentials'] = 'true';
  if (policy.allowMethods !== '') out['access-control-allow-methods'] = policy.allowMethods === '*' ? requestMethod : policy.allowMethods;
  if (policy.allowHeaders !== '') {
    out['access-control-allow-headers'] = policy.allowHeaders === '*' ? header(headers, 'access-control-request-headers') : policy.allowHeaders;
  }
  if (policy.maxAge !== '') out['access-control-max-age'] = policy.maxAge;
  // https://developer.chrome.com/blog/private-network-access-preflight
  if (policy.allowPrivateNetworkAccess === true && header(headers, 'access-control-request-private-network') === 'true') {
    out['access-control-allow-private-network'] = 'true';
  }
  // Envoy's local reply passes back through CorsFilter::encodeHeaders, which adds expose-headers for an
  // allowed origin (test/extensions/filters/http/cors/cors_filter_integration_test.cc, TestRouteConfigSuccess).
  if (allowed && policy.exposeHeaders !== '') out['access-control-expose-headers'] = policy.exposeHeaders;
  return { status: 200, headers: out };
}

/**
 * Headers to set (replacing upstream values) on the response to a request that went upstream
 * (CorsFilter::encodeHeaders). Empty when CORS does not apply or the origin is not allowed.
 */
export function corsResponseHeaders(
  policy: CorsPolicyConfig | undefined,
  requestHeaders: HeaderMap,
  random: Random = mathRandom,
): Readonly<Record<string, string>> {
  if (policy === undefined) return NO_HEADERS;
  const origin = header(requestHeaders, 'origin');
  if (origin === '' || !applies(policy, random) || !isCorsOriginAllowed(policy, origin)) return NO_HEADERS;
  const out: Record<string, string> = { 'access-control-allow-origin': origin };
  if (policy.allowCredentials === true) out['access-control-allow-credentials'] = 'true';
  if (policy.exposeHeaders !== '') out['access-control-expose-headers'] = policy.exposeHeaders;
  return out;
}

/**
 * Which origin counter a request bumps, if any (origin_valid / origin_invalid): counted when the policy is
 * enabled or shadow-enabled and the request has an origin, whether or not it is a preflight.
 */
export function corsOriginStat(
  policy: CorsPolicyConfig | undefined,
  requestHeaders: HeaderMap,
  random: Random = mathRandom,
): (typeof CORS_STATS)[keyof typeof CORS_STATS] | undefined {
  if (policy === undefined) return undefined;
  if (!rolled(policy.filterEnabled, true, random) && !rolled(policy.shadowEnabled, false, random)) return undefined;
  const origin = header(requestHeaders, 'origin');
  if (origin === '') return undefined;
  return isCorsOriginAllowed(policy, origin) ? CORS_STATS.originValid : CORS_STATS.originInvalid;
}
