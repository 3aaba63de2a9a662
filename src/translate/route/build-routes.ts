// RDS for one proxy: the route configurations its listeners name (Istio's ConfigGenerator.BuildHTTPRoutes
// and grpcgen BuildHTTPRoutes). Sidecars get one per outbound HTTP port (sidecar-routes.ts); gateways one
// per HTTP server route name (gateway-routes.ts); proxyless gRPC clients one per service port
// (proxyless-routes.ts). Inbound route configurations are inlined in the inbound listeners
// (inbound-route.ts) and are not listed here. Pure; the caller sorts by name.

import type { RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import type { ProxyContext } from '../context.js';
import { buildGatewayRoutes } from './gateway-routes.js';
import { buildProxylessRoutes } from './proxyless-routes.js';
import { buildSidecarOutboundRoutes } from './sidecar-routes.js';

export { buildInboundRouteConfig, inboundRouteConfig, type InboundRouteInput } from './inbound-route.js';

export function buildRoutes(ctx: ProxyContext): RouteConfiguration[] {
  switch (ctx.proxy.type) {
    case 'sidecar':
      return buildSidecarOutboundRoutes(ctx);
    case 'router':
      return buildGatewayRoutes(ctx);
    case 'proxyless':
      return buildProxylessRoutes(ctx);
  }
}
