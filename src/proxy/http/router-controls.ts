// The request headers Envoy's router acts on, and its timeouts (router_filter docs, "HTTP headers consumed";
// source/common/router/router.cc FilterUtility::finalTimeout and setTimeoutHeaders,
// source/common/router/retry_state_impl.cc RetryStateImpl::create). They reach the router only on requests the
// connection manager found internal: request-headers.ts removes them from every other (cleanInternalHeaders).
// - x-envoy-upstream-rq-timeout-ms replaces the route timeout; x-envoy-upstream-rq-per-try-timeout-ms the
//   per-try timeout (ignored when not shorter than the route timeout); with the router's
//   respect_expected_rq_timeout an x-envoy-expected-rq-timeout-ms from an egress proxy wins over both routes and
//   x-envoy-upstream-rq-timeout-ms. x-envoy-upstream-rq-timeout-alt-response makes a timeout answer 204.
// - x-envoy-upstream-stream-duration-ms replaces the cluster's max_stream_duration for each attempt.
// - x-envoy-retry-on and x-envoy-retry-grpc-on add conditions to the route's retry policy (or to the default
//   one, one retry), x-envoy-max-retries replaces num_retries, x-envoy-retriable-status-codes and
//   x-envoy-retriable-header-names add codes and header names; a route's retriable_request_headers that the
//   request does not match turn retries off.
// - Every one of them is consumed: removed before the request goes upstream. The router then sets
//   x-envoy-expected-rq-timeout-ms (unless suppress_envoy_headers) and, under the legacy max_grpc_timeout,
//   grpc-timeout to what it enforces: the per-try timeout when set, else the route timeout, less the time
//   since the request was complete.
// Values are unsigned decimal integers (absl::SimpleAtoi); one that does not parse is dropped, unless the
// router's strict_check_headers names it, when the request is answered 400.

import { isHopByHop, type HeaderMap } from './headers.js';
import type { HttpStream } from './http-stream.js';
import { joinedHeader } from './route/request-view.js';
import type { RetryPolicy } from './retry-state.js';
import type { CompiledRetryPolicy, HeaderPredicate } from './route/types.js';
import { formatGrpcTimeout, legacyGrpcTimeout, type GrpcTimeoutRoute } from './grpc-timeout.js';
import { DEFAULT_BASE_INTERVAL_MS } from './route/retry-policy.js';
import type { RouterConfig } from '../runtime/compile-router.js';

export type { RouterConfig };

const RETRY_ON: ReadonlySet<string> = new Set([
  '5xx',
  'gateway-error',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'reset',
  'reset-before-request',
  'http3-post-connect-failure',
]);
const RETRY_GRPC_ON: ReadonlySet<string> = new Set(['cancelled', 'deadline-exceeded', 'resource-exhausted', 'unavailable', 'internal']);

/** The route's side of the decision. */
export interface TimeoutRoute extends GrpcTimeoutRoute {
  /** The route has max_stream_duration (Envoy's "new timeouts"): the connection manager times the stream, not the router. */
  readonly newTimeouts: boolean;
}

/** What the router enforces for one request. */
export interface RequestControls {
  /** 0 = none. */
  readonly timeoutMs: number;
  /** 0 = none. */
  readonly perTryTimeoutMs: number;
  /** 504, or 204 under x-envoy-upstream-rq-timeout-alt-response. */
  readonly timeoutStatus: number;
  readonly retry: RetryPolicy | undefined;
  /** Whether grpc-timeout is rewritten to the enforced timeout on each attempt (legacy max_grpc_timeout). */
  readonly grpcTimeoutHeader: boolean;
  /** x-envoy-upstream-stream-duration-ms: each attempt's maximum duration, instead of the cluster's max_stream_duration. */
  readonly upstreamStreamDurationMs: number | undefined;
}

/** absl::SimpleAtoi for an unsigned 64-bit value: surrounding whitespace and a `+` allowed. */
export function parseUnsigned(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^[ \t\n\v\f\r]*\+?(\d+)[ \t\n\v\f\r]*$/.exec(v);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return n <= 18446744073709551615 ? n : undefined;
}

function take(h: HeaderMap, name: string): string | undefined {
  const v = joinedHeader(h, name);
  if (v !== undefined) delete h[name];
  return v;
}

/** RetryStateImpl::parseRetryOn / parseRetryGrpcOn: the known tokens, and whether every token was known. */
function tokens(v: string, known: ReadonlySet<string>): { names: string[]; valid: boolean } {
  const names: string[] = [];
  let valid = true;
  for (const t of v.split(',')) {
    const n = t.trim();
    if (n === '') continue;
    if (known.has(n)) names.push(n);
    else valid = false;
  }
  return { names, valid };
}

/** FilterUtility::StrictHeaderChecker: the first named header whose value is invalid. */
export function strictCheckFailure(h: HeaderMap, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = joinedHeader(h, name);
    if (value === undefined) continue;
    const ok = name === 'x-envoy-retry-on' ? tokens(value, RETRY_ON).valid : name === 'x-envoy-retry-grpc-on' ? tokens(value, RETRY_GRPC_ON).valid : parseUnsigned(value) !== undefined;
    if (!ok) return { name, value };
  }
  return undefined;
}

const NO_CODES: ReadonlySet<number> = new Set();

/** Envoy's RetryPolicyImpl when a route has none: one retry, on nothing until a header names conditions. */
const DEFAULT_POLICY: RetryPolicy = Object.freeze({
  retryOn: new Set<string>(),
  numRetries: 1,
  perTryTimeoutMs: 0,
  baseIntervalMs: DEFAULT_BASE_INTERVAL_MS,
  maxIntervalMs: DEFAULT_BASE_INTERVAL_MS * 10,
  retriableStatusCodes: NO_CODES,
  avoidPreviousHosts: false,
  hostSelectionMaxAttempts: 1,
});

const RETRY_HEADERS = ['x-envoy-retry-on', 'x-envoy-retry-grpc-on', 'x-envoy-max-retries', 'x-envoy-retriable-status-codes', 'x-envoy-retriable-header-names'];

function hasAny(h: HeaderMap, names: readonly string[]): boolean {
  for (const n of names) if (h[n] !== undefined) return true;
  return false;
}

/** RetryStateImpl::create and its constructor: the route's policy with the request's headers merged in (and consumed). */
function retryPolicyFor(route: CompiledRetryPolicy | undefined, h: HeaderMap, internal: boolean): RetryPolicy | undefined {
  const gate = route?.retriableRequestHeaders;
  const gated = gate !== undefined && gate.length > 0 && !gate.some((m) => m.matchesMap(h));
  if (!internal || !hasAny(h, RETRY_HEADERS)) return gated ? undefined : route;
  const base: RetryPolicy = route ?? DEFAULT_POLICY;
  const retryOn = new Set(base.retryOn);
  const on = take(h, 'x-envoy-retry-on');
  if (on !== undefined) for (const n of tokens(on, RETRY_ON).names) retryOn.add(n);
  const grpcOn = take(h, 'x-envoy-retry-grpc-on');
  if (grpcOn !== undefined) for (const n of tokens(grpcOn, RETRY_GRPC_ON).names) retryOn.add(n);
  const max = parseUnsigned(take(h, 'x-envoy-max-retries'));
  const codes = take(h, 'x-envoy-retriable-status-codes');
  const names = take(h, 'x-envoy-retriable-header-names');
  if (gated || retryOn.size === 0) return undefined;
  let retriableStatusCodes = base.retriableStatusCodes;
  if (codes !== undefined) {
    const all = new Set(retriableStatusCodes);
    for (const c of codes.split(',')) {
      const n = parseUnsigned(c);
      if (n !== undefined) all.add(n);
    }
    retriableStatusCodes = all;
  }
  let retriableHeaders = base.retriableHeaders;
  if (names !== undefined) {
    const extra: HeaderPredicate[] = [];
    for (const n of names.split(',')) {
      const name = n.trim().toLowerCase();
      if (name !== '') extra.push({ name, matchesMap: (m) => m[name] !== undefined });
    }
    retriableHeaders = [...(retriableHeaders ?? []), ...extra];
  }
  return { ...base, retryOn, numRetries: max ?? base.numRetries, retriableStatusCodes, retriableHeaders };
}

/**
 * The request's timeouts and retry policy (FilterUtility::finalTimeout, RetryStateImpl::create), with the
 * headers that steer them consumed. `grpc` is Envoy's is_grpc_request.
 */
export function requestControls(route: TimeoutRoute, retry: CompiledRetryPolicy | undefined, h: HeaderMap, grpc: boolean, cfg: RouterConfig): RequestControls {
  const legacyGrpc = !route.newTimeouts && grpc && route.maxGrpcTimeoutMs !== undefined;
  let timeoutMs = route.newTimeouts ? 0 : legacyGrpc ? legacyGrpcTimeout(route, h) : route.timeoutMs;
  let perTryTimeoutMs = retry?.perTryTimeoutMs ?? 0;
  let alt: string | undefined;
  let policy: RetryPolicy | undefined;
  // The connection manager removed the steering headers from every request it did not mark internal
  // (request-headers.ts), so only an internal one needs looking at.
  if (h['x-envoy-internal'] !== undefined) {
    const expected = cfg.respectExpectedRqTimeout ? joinedHeader(h, 'x-envoy-expected-rq-timeout-ms') : undefined;
    if (expected !== undefined) timeoutMs = parseUnsigned(expected) ?? timeoutMs;
    else {
      const header = take(h, 'x-envoy-upstream-rq-timeout-ms');
      if (header !== undefined) timeoutMs = parseUnsigned(header) ?? timeoutMs;
    }
    const perTry = take(h, 'x-envoy-upstream-rq-per-try-timeout-ms');
    if (perTry !== undefined) perTryTimeoutMs = parseUnsigned(perTry) ?? perTryTimeoutMs;
    alt = take(h, 'x-envoy-upstream-rq-timeout-alt-response');
    // Hedging is not supported (a route's hedge_policy is refused); the header is consumed as Envoy consumes it.
    take(h, 'x-envoy-hedge-on-per-try-timeout');
    policy = retryPolicyFor(retry, h, true);
  } else policy = retry !== undefined ? retryPolicyFor(retry, h, false) : undefined;
  if (perTryTimeoutMs >= timeoutMs && timeoutMs !== 0) perTryTimeoutMs = 0;
  // Not among the headers the connection manager removes: Envoy takes it from any request.
  const streamDuration = h['x-envoy-upstream-stream-duration-ms'] !== undefined ? take(h, 'x-envoy-upstream-stream-duration-ms') : undefined;
  return {
    timeoutMs,
    perTryTimeoutMs,
    timeoutStatus: alt !== undefined ? 204 : 504,
    retry: policy === undefined || policy.retryOn.size === 0 ? undefined : policy,
    grpcTimeoutHeader: legacyGrpc,
    upstreamStreamDurationMs: streamDuration !== undefined ? parseUnsigned(streamDuration) : undefined,
  };
}

/** FilterUtility::setTimeoutHeaders: the timeout an attempt starting `elapsedMs` after the request was complete has left (0: none). */
export function expectedTimeoutMs(c: RequestControls, elapsedMs: number): number {
  const global = c.timeoutMs;
  let expected = c.perTryTimeoutMs > 0 ? c.perTryTimeoutMs : global;
  if (expected > 0 && global > 0) expected = elapsedMs >= global ? 1 : Math.min(expected, global - elapsedMs);
  return expected;
}

/** Sets x-envoy-expected-rq-timeout-ms (unless suppressed) and, under max_grpc_timeout, grpc-timeout on an attempt's headers. */
export function setTimeoutHeaders(h: HeaderMap, c: RequestControls, elapsedMs: number, suppressEnvoyHeaders: boolean): void {
  const expected = expectedTimeoutMs(c, elapsedMs);
  if (expected <= 0) return;
  if (!suppressEnvoyHeaders) h['x-envoy-expected-rq-timeout-ms'] = String(expected);
  if (c.grpcTimeoutHeader) h['grpc-timeout'] = formatGrpcTimeout(expected);
}

/**
 * The headers an attempt sends upstream: the downstream's minus hop-by-hop and pseudo headers, with the
 * (rewritten) host and x-envoy-attempt-count when the virtual host asks for it (`attempt` 0: not).
 */
export function upstreamHeaders(s: HttpStream, attempt: number): HeaderMap {
  const src = s.request.headers;
  const h: HeaderMap = {};
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || isHopByHop(k)) continue;
    h[k] = src[k];
  }
  if (src['te'] === 'trailers') h['te'] = 'trailers';
  h['host'] = s.upstreamAuthority;
  if (attempt > 0) h['x-envoy-attempt-count'] = String(attempt);
  return h;
}

/** Http::Utility::updateAuthority's append_xfh: the authority being replaced goes at the end of x-forwarded-host. */
export function appendForwardedHost(h: HeaderMap, previous: string): void {
  if (previous === '') return;
  const xfh = joinedHeader(h, 'x-forwarded-host');
  h['x-forwarded-host'] = xfh === undefined ? previous : `${xfh},${previous}`;
}

/** What an attempt's headers depend on besides the request (the ForwardPlan's fields). */
export interface AttemptHeaderOptions {
  readonly controls: RequestControls;
  readonly suppressEnvoyHeaders: boolean;
  readonly includeAttemptCount: boolean;
  /** The virtual host's include_is_timeout_retry_header: retries say whether a per-try timeout caused them. */
  readonly includeIsTimeoutRetry: boolean;
  /** auto_host_rewrite: each attempt's host header is its host's hostname (when it has one). */
  readonly autoHostRewrite: boolean;
  /** append_x_forwarded_host: a rewritten host header leaves the original in x-forwarded-host. */
  readonly appendXForwardedHost: boolean;
}

/**
 * An attempt's request headers (attempt 1 is the first): the timeout it has left `elapsedMs` after the request
 * was complete (setTimeoutHeaders), x-envoy-is-timeout-retry on a retry (`timeoutRetry`: a per-try timeout
 * caused it), and with auto_host_rewrite the host's `hostname` as the host (UpstreamRequest's updateAuthority).
 */
export function attemptHeaders(s: HttpStream, o: AttemptHeaderOptions, attempt: number, hostname: string | undefined, timeoutRetry: boolean, elapsedMs: number): HeaderMap {
  const h = upstreamHeaders(s, o.includeAttemptCount ? attempt : 0);
  if (o.includeIsTimeoutRetry && attempt > 1) h['x-envoy-is-timeout-retry'] = timeoutRetry ? 'true' : 'false';
  if (o.autoHostRewrite && hostname !== undefined) {
    if (o.appendXForwardedHost) appendForwardedHost(h, s.upstreamAuthority);
    h['host'] = hostname;
  }
  setTimeoutHeaders(h, o.controls, elapsedMs, o.suppressEnvoyHeaders);
  return h;
}
