// The names Istio gives route configurations, so that listeners (which point at them over RDS or inline
// them) and routes agree: sidecar outbound `9080` per port and `<host>:<port>` for a sniffed service
// (pilot/pkg/networking/core/listener.go buildSidecarOutboundHTTPListenerOpts), inbound `inbound|9080||`
// (listener_inbound.go, the inbound cluster name), gateway `http.<port>` and
// `https.<port>.<portName>.<gateway>.<namespace>` (pilot/pkg/model/gateway.go gatewayRDSRouteName), and
// proxyless gRPC `outbound|<port>||<host>` (grpcgen/lds.go clusterKey). Pure string builders only.

import type { Server } from '../../api/networking/gateway.js';
import { isPassThroughServer } from '../../api/networking/gateway.js';
import { isHttpProtocol, parseProtocol } from '../../api/networking/protocol.js';
import { subsetKey } from '../../xds/names.js';

/** The shared outbound HTTP route config of a sidecar port: `9080`. */
export function sidecarOutboundRouteName(port: number): string {
  return String(port);
}

/** The route config of one auto-detected (sniffed) service port with its own VIP listener: `reviews.default.svc.cluster.local:9080`. */
export function sniffedServiceRouteName(hostname: string, port: number): string {
  return `${hostname}:${port}`;
}

/** Inbound HTTP route config (and cluster) of a workload port: `inbound|9080||` (model.BuildInboundSubsetKey). */
export function inboundRouteName(targetPort: number): string {
  return `inbound|${targetPort}||`;
}

/** Proxyless gRPC route config of a service port: `outbound|9080||reviews.default.svc.cluster.local`. */
export function proxylessRouteName(hostname: string, port: number): string {
  return subsetKey('outbound', undefined, hostname, port);
}

/**
 * gatewayRDSRouteName: `http.<resolvedPort>[.<bind>]` for HTTP-family servers (all plain HTTP servers on a
 * port share it), `https.<serverPort>.<portName>.<gateway>.<namespace>[.<bind>]` for TLS-terminating HTTPS,
 * and '' for everything else (TCP, TLS, passthrough HTTPS: no RDS).
 */
export function gatewayRouteName(server: Server, resolvedPort: number, gateway: { readonly name: string; readonly namespace: string }): string {
  const p = parseProtocol(server.port.protocol);
  const bind = server.bind !== undefined && server.bind !== '' ? `.${server.bind}` : '';
  if (isHttpProtocol(p)) return `http.${resolvedPort}${bind}`;
  if (p === 'HTTPS' && !isPassThroughServer(server)) {
    return `https.${server.port.number}.${server.port.name}.${gateway.name}.${gateway.namespace}${bind}`;
  }
  return '';
}
