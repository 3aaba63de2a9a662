// Istio's names for generated xDS resources, so that dumps read like Istio's (pilot/pkg/model
// BuildSubsetKey / ParseSubsetKey, pilot/pkg/util/protoconv, networking/util constants).

/** Traffic direction of a cluster or listener, as the first segment of a cluster name. */
export type TrafficDirection = 'inbound' | 'outbound';

/** Clusters Istio always generates for sidecars and gateways. */
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const INBOUND_PASSTHROUGH_CLUSTER_IPV4 = 'InboundPassthroughClusterIpv4';
export const INBOUND_PASSTHROUGH_CLUSTER_IPV6 = 'InboundPassthroughClusterIpv6';
export const PROMETHEUS_CLUSTER = 'prometheus_stats';
export const AGENT_CLUSTER = 'agent';
export const XDS_CLUSTER = 'xds-grpc';
/** Route names Istio gives the catch-all routes. */
export const BLACKHOLE_ROUTE = 'block_all';
export const PASSTHROUGH_ROUTE = 'allow_any';

/** The listeners a sidecar's traffic is captured to (iptables REDIRECT targets in Istio). */
export const VIRTUAL_OUTBOUND_LISTENER = 'virtualOutbound';
export const VIRTUAL_INBOUND_LISTENER = 'virtualInbound';
export const VIRTUAL_OUTBOUND_PORT = 15001;
export const VIRTUAL_INBOUND_PORT = 15006;

/** SDS resource names for the workload certificate and root bundle (Istio's security model). */
export const SDS_DEFAULT = 'default';
export const SDS_ROOT = 'ROOTCA';

/** `outbound|9080|v1|reviews.default.svc.cluster.local`; an absent subset is the empty segment. */
export function subsetKey(direction: TrafficDirection, subset: string | undefined, host: string, port: number): string {
  return `${direction}|${port}|${subset ?? ''}|${host}`;
}

export interface SubsetKey {
  readonly direction: TrafficDirection;
  readonly port: number;
  readonly subset: string;
  readonly host: string;
}

/** The parts of a subset key, or undefined when `name` is not one (e.g. `BlackHoleCluster`). */
export function parseSubsetKey(name: string): SubsetKey | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, host] = parts as [string, string, string, string];
  if (direction !== 'inbound' && direction !== 'outbound') return undefined;
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) return undefined;
  return { direction, port: n, subset, host };
}

/** A listener named after its bind address and port: `0.0.0.0_9080`. */
export function listenerName(address: string, port: number): string {
  return `${address}_${port}`;
}

/** The proxyless gRPC listener (and route config) name for a service port: `reviews.default.svc.cluster.local:9080`. */
export function grpcListenerName(host: string, port: number): string {
  return `${host}:${port}`;
}
