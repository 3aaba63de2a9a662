// The parts of a RouteAction the router reads besides cluster, path and host: timeouts (route timeout
// 15 s when unset, 0 disables), idle timeout, retry policy (the route's, else the virtual host's),
// hash policies, request mirror policies (the route's, else the virtual host's, else the route
// configuration's), stream duration limits, upgrades and the cluster-not-found status.
// Internal redirects are not implemented, so a route that asks for them is a problem rather than one
// that silently passes 3xx responses through.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction

import {
  RouteAction_ClusterNotFoundResponseCode as NotFound,
  RouteAction_InternalRedirectAction,
  type RouteAction,
  type RouteAction_RequestMirrorPolicy,
} from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { RoutingPriority } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import { asciiLower } from './ascii.js';
import { compileHashPolicies } from './hash-policy.js';
import { ALWAYS, compileFraction, optionalDurationMs } from './proto-values.js';
import { compileRetryPolicy } from './retry-policy.js';
import type { CompiledMirrorPolicy, CompiledRetryPolicy, RouteActionPolicy } from './types.js';

export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

const NOT_FOUND_STATUS: Record<NotFound, number> = {
  [NotFound.SERVICE_UNAVAILABLE]: 503,
  [NotFound.NOT_FOUND]: 404,
  [NotFound.INTERNAL_SERVER_ERROR]: 500,
};

/** request_mirror_policies of one level; `path` is the list's field path. */
export function compileMirrorPolicies(list: readonly RouteAction_RequestMirrorPolicy[], path: string, problems: string[]): readonly CompiledMirrorPolicy[] {
  return Object.freeze(
    list.map((m, i) => {
      const at = `${path}[${i}]`;
      if (m.cluster !== '' && m.clusterHeader !== '') problems.push(`${at}: only one of cluster or cluster_header in request mirror policy can be specified`);
      else if (m.cluster === '' && m.clusterHeader === '') problems.push(`${at}: exactly one of cluster or cluster_header in request mirror policy need to be specified`);
      if (m.runtimeFraction !== undefined && m.runtimeFraction.defaultValue === undefined) problems.push(`${at}.runtime_fraction.default_value: must be set`);
      return Object.freeze({
        cluster: m.cluster,
        clusterHeader: asciiLower(m.clusterHeader),
        fraction: compileFraction(m.runtimeFraction?.defaultValue, ALWAYS),
        traceSampled: m.traceSampled,
        disableShadowHostSuffixAppend: m.disableShadowHostSuffixAppend,
      });
    }),
  );
}

export interface InheritedPolicies {
  /** The virtual host's compiled retry policy. */
  readonly retryPolicy: CompiledRetryPolicy | undefined;
  /** The virtual host's mirror policies, already falling back to the route configuration's. */
  readonly mirrorPolicies: readonly CompiledMirrorPolicy[];
  /** The virtual host's per_request_buffer_limit_bytes (undefined: unset). */
  readonly bufferLimit: number | undefined;
}

/** `path` is the RouteAction's field path; `routeBufferLimit` the Route's per_request_buffer_limit_bytes. */
export function compileRouteActionPolicy(a: RouteAction, inherited: InheritedPolicies, path: string, problems: string[], routeBufferLimit?: number): RouteActionPolicy {
  const upgrades = new Map<string, boolean>();
  a.upgradeConfigs.forEach((u, i) => {
    const type = asciiLower(u.upgradeType);
    if (upgrades.has(type)) problems.push(`${path}.upgrade_configs[${i}]: duplicate upgrade ${u.upgradeType}`);
    upgrades.set(type, u.enabled ?? true);
    if (u.connectConfig !== undefined && type !== 'connect' && type !== 'connect-udp') {
      problems.push(`${path}.upgrade_configs[${i}]: non-CONNECT upgrade type ${u.upgradeType} has connect_config`);
    }
  });
  if (a.internalRedirectPolicy !== undefined || a.internalRedirectAction === RouteAction_InternalRedirectAction.HANDLE_INTERNAL_REDIRECT) {
    problems.push(`${path}.internal_redirect_policy: internal redirects are not supported`);
  }
  if (a.retryPolicyTypedConfig !== undefined) problems.push(`${path}.retry_policy_typed_config: retry policy extensions are not supported`);
  if (a.hedgePolicy?.hedgeOnPerTryTimeout === true) problems.push(`${path}.hedge_policy.hedge_on_per_try_timeout: request hedging is not supported`);
  // HIGH priority routes use the clusters' HIGH circuit breaker thresholds and connection pools in Envoy;
  // every request here counts against the DEFAULT ones, so such a route is refused rather than misjudged.
  if (a.priority === RoutingPriority.HIGH) problems.push(`${path}.priority: HIGH routing priority (the clusters' HIGH circuit breaker thresholds) is not supported`);
  const msd = a.maxStreamDuration;
  const timeout = optionalDurationMs(a.timeout, `${path}.timeout`, problems);
  const hostRewrite = a.hostRewriteSpecifier;
  return Object.freeze({
    timeoutMs: timeout ?? DEFAULT_ROUTE_TIMEOUT_MS,
    idleTimeoutMs: optionalDurationMs(a.idleTimeout, `${path}.idle_timeout`, problems),
    retryPolicy: a.retryPolicy !== undefined ? compileRetryPolicy(a.retryPolicy, `${path}.retry_policy`, problems) : inherited.retryPolicy,
    hashPolicies: compileHashPolicies(a.hashPolicy, `${path}.hash_policy`, problems),
    mirrorPolicies: a.requestMirrorPolicies.length > 0 ? compileMirrorPolicies(a.requestMirrorPolicies, `${path}.request_mirror_policies`, problems) : inherited.mirrorPolicies,
    newTimeouts: msd !== undefined,
    maxStreamDurationMs: optionalDurationMs(msd?.maxStreamDuration, `${path}.max_stream_duration.max_stream_duration`, problems),
    grpcTimeoutHeaderMaxMs: optionalDurationMs(msd?.grpcTimeoutHeaderMax, `${path}.max_stream_duration.grpc_timeout_header_max`, problems),
    grpcTimeoutHeaderOffsetMs: optionalDurationMs(msd?.grpcTimeoutHeaderOffset, `${path}.max_stream_duration.grpc_timeout_header_offset`, problems),
    maxGrpcTimeoutMs: optionalDurationMs(a.maxGrpcTimeout, `${path}.max_grpc_timeout`, problems),
    grpcTimeoutOffsetMs: optionalDurationMs(a.grpcTimeoutOffset, `${path}.grpc_timeout_offset`, problems),
    autoHostRewrite: hostRewrite.case === 'autoHostRewrite' && hostRewrite.value.value,
    appendXForwardedHost: a.appendXForwardedHost,
    clusterNotFoundStatus: NOT_FOUND_STATUS[a.clusterNotFoundResponseCode] ?? 503,
    upgrades,
    retryShadowBufferLimit: routeBufferLimit ?? inherited.bufferLimit,
  });
}
