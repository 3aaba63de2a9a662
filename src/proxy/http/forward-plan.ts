// What the router works from: the plan the route made for a request (forward.ts), and the state of each
// attempt it makes (router.ts).

import type { ClusterHandle, DispatchController, HostRequestCounters, PickedHost } from '../upstream/cluster-handle.js';
import type { MirrorTarget } from './mirror.js';
import type { AttemptHeaderOptions } from './router-controls.js';
import type { HttpStream } from './http-stream.js';
import type { HeaderMap } from './headers.js';
import { upstreamIdentity } from '../upstream/tls-identity.js';
import type { RouteStats, RouterStats } from './route-stats.js';

/** What the route decided for a request that goes upstream. */
export interface ForwardPlan extends AttemptHeaderOptions {
  readonly cluster: ClusterHandle;
  /** What the router counts for the cluster and, with a stat_prefix, the route (route-stats.ts). */
  readonly stats: RouterStats;
  /** The route's own stats (stat_prefix), for what only the route counts here (retry overflow). */
  readonly routeStats: RouteStats | undefined;
  /** route.per_try_idle_timeout (ms, 0: none): an attempt with nothing from its host that long is abandoned. */
  readonly perTryIdleTimeoutMs: number;
  readonly hash: bigint | undefined;
  /** ORIGINAL_DST: host:port to connect to. */
  readonly originalDestination: string | undefined;
  /** Shadow copies to send (request_mirror_policies already sampled for this request). */
  readonly mirrors: readonly MirrorTarget[];
  /**
   * How much request body may be kept for retries and shadows (bodyBufferLimit): past it they are abandoned,
   * as Envoy's router gives up on them (retry_or_shadow_abandoned).
   */
  readonly bodyLimit: number;
  /** Set-Cookie values a cookie hash policy made for this request, added to the upstream's response head. */
  readonly setCookies?: readonly string[];
}

/** One attempt of the router's (the first, or a retry). */
export interface Attempt {
  readonly host: PickedHost;
  startNs: bigint;
  controller: DispatchController | undefined;
  perTryTimer: NodeJS.Timeout | undefined;
  /** per_try_idle_timeout: refreshed by every read from the host. */
  idleTimer: NodeJS.Timeout | undefined;
  /** The cluster's max_stream_duration (or x-envoy-upstream-stream-duration-ms) for this attempt. */
  durationTimer: NodeJS.Timeout | undefined;
  done: boolean;
  /** HTTP/1.1: the callback the cluster's connection slots know this attempt by (granted or pending). */
  slot: (() => void) | undefined;
  /** Waiting for an HTTP/1.1 connection (Envoy's pending request): nothing was sent to the host yet. */
  pending: boolean;
  /** Sent to the host and not ended: counted in upstream_rq_active. */
  active: boolean;
  /** The host's request counters, once the attempt was sent (ClusterHandle.requestSent). */
  counters: HostRequestCounters | undefined;
}

/**
 * What the stream learns from the response head an attempt got: the host's identity (mTLS), the connection's
 * local address, x-envoy-upstream-service-time (unless suppress_envoy_headers), `via_upstream`; and the
 * Set-Cookie values a cookie hash policy made join the head `h`.
 */
export function noteUpstreamResponse(s: HttpStream, plan: ForwardPlan, a: Attempt, localAddress: string | undefined, h: HeaderMap): void {
  const id = upstreamIdentity(a.host);
  if (id !== undefined) {
    s.info.upstreamPeerPrincipal = id.peer;
    s.info.upstreamLocalPrincipal = id.local;
  }
  if (localAddress !== undefined) s.info.upstreamLocalAddress = localAddress;
  if (!plan.suppressEnvoyHeaders) s.info.upstreamServiceTimeMs = Number((process.hrtime.bigint() - a.startNs) / 1_000_000n);
  s.info.details = 'via_upstream';
  const made = plan.setCookies;
  if (made !== undefined) {
    const had = h['set-cookie'];
    h['set-cookie'] = had === undefined ? [...made] : [...(typeof had === 'string' ? [had] : had), ...made];
  }
}

/**
 * The request body the router may keep for retries and shadows: the stream's buffer limit (the listener's
 * per_connection_buffer_limit_bytes; 0: none), capped by the route's or virtual host's
 * per_request_buffer_limit_bytes (Envoy's Router::Filter: retry_shadow_buffer_limit_ is the decoder buffer
 * limit when it is not 0, then the smaller of it and the route entry's retryShadowBufferLimit).
 */
export function bodyBufferLimit(streamLimit: number, routeLimit: number | undefined): number {
  const limit = streamLimit === 0 ? Number.POSITIVE_INFINITY : streamLimit;
  return routeLimit === undefined ? limit : Math.min(limit, routeLimit);
}

/**
 * What auto_sni and auto_san_validation take the upstream name from (Envoy's Router::Filter::decodeHeaders):
 * the request header override_auto_sni_header names (`headerName`, lower case; '' unset) when the request has
 * it and it is not empty, else the host as the route left it.
 */
export function autoSniSource(s: HttpStream, headerName: string): string {
  if (headerName === '') return s.upstreamAuthority;
  const v = s.request.headers[headerName];
  const value = v === undefined ? '' : typeof v === 'string' ? v : v.join(',');
  return value !== '' ? value : s.upstreamAuthority;
}

/** Stops an attempt's per-try, stream duration and idle timers. */
export function clearAttemptTimers(a: Attempt): void {
  if (a.perTryTimer !== undefined) clearTimeout(a.perTryTimer);
  if (a.durationTimer !== undefined) clearTimeout(a.durationTimer);
  if (a.idleTimer !== undefined) clearTimeout(a.idleTimer);
}
