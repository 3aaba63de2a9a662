// The xDS v3 resource type URLs Isthmus serves and consumes, with the short names istioctl and
// istiod's debug endpoints use (LDS, RDS, CDS, EDS, SDS). Wire constants only; no protobuf imports, so
// the CLI and dashboards can name types without loading codecs.

export const TYPE_PREFIX = 'type.googleapis.com/';

export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export type XdsTypeUrl = typeof LISTENER_TYPE | typeof ROUTE_TYPE | typeof CLUSTER_TYPE | typeof ENDPOINT_TYPE | typeof SECRET_TYPE;

/** The order in which a consistent push sends types (Envoy's "make before break": CDS, EDS, LDS, RDS, SDS first). */
export const PUSH_ORDER: readonly XdsTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE];

const SHORT: Readonly<Record<XdsTypeUrl, string>> = {
  [LISTENER_TYPE]: 'LDS',
  [ROUTE_TYPE]: 'RDS',
  [CLUSTER_TYPE]: 'CDS',
  [ENDPOINT_TYPE]: 'EDS',
  [SECRET_TYPE]: 'SDS',
};

export function isXdsTypeUrl(s: string): s is XdsTypeUrl {
  return Object.hasOwn(SHORT, s);
}

/** `LDS` for the Listener type URL; the type name after the last dot for other types. */
export function shortTypeName(typeUrl: string): string {
  return isXdsTypeUrl(typeUrl) ? SHORT[typeUrl] : typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

/**
 * Types whose state-of-the-world responses must carry every subscribed resource (a missing one means it
 * was deleted): Listener and Cluster. Routes, endpoints and secrets may be sent individually.
 * (envoy docs: api-docs/xds_protocol "Resource types and full-state responses".)
 */
export function requiresFullState(typeUrl: string): boolean {
  return typeUrl === LISTENER_TYPE || typeUrl === CLUSTER_TYPE;
}
