// The part every service cluster shares before policies apply (Istio's ClusterBuilder.buildCluster and
// setUpstreamProtocol, pilot/pkg/networking/core/cluster_builder.go): name, discovery type, alt stat name,
// DNS settings and the inline load assignment of STATIC / DNS clusters (none means no cluster at all, as
// Istio drops endpoint-less DNS clusters), the upstream HTTP protocol the port implies, and the telemetry
// metadata naming the services behind it.

import { isIPv4, isIPv6 } from 'node:net';
import { create } from '@bufbuild/protobuf';
import type { Protocol } from '../../api/networking/protocol.js';
import type { ProxyType } from '../../model/proxy.js';
import type { Service } from '../../registry/types.js';
import {
  Cluster_CommonLbConfigSchema,
  Cluster_DiscoveryType,
  Cluster_DnsLookupFamily,
  ClusterSchema,
} from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { LocalityLbEndpoints } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { durationFromSeconds } from '../proto-values.js';
import type { EndpointGroup } from '../endpoint/locality-endpoints.js';
import { addServicesMetadata } from './cluster-metadata.js';
import { altStatName, setH2Options, setUseDownstreamProtocol, wrapCluster, type MutableCluster } from './cluster-wrapper.js';

/** MeshConfig.dnsRefreshRate default (only used after failed lookups; TTLs are respected). */
export const DNS_REFRESH_RATE_SECONDS = 60;

export interface BaseClusterInput {
  readonly name: string;
  readonly type: Cluster_DiscoveryType;
  /** Inline endpoints for STATIC / STRICT_DNS / LOGICAL_DNS clusters. */
  readonly endpoints?: readonly LocalityLbEndpoints[];
  /** The registry endpoints behind `endpoints` (DNS clusters; for locality failover priorities). */
  readonly groups?: readonly EndpointGroup[];
  readonly protocol: Protocol | undefined;
  /** Services for `istio.services` telemetry metadata (none: no metadata). */
  readonly services: readonly Service[];
  readonly proxyType: ProxyType;
  readonly proxyIps: readonly string[];
}

/** util.SelectDNSLookupFamily (dual stack disabled): IPv6-only proxies resolve AAAA, everyone else A. */
function dnsLookupFamily(ips: readonly string[]): Cluster_DnsLookupFamily {
  if (ips.length > 0 && ips.every((ip) => isIPv6(ip)) && !ips.some((ip) => isIPv4(ip))) return Cluster_DnsLookupFamily.V6_ONLY;
  return Cluster_DnsLookupFamily.V4_ONLY;
}

/** isHTTP2 ports speak HTTP/2 upstream; sidecars mirror the downstream protocol on sniffed ports. */
export function setUpstreamProtocol(mc: MutableCluster, protocol: Protocol | undefined, proxyType: ProxyType): void {
  if (protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-Web') {
    setH2Options(mc);
    return;
  }
  if (proxyType === 'sidecar' && protocol === undefined) setUseDownstreamProtocol(mc);
}

/** buildCluster; undefined for a STATIC or DNS cluster without endpoints. */
export function buildBaseCluster(input: BaseClusterInput): MutableCluster | undefined {
  const { name, type } = input;
  const c = create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: type },
    commonLbConfig: create(Cluster_CommonLbConfigSchema, {}),
    altStatName: altStatName(name),
  });
  const mc = wrapCluster(c);
  if (type === Cluster_DiscoveryType.STRICT_DNS || type === Cluster_DiscoveryType.LOGICAL_DNS) {
    c.dnsLookupFamily = dnsLookupFamily(input.proxyIps);
    c.dnsRefreshRate = durationFromSeconds(DNS_REFRESH_RATE_SECONDS);
    c.respectDnsTtl = true;
  }
  if (type === Cluster_DiscoveryType.STRICT_DNS || type === Cluster_DiscoveryType.LOGICAL_DNS || type === Cluster_DiscoveryType.STATIC) {
    const endpoints = input.endpoints ?? [];
    if (endpoints.length === 0) return undefined;
    c.loadAssignment = create(ClusterLoadAssignmentSchema, { clusterName: name, endpoints: [...endpoints] });
    mc.dnsGroups = input.groups;
  }
  setUpstreamProtocol(mc, input.protocol, input.proxyType);
  if (input.services.length > 0) addServicesMetadata(c, input.services);
  return mc;
}
