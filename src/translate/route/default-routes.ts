// Routes Istio builds without any VirtualService (pilot/pkg/networking/core/route/route.go
// BuildDefaultHTTPOutboundRoute / BuildDefaultHTTPInboundRoute, httproute.go buildCatchAllVirtualHost):
// - outbound `default`: prefix `/` to the service port's cluster, mesh default retries, no timeout;
// - inbound `default`: prefix `/` to the inbound cluster, no timeout and no stream duration limit, retries
//   only `reset-before-request` (none on gRPC ports: it does not suit streams);
// - the catch-all virtual host of a sidecar's port route: `allow_any` to PassthroughCluster (or the
//   Sidecar's egressProxy) under ALLOW_ANY, else `block_all` answering 502.

import { create } from '@bufbuild/protobuf';
import type { Protocol } from '../../api/networking/protocol.js';
import {
  DecoratorSchema,
  DirectResponseActionSchema,
  RouteActionSchema,
  RouteAction_MaxStreamDurationSchema,
  RouteSchema,
  VirtualHostSchema,
  type Route,
  type VirtualHost,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { BLACKHOLE_ROUTE, PASSTHROUGH_CLUSTER, PASSTHROUGH_ROUTE } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { catchAllMatch } from './match.js';
import { destinationCluster, noTimeout, setTimeout } from './route-action.js';
import { convertInboundRetryPolicy, convertRetryPolicy } from './retry.js';

export const DEFAULT_ROUTE_NAME = 'default';

/** telemetry.TraceOperation: `<host>:<port>/*`. */
export function traceOperation(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}/*`;
}

function defaultRoute(cluster: string, operation: string): Route {
  return create(RouteSchema, {
    name: DEFAULT_ROUTE_NAME,
    match: catchAllMatch(),
    decorator: create(DecoratorSchema, { operation }),
    action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster } }) },
  });
}

/** BuildDefaultHTTPOutboundRoute (the caller adds a hash policy when the DestinationRule asks for one). */
export function defaultOutboundRoute(cluster: string, operation: string): Route {
  const r = defaultRoute(cluster, operation);
  if (r.action.case !== 'route') throw new Error('default route without a route action');
  const retry = convertRetryPolicy(undefined, false);
  if (retry !== undefined) r.action.value.retryPolicy = retry;
  setTimeout(r.action.value, undefined, false);
  return r;
}

/** BuildDefaultHTTPInboundRoute */
export function defaultInboundRoute(cluster: string, operation: string, protocol: Protocol | undefined): Route {
  const r = defaultRoute(cluster, operation);
  if (r.action.case !== 'route') throw new Error('default route without a route action');
  const action = r.action.value;
  action.timeout = noTimeout();
  action.maxStreamDuration = create(RouteAction_MaxStreamDurationSchema, { maxStreamDuration: noTimeout(), grpcTimeoutHeaderMax: noTimeout() });
  if (protocol !== 'GRPC' && protocol !== 'GRPC-Web') {
    const retry = convertInboundRetryPolicy(undefined);
    if (retry !== undefined) action.retryPolicy = retry;
  }
  return r;
}

/** Outbound traffic policy in effect: the Sidecar's (mode unset there means REGISTRY_ONLY), else the mesh's. */
export function allowAnyOutbound(ctx: ProxyContext): boolean {
  const tp = ctx.sidecar?.spec.outboundTrafficPolicy;
  if (tp !== undefined) return (tp.mode ?? 'REGISTRY_ONLY') === 'ALLOW_ANY';
  return ctx.snapshot.mesh.outboundTrafficPolicy === 'ALLOW_ANY';
}

/** buildCatchAllVirtualHost */
export function catchAllVirtualHost(ctx: ProxyContext): VirtualHost {
  if (allowAnyOutbound(ctx)) {
    const egress = ctx.sidecar?.spec.outboundTrafficPolicy?.egressProxy;
    const cluster = egress !== undefined ? destinationCluster(egress, undefined, 0) : PASSTHROUGH_CLUSTER;
    return create(VirtualHostSchema, {
      name: PASSTHROUGH_ROUTE,
      domains: ['*'],
      includeRequestAttemptCount: true,
      routes: [
        create(RouteSchema, {
          name: PASSTHROUGH_ROUTE,
          match: catchAllMatch(),
          action: {
            case: 'route',
            value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster }, timeout: noTimeout(), maxGrpcTimeout: noTimeout() }),
          },
        }),
      ],
    });
  }
  return create(VirtualHostSchema, {
    name: BLACKHOLE_ROUTE,
    domains: ['*'],
    includeRequestAttemptCount: true,
    routes: [
      create(RouteSchema, {
        name: BLACKHOLE_ROUTE,
        match: catchAllMatch(),
        action: { case: 'directResponse', value: create(DirectResponseActionSchema, { status: 502 }) },
      }),
    ],
  });
}
