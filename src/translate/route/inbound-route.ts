// The route configuration of a sidecar's inbound HTTP filter chain (pilot/pkg/networking/core/httproute.go
// buildSidecarInboundHTTPRouteConfig). Istio inlines it in the inbound listener's HCM, so buildRoutes does not
// list it; the listener builder calls one of these. One virtual host `inbound|http|<service port>` for every
// authority, one `default` route to the inbound cluster (`inbound|<target port>||`, or the inbound
// passthrough cluster for the catch-all chains) with no timeout and the inbound retry policy.

import { create } from '@bufbuild/protobuf';
import type { Protocol } from '../../api/networking/protocol.js';
import type { ServiceTarget } from '../../model/snapshot.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { ProxyContext } from '../context.js';
import { defaultInboundRoute, traceOperation } from './default-routes.js';
import { inboundRouteName } from './route-names.js';

export interface InboundRouteInput {
  /** Route config name: the inbound cluster name (`inbound|9080||`, or the passthrough cluster). */
  readonly name: string;
  readonly cluster: string;
  /** The service port (0 for the passthrough chains). */
  readonly servicePort: number;
  /** The service's hostname, for the trace decorator; '' for passthrough. */
  readonly hostname: string;
  /** The port's protocol: gRPC ports get no inbound retries. */
  readonly protocol?: Protocol | undefined;
}

export function inboundRouteConfig(input: InboundRouteInput): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: input.name,
    validateClusters: false,
    virtualHosts: [
      create(VirtualHostSchema, {
        name: `inbound|http|${input.servicePort}`,
        domains: ['*'],
        routes: [defaultInboundRoute(input.cluster, traceOperation(input.hostname, input.servicePort), input.protocol)],
      }),
    ],
  });
}

/** The inbound route config of one service port the workload serves. */
export function buildInboundRouteConfig(_ctx: ProxyContext, target: ServiceTarget): RouteConfiguration {
  const cluster = inboundRouteName(target.targetPort);
  return inboundRouteConfig({ name: cluster, cluster, servicePort: target.port.port, hostname: target.service.hostname, protocol: target.port.protocol });
}
