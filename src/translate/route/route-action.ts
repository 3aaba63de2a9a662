// The forwarding half of an HTTP route (pilot/pkg/networking/core/route/route.go applyHTTPRouteDestination,
// processDestination, processWeightedDestination, setTimeout, GetDestinationCluster, MirrorPercent):
// - one destination -> `cluster`; several -> `weighted_clusters` with their weights, 0-weight ones dropped
//   (Envoy shares traffic by weight / sum of weights; no total_weight, as Istio);
// - a destination without a port takes the service's only port, else the port the route is built for;
// - timeout: the VirtualService's, else 0 (disabled); sidecars and gateways also get max_grpc_timeout (0 or
//   the timeout), proxyless gRPC gets max_stream_duration instead;
// - rewrite: uri -> prefix_rewrite, uriRegexRewrite -> regex_rewrite, authority -> host_rewrite_literal
//   (also from a request `:authority`/`Host` header operation);
// - mirror / mirrors -> request_mirror_policies with their fraction (100% when unset, none at 0%);
// - retries (retry.ts) and the consistent hash policy (hash-policy.ts) of the destinations;
// - the destination hosts are returned for the route's persistent-session config (translate-route.ts).
// Gateway semantics (VirtualServices generated from the Gateway API): a cluster that does not exist answers
// 500 instead of 503 (cluster_not_found_response_code; the Gateway API asks 500 for invalid backends), and a
// uri rewrite to `/` removes the matched path-separated prefix with a regex_rewrite `^<prefix>(/?)(.*)` ->
// `/\2` (`/p` -> `/`, `/p/x` -> `/x`), where Envoy's prefix_rewrite would leave `//x`.

import { create } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';
import type { ConsistentHashLB } from '../../api/networking/load-balancer.js';
import type { Destination, HTTPMirrorPolicy, HTTPRoute, HTTPRouteDestination } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import type { RuntimeFractionalPercent } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  RouteActionSchema,
  RouteAction_ClusterNotFoundResponseCode,
  RouteAction_MaxStreamDurationSchema,
  RouteAction_RequestMirrorPolicySchema,
  WeightedClusterSchema,
  WeightedCluster_ClusterWeightSchema,
  type Route,
  type RouteAction,
  type RouteAction_RequestMirrorPolicy,
  type WeightedCluster_ClusterWeight,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { RegexMatchAndSubstituteSchema, type RegexMatchAndSubstitute } from '../../xds/gen/envoy/type/matcher/v3/regex_pb.js';
import { subsetKey } from '../../xds/names.js';
import { durationFromString } from '../proto-values.js';
import { hashPolicyOf } from './hash-policy.js';
import { translateHeaderOperations } from './headers.js';
import { quoteMeta } from './match.js';
import { integerToFractional, percentToFractional, runtimeFraction } from './percent.js';
import { convertRetryPolicy } from './retry.js';
import { regexMatcher } from './string-match.js';

/** How routes are built for one listener context (Istio's RouteOptions). */
export interface RouteOptions {
  /** The listener terminates TLS (gateway HTTPS servers): redirects default to https. */
  readonly isTls: boolean;
  /** Proxyless gRPC: max_stream_duration instead of max_grpc_timeout. */
  readonly proxyless: boolean;
  /** The ports of the service a destination host names, as this context sees it; undefined when unknown. */
  servicePorts(hostname: string): readonly number[] | undefined;
  /** The consistent hash the destination's DestinationRule asks for. */
  hash(destination: Destination | undefined): ConsistentHashLB | undefined;
  /**
   * Istio's LookupService: the service a destination host names in this context (sidecar: the services on the
   * port; gateway: buildNameToServiceMapForHTTPRoutes). Used for persistent sessions; absent where they never
   * apply (proxyless gRPC).
   */
  readonly lookupService?: (hostname: string) => Service | undefined;
}

/** The cluster a destination names when nothing resolves it (GetDestinationCluster without a host). */
export const UNKNOWN_SERVICE_CLUSTER = 'UnknownService';

/** GetDestinationCluster: `outbound|<port>|<subset>|<host>`. */
export function destinationCluster(dest: Destination | undefined, servicePorts: readonly number[] | undefined, listenPort: number): string {
  const host = dest?.host ?? '';
  if (host === '') return UNKNOWN_SERVICE_CLUSTER;
  let port = listenPort;
  if (dest?.port !== undefined) port = dest.port.number ?? 0;
  else if (servicePorts !== undefined && servicePorts.length === 1) port = servicePorts[0] ?? listenPort;
  return subsetKey('outbound', dest?.subset ?? '', host, port);
}

/** The zero Duration Istio uses to disable a timeout. */
export function noTimeout(): Duration {
  return create(DurationSchema, {});
}

/** setTimeout */
export function setTimeout(action: RouteAction, timeout: string | undefined, proxyless: boolean): void {
  action.timeout = timeout !== undefined ? durationFromString(timeout) : noTimeout();
  if (proxyless) {
    action.maxStreamDuration = create(RouteAction_MaxStreamDurationSchema, { maxStreamDuration: action.timeout });
    return;
  }
  const t = action.timeout;
  action.maxGrpcTimeout = t.seconds === 0n && t.nanos === 0 ? noTimeout() : t;
}

function mirrorFraction(percentage: { value?: number | undefined } | undefined, legacyPercent: number | undefined): RuntimeFractionalPercent | undefined {
  if (percentage !== undefined) return (percentage.value ?? 0) > 0 ? runtimeFraction(percentToFractional(percentage.value ?? 0)) : undefined;
  if (legacyPercent !== undefined) return legacyPercent > 0 ? runtimeFraction(integerToFractional(legacyPercent)) : undefined;
  return runtimeFraction(integerToFractional(100));
}

function mirrorPolicy(cluster: string, fraction: RuntimeFractionalPercent): RouteAction_RequestMirrorPolicy {
  // DISABLE_SHADOW_HOST_SUFFIX defaults to true in Istio: the mirrored Host keeps its name.
  return create(RouteAction_RequestMirrorPolicySchema, { cluster, runtimeFraction: fraction, traceSampled: false, disableShadowHostSuffixAppend: true });
}

function mirrorPolicies(in_: HTTPRoute, opts: RouteOptions, listenPort: number): RouteAction_RequestMirrorPolicy[] {
  const out: RouteAction_RequestMirrorPolicy[] = [];
  if (in_.mirror !== undefined) {
    const f = mirrorFraction(in_.mirrorPercentage, in_.mirrorPercent);
    if (f !== undefined) out.push(mirrorPolicy(destinationCluster(in_.mirror, opts.servicePorts(in_.mirror.host ?? ''), listenPort), f));
  }
  for (const m of in_.mirrors ?? ([] as HTTPMirrorPolicy[])) {
    const f = mirrorFraction(m.percentage, undefined);
    if (f !== undefined && m.destination !== undefined) {
      out.push(mirrorPolicy(destinationCluster(m.destination, opts.servicePorts(m.destination.host ?? ''), listenPort), f));
    }
  }
  return out;
}

function weightedDestination(dst: HTTPRouteDestination, opts: RouteOptions, listenPort: number, action: RouteAction): WeightedCluster_ClusterWeight {
  const cw = create(WeightedCluster_ClusterWeightSchema, {
    name: destinationCluster(dst.destination, opts.servicePorts(dst.destination?.host ?? ''), listenPort),
    weight: dst.weight ?? 0,
  });
  if (dst.headers !== undefined) {
    const ops = translateHeaderOperations(dst.headers);
    cw.requestHeadersToAdd = ops.requestHeadersToAdd;
    cw.requestHeadersToRemove = ops.requestHeadersToRemove;
    cw.responseHeadersToAdd = ops.responseHeadersToAdd;
    cw.responseHeadersToRemove = ops.responseHeadersToRemove;
    if (ops.authority !== '') cw.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: ops.authority };
  }
  const hp = hashPolicyOf(opts.hash(dst.destination));
  if (hp !== undefined) action.hashPolicy.push(hp);
  return cw;
}

/**
 * The gateway-semantics rewrite to `/`: strip the route's path-separated prefix, keeping a leading `/`. (A
 * proxyless route matches by regex, so nothing is stripped there; gRPC clients do not rewrite paths anyway.)
 */
function stripPrefixRewrite(out: Route): RegexMatchAndSubstitute {
  const p = out.match?.pathSpecifier;
  const prefix = p?.case === 'pathSeparatedPrefix' ? p.value : '';
  return create(RegexMatchAndSubstituteSchema, { pattern: regexMatcher(`^${quoteMeta(prefix)}(/?)(.*)`), substitution: '/\\2' });
}

/**
 * applyHTTPRouteDestination: sets `out.action` to the RouteAction. `authority` is the authority a route-level
 * header operation asked for ('' for none); `semantics` is the VirtualService's (gateway semantics or none).
 * Returns the destination hosts, as Istio does: the one destination's, else those of the destinations with a
 * non-zero weight, in order.
 */
export function applyRouteDestination(
  out: Route,
  in_: HTTPRoute,
  opts: RouteOptions,
  authority: string,
  listenPort: number,
  semantics: VirtualServiceView['semantics'] = undefined,
): string[] {
  const gateway = semantics === 'gateway';
  const action = create(RouteActionSchema);
  setTimeout(action, in_.timeout, opts.proxyless);
  if (gateway) action.clusterNotFoundResponseCode = RouteAction_ClusterNotFoundResponseCode.INTERNAL_SERVER_ERROR;
  out.action = { case: 'route', value: action };
  let hostRewrite = authority;
  if (in_.rewrite !== undefined) {
    const rr = in_.rewrite.uriRegexRewrite;
    if (rr !== undefined) {
      action.regexRewrite = create(RegexMatchAndSubstituteSchema, { pattern: regexMatcher(rr.match ?? ''), substitution: rr.rewrite ?? '' });
    } else if (in_.rewrite.uri !== undefined && in_.rewrite.uri !== '') {
      if (gateway && in_.rewrite.uri === '/') action.regexRewrite = stripPrefixRewrite(out);
      else action.prefixRewrite = in_.rewrite.uri;
    }
    if (in_.rewrite.authority !== undefined && in_.rewrite.authority !== '') hostRewrite = in_.rewrite.authority;
  }
  if (hostRewrite !== '') action.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: hostRewrite };
  action.requestMirrorPolicies = mirrorPolicies(in_, opts, listenPort);

  const routes = in_.route ?? [];
  let consistentHash = false;
  let hostnames: string[];
  const only = routes.length === 1 ? routes[0] : undefined;
  if (only !== undefined) {
    hostnames = [only.destination?.host ?? ''];
    action.clusterSpecifier = { case: 'cluster', value: destinationCluster(only.destination, opts.servicePorts(only.destination?.host ?? ''), listenPort) };
    if (only.headers !== undefined) {
      const ops = translateHeaderOperations(only.headers);
      out.requestHeadersToAdd.push(...ops.requestHeadersToAdd);
      out.requestHeadersToRemove.push(...ops.requestHeadersToRemove);
      out.responseHeadersToAdd.push(...ops.responseHeadersToAdd);
      out.responseHeadersToRemove.push(...ops.responseHeadersToRemove);
      if (ops.authority !== '' && action.hostRewriteSpecifier.case === undefined) action.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: ops.authority };
    }
    const hash = opts.hash(only.destination);
    const hp = hashPolicyOf(hash);
    if (hp !== undefined) action.hashPolicy.push(hp);
    consistentHash = hash !== undefined;
  } else {
    const weighted = routes.filter((d) => (d.weight ?? 0) !== 0);
    hostnames = weighted.map((d) => d.destination?.host ?? '');
    const clusters = weighted.map((d) => weightedDestination(d, opts, listenPort, action));
    action.clusterSpecifier = { case: 'weightedClusters', value: create(WeightedClusterSchema, { clusters }) };
  }
  const retry = convertRetryPolicy(in_.retries, consistentHash);
  if (retry !== undefined) action.retryPolicy = retry;
  return hostnames;
}
