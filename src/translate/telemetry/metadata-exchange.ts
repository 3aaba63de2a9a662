// The `istio.metadata_exchange` HTTP filter every sidecar and gateway HCM starts with (Istio's
// listener_builder.go appendMxFilter and xds/filters SidecarInboundMetadataFilter /
// SidecarOutboundMetadataFilter): peer metadata discovered from the `x-envoy-peer-metadata` headers or the
// workload, and the proxy's own propagated to the peer; downstream on inbound, upstream on outbound and gateways.
// It goes first so that RBAC and stats can read the peer (istio/istio#41066). Not on proxyless gRPC listeners.
//
// Its TCP twin, the network filter of the same name (xds/filters TCPListenerMx and TCPClusterMx,
// `envoy.tcp.metadataexchange.config.MetadataExchange` in a TypedStruct with protocol `istio-peer-exchange` and
// enable_discovery): first on every sidecar inbound chain (TCP, HTTP and the blackhole chain;
// buildCompleteNetworkFilters, buildInboundNetworkFiltersForHTTP, buildInboundBlackhole) and on gateway TCP
// chains of ISTIO_MUTUAL servers, and as the upstream filter of every outbound cluster (applyMetadataExchange).
// When a connection's ALPN is `istio-peer-exchange` (in-mesh mTLS clusters advertise it, inbound TCP chains
// accept it), both proxies write their metadata first thing and read the peer's.
// Not emitted, as Istio by default does not emit them either:
//  - SidecarOutboundMetadataFilterSkipHeaders (`skip_external_clusters`), chosen only when ProxyConfig
//    proxyHeaders.metadataExchangeHeaders.mode is IN_MESH, which Isthmus's mesh config does not carry;
//  - `additional_labels`, set only by the PILOT_MX_ADDITIONAL_LABELS feature flag (empty by default).

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { FilterSchema as ClusterFilterSchema, type Filter as ClusterFilter } from '../../xds/gen/envoy/config/cluster/v3/filter_pb.js';
import { FilterSchema, type Filter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { typedStructAny } from './typed-struct.js';

export const METADATA_EXCHANGE_FILTER = 'istio.metadata_exchange';
/** filters.PeerMetadataTypeURL: istio/proxy's io.istio.http.peer_metadata.Config. */
export const PEER_METADATA_TYPE_URL = 'type.googleapis.com/io.istio.http.peer_metadata.Config';
/** filters.MetadataExchangeTypeURL: istio/proxy's TCP metadata exchange config. */
export const TCP_METADATA_EXCHANGE_TYPE_URL = 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange';
/** The ALPN protocol both sides of a TCP metadata exchange negotiate (util.ALPNInMeshWithMxc's first entry). */
export const METADATA_EXCHANGE_ALPN = 'istio-peer-exchange';

function mxFilter(direction: 'downstream' | 'upstream'): HttpFilter {
  const fields = {
    [`${direction}_discovery`]: [{ istio_headers: {} }, { workload_discovery: {} }],
    [`${direction}_propagation`]: [{ istio_headers: {} }],
  };
  return create(HttpFilterSchema, { name: METADATA_EXCHANGE_FILTER, configType: { case: 'typedConfig', value: typedStructAny(PEER_METADATA_TYPE_URL, fields) } });
}

let inbound: HttpFilter | undefined;
let outbound: HttpFilter | undefined;

/** The metadata exchange filter for an HCM of this class (built once; never mutate the result). */
export function metadataExchangeHttpFilter(cls: ListenerClass): HttpFilter {
  if (cls === 'sidecar-inbound') return (inbound ??= mxFilter('downstream'));
  return (outbound ??= mxFilter('upstream'));
}

/** The TCP exchange's config: istiod's map, keys in the order a deterministic marshal writes them. */
function tcpMxConfig(): Any {
  return typedStructAny(TCP_METADATA_EXCHANGE_TYPE_URL, { enable_discovery: true, protocol: METADATA_EXCHANGE_ALPN });
}

let listenerMx: Filter | undefined;
let clusterMx: ClusterFilter | undefined;

/** TCPListenerMx: the network filter that goes first on inbound chains (built once; never mutate the result). */
export function tcpListenerMetadataExchange(): Filter {
  return (listenerMx ??= create(FilterSchema, { name: METADATA_EXCHANGE_FILTER, configType: { case: 'typedConfig', value: tcpMxConfig() } }));
}

/** TCPClusterMx: the upstream network filter of outbound clusters (built once; never mutate the result). */
export function tcpClusterMetadataExchange(): ClusterFilter {
  return (clusterMx ??= create(ClusterFilterSchema, { name: METADATA_EXCHANGE_FILTER, typedConfig: tcpMxConfig() }));
}

/** applyMetadataExchange: appends TCPClusterMx to the cluster's upstream filters. */
export function applyClusterMetadataExchange(c: { filters: ClusterFilter[] }): void {
  c.filters.push(tcpClusterMetadataExchange());
}
