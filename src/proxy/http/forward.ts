// The router filter's entry: a request with no route gets 404 (NR), a redirect or direct response is
// answered here, and a forwarding route becomes a ForwardPlan for the Router: cluster (NC when missing),
// rewritten path and authority, route header mutations, hash for consistent-hash balancers, timeout and
// retry policy.

import type { HcmEnv } from './hcm-env.js';
import type { HttpStream } from './http-stream.js';
import type { CompiledHashPolicy, ForwardSelection, HeaderFormatContext, RouteSelection } from './route/types.js';
import { hashKey, type HashInput } from '../upstream/lb/hash-policy.js';
import { ResponseFlag } from './response-flags.js';
import { Router } from './router.js';
import { bodyBufferLimit } from './forward-plan.js';
import { mirrorTargets } from './mirror.js';
import type { HeaderMap } from './headers.js';
import { cookieValue, setCookieValue } from './cookies.js';
import { xxHash64 } from '../upstream/lb/xxhash64.js';
import { hostPort } from '../lib/address.js';
import { originalDestinationOf } from '../upstream/original-dst.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import { appendForwardedHost, requestControls, strictCheckFailure, type RouterConfig } from './router-controls.js';
import { isGrpcRequest } from './local-reply.js';
import { routerStats, routeStatsOf, virtualClusterOf, virtualClusterStatsOf } from './route-stats.js';
import { joinedHeader } from './route/request-view.js';

/**
 * The cookie Envoy's router makes when a cookie hash policy with a ttl finds none (addDownstreamSetCookie,
 * source/common/router/router.h): the value is the hex xxHash64 of the connection's remote and local
 * addresses, so every stream of one connection gets the same one; it goes out as
 * `name="value"; Max-Age=ttl; Path=path; attributes; HttpOnly` (Http::Utility::makeSetCookieValue).
 */
function generatedCookie(p: Extract<CompiledHashPolicy, { kind: 'cookie' }>, s: HttpStream, ttlMs: number): { value: string; header: string } {
  const r = s.request;
  const value = xxHash64(hostPort(r.remoteAddress, r.remotePort) + hostPort(r.localAddress, r.localPort)).toString(16).padStart(16, '0');
  return { value, header: setCookieValue(p.name, value, p.path, Math.floor(ttlMs / 1000), true, p.attributes) };
}

function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(path.slice(q + 1)).get(name) ?? undefined;
}

function requestHash(policies: readonly CompiledHashPolicy[], s: HttpStream, setCookies: string[]): bigint | undefined {
  if (policies.length === 0) return undefined;
  const h = s.request.headers;
  const inputs: HashInput[] = policies.map((p): HashInput => {
    switch (p.kind) {
      case 'header': {
        const v = h[p.headerName];
        const values = v === undefined ? [] : typeof v === 'string' ? [v] : v;
        return { kind: 'header', values: p.rewrite !== undefined ? values.map(p.rewrite) : values, terminal: p.terminal };
      }
      case 'cookie': {
        let value = cookieValue(h, p.name);
        if (value === undefined && p.ttlMs !== undefined) {
          const made = generatedCookie(p, s, p.ttlMs);
          value = made.value;
          setCookies.push(made.header);
        }
        return { kind: 'cookie', value, terminal: p.terminal };
      }
      case 'sourceIp':
        return { kind: 'source-ip', ip: s.request.remoteAddress, terminal: p.terminal };
      case 'queryParameter':
        return { kind: 'query-parameter', value: queryValue(s.request.path, p.name), terminal: p.terminal };
      case 'filterState':
        return { kind: 'filter-state', hash: undefined, terminal: p.terminal };
    }
  });
  return hashKey(inputs);
}

function formatContext(s: HttpStream): HeaderFormatContext {
  return { downstreamRemoteIp: s.request.remoteAddress, downstreamRemotePort: s.request.remotePort, protocol: s.request.protocol, requestHeaders: s.request.headers };
}

function forwardRoute(s: HttpStream, sel: ForwardSelection, env: HcmEnv, ctx: HeaderFormatContext, router: RouterConfig): void {
  const info = s.info;
  info.routeName = sel.route.name;
  const cluster = sel.cluster === '' ? undefined : env.cluster(sel.cluster);
  if (cluster === undefined) {
    info.upstreamCluster = sel.cluster;
    s.localReply({ status: sel.action.clusterNotFoundStatus, body: '', flag: ResponseFlag.NC, details: 'cluster_not_found' });
    return;
  }
  if (router.strictCheckHeaders.length > 0) {
    const bad = strictCheckFailure(s.request.headers, router.strictCheckHeaders);
    if (bad !== undefined) {
      s.localReply({ status: 400, body: `invalid header '${bad.name}' with value '${bad.value}'`, flag: ResponseFlag.IH, details: `request_headers_failed_strict_check{${bad.name}}` });
      return;
    }
  }
  // Before the route's own request headers are added, as Envoy's router consumes them (finalTimeout, then finalizeRequestHeaders).
  const a = sel.action;
  const controls = requestControls(a, a.retryPolicy, s.request.headers, isGrpcRequest(s.request.headers['content-type']), router);
  sel.applyRequestHeaders(s.request.headers, ctx);
  s.responseHooks.push((_status, h) => sel.applyResponseHeaders(h, ctx));
  if (sel.path !== undefined) {
    if (s.request.headers['x-envoy-original-path'] === undefined) s.request.headers['x-envoy-original-path'] = s.request.path;
    s.upstreamPath = sel.path;
  }
  if (sel.host !== undefined) {
    // append_x_forwarded_host: the authority being replaced is kept (Http::Utility::updateAuthority).
    if (a.appendXForwardedHost) appendForwardedHost(s.request.headers, s.upstreamAuthority);
    s.upstreamAuthority = sel.host;
  }
  if (s.tunnel !== undefined) return s.tunnel(cluster);
  // include_attempt_count_in_response: every answer from here on (the upstream's or the router's) says how many attempts it took.
  if (sel.virtualHost.includeAttemptCountInResponse) s.responseHooks.push((_status, h) => void (h['x-envoy-attempt-count'] = String(info.attempts)));
  const setCookies: string[] = [];
  const hash = requestHash(a.hashPolicies, s, setCookies);
  const routeStats = routeStatsOf(sel.virtualHost, sel.route, env.stats);
  const vcluster = sel.virtualHost.virtualClusters.length > 0 ? virtualClusterOf(sel.virtualHost, requestHeaders(s)) : undefined;
  if (vcluster !== undefined) info.virtualClusterName = vcluster;
  new Router(s, {
    cluster,
    stats: routerStats(cluster.envoyStats, routeStats, vcluster !== undefined ? virtualClusterStatsOf(sel.virtualHost, vcluster, env.stats) : undefined),
    routeStats,
    // The route's timeouts and retries, as the request's x-envoy-* headers change them (router-controls.ts).
    controls,
    suppressEnvoyHeaders: router.suppressEnvoyHeaders,
    includeAttemptCount: sel.virtualHost.includeRequestAttemptCount,
    includeIsTimeoutRetry: sel.virtualHost.includeIsTimeoutRetryHeader,
    autoHostRewrite: a.autoHostRewrite,
    appendXForwardedHost: a.appendXForwardedHost,
    perTryIdleTimeoutMs: a.retryPolicy?.perTryIdleTimeoutMs ?? 0,
    hash,
    ...(setCookies.length > 0 ? { setCookies } : {}),
    originalDestination: cluster.config.kind === 'original-dst' ? originalDestination(cluster, s) : undefined,
    mirrors: mirrorTargets(a.mirrorPolicies, s.request.headers, s.random, (name) => env.cluster(name)),
    bodyLimit: bodyBufferLimit(s.bufferLimit, a.retryShadowBufferLimit),
  }).start();
}

/** The request's headers as the router sees them (pseudo-headers included), for virtual cluster matchers. */
function requestHeaders(s: HttpStream): { header(name: string): string | undefined } {
  const r = s.request;
  return {
    header: (name) => (name === ':path' ? r.path : name === ':method' ? r.method : name === ':authority' || name === 'host' ? r.authority : name === ':scheme' ? r.scheme : joinedHeader(r.headers, name)),
  };
}

/** Where an ORIGINAL_DST cluster connects for this request (original-dst.ts). */
function originalDestination(cluster: ClusterHandle, s: HttpStream): string {
  const r = originalDestinationOf(cluster.config.originalDst, s.request.headers, withPort(s.request.authority, s.request.scheme));
  if (r.invalidHeader) cluster.envoyStats.originalDstHostInvalid.inc();
  return r.destination;
}

/** host[:port] with the scheme's default port added. */
function withPort(authority: string, scheme: 'http' | 'https'): string {
  return /:\d+$/.test(authority) && !authority.endsWith(']') ? authority : `${authority}:${scheme === 'https' ? 443 : 80}`;
}

export function forward(s: HttpStream, sel: RouteSelection | undefined, env: HcmEnv, router: RouterConfig): void {
  if (sel === undefined) {
    s.localReply({ status: 404, body: '', flag: ResponseFlag.NR, details: 'route_not_found' });
    return;
  }
  s.info.routeName = sel.route.name;
  const ctx = formatContext(s);
  switch (sel.kind) {
    case 'route':
      return forwardRoute(s, sel, env, ctx, router);
    case 'redirect': {
      const h: HeaderMap = { location: sel.location };
      sel.applyResponseHeaders(h, ctx);
      s.respond(sel.status, h, '', 'direct_response');
      return;
    }
    case 'directResponse': {
      const h: HeaderMap = {};
      if (sel.body !== undefined && sel.body.length > 0) h['content-type'] = 'text/plain';
      sel.applyResponseHeaders(h, ctx);
      s.respond(sel.status, h, sel.body !== undefined ? Buffer.from(sel.body) : '', 'direct_response');
      return;
    }
  }
}
