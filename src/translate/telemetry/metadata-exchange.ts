// The `istio.metadata_exchange` HTTP filter every sidecar and gateway HCM starts with (Istio's
// listener_builder.go appendMxFilter and xds/filters SidecarInboundMetadataFilter /
// SidecarOutboundMetadataFilter): peer metadata discovered from the `x-envoy-peer-metadata` headers or the
// workload, and the proxy's own propagated to the peer; downstream on inbound, upstream on outbound and gateways.
// It goes first so that RBAC and stats can read the peer (istio/istio#41066). Not on proxyless gRPC listeners.
// Not emitted, as Istio by default does not emit them either:
//  - SidecarOutboundMetadataFilterSkipHeaders (`skip_external_clusters`), chosen only when ProxyConfig
//    proxyHeaders.metadataExchangeHeaders.mode is IN_MESH, which Isthmus's mesh config does not carry;
//  - `additional_labels`, set only by the PILOT_MX_ADDITIONAL_LABELS feature flag (empty by default).
// The network filter of the same name (TCPListenerMx / TCPClusterMx, the `istio-peer-exchange` ALPN protocol)
// is not emitted on TCP chains either: the Isthmus proxy does not speak that protocol.

import { create } from '@bufbuild/protobuf';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { typedStructAny } from './typed-struct.js';

export const METADATA_EXCHANGE_FILTER = 'istio.metadata_exchange';
/** filters.PeerMetadataTypeURL: istio/proxy's io.istio.http.peer_metadata.Config. */
export const PEER_METADATA_TYPE_URL = 'type.googleapis.com/io.istio.http.peer_metadata.Config';

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
