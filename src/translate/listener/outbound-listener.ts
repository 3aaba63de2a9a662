// One sidecar outbound listener from its collected filter chains (Istio's listener.go
// buildListenerFromEntry): `<bind>_<port>`, not bound to a port (reached through virtualOutbound's
// use_original_dst), tls_inspector when a chain matches SNI, http_inspector when one matches ALPN, HCMs with
// stat prefix `outbound_<bind>_<port>`, a match-all chain moved to default_filter_chain, and otherwise a
// PassthroughFilterChain default so traffic that starts matching a chain and then misses still flows.

import { create } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainMatchSchema, FilterChainSchema, FilterSchema, type Filter, type FilterChain, type ListenerFilter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { listenerName } from '../../xds/names.js';
import { downstreamTlsSocket, socketAddress } from './address.js';
import { isMatchAll, toFilterChainMatch, type FilterChainOpts } from './filter-chain-opts.js';
import { buildHttpConnectionManager } from './http-connection-manager.js';
import { httpInspector, tlsInspector } from './listener-filters.js';
import { delimitedStatPrefix, HCM_FILTER, PASSTHROUGH_FILTER_CHAIN } from './well-known.js';
import { durationFromSeconds } from '../proto-values.js';
import { tcpListenerMetadataExchange } from '../telemetry/metadata-exchange.js';

export interface OutboundListenerEntry {
  readonly bind: string;
  readonly port: number;
  readonly chains: readonly FilterChainOpts[];
}

/** The HCM as a network filter. */
export function hcmFilter(hcm: HttpConnectionManager): Filter {
  return create(FilterSchema, { name: HCM_FILTER, configType: { case: 'typedConfig', value: pack(HttpConnectionManagerSchema, hcm) } });
}

/** The inspectors the chains need: TLS for SNI or a terminating ALPN, HTTP for ALPN sniffing. */
export function inspectorsFor(chains: readonly FilterChainOpts[]): ListenerFilter[] {
  const tls = chains.some((c) => c.sniHosts.length > 0 || (c.tlsContext?.commonTlsContext?.alpnProtocols.length ?? 0) > 0);
  const http = chains.some((c) => c.applicationProtocols.length > 0);
  return [...(tls ? [tlsInspector()] : []), ...(http ? [httpInspector()] : [])];
}

/** Filters of one chain: the metadata exchange when asked, its network filters, then the HCM when it is an HTTP chain. */
export function chainFilters(c: FilterChainOpts, statPrefix: string): Filter[] {
  if (c.http === undefined) return c.metadataExchange === true ? [tcpListenerMetadataExchange(), ...c.networkFilters] : [...c.networkFilters];
  return [...c.networkFilters, hcmFilter(buildHttpConnectionManager(c.http, statPrefix))];
}

export function buildOutboundListener(e: OutboundListenerEntry, fallthrough: readonly Filter[]): Listener {
  const name = listenerName(e.bind, e.port);
  const l = create(ListenerSchema, {
    name,
    address: socketAddress(e.bind, e.port),
    trafficDirection: TrafficDirection.OUTBOUND,
    continueOnListenerFiltersTimeout: true,
    bindToPort: false,
    listenerFilters: inspectorsFor(e.chains),
    // ProtocolDetectionTimeout (MeshConfig default 0s) with the HTTP inspector, else no timeout at all.
    listenerFiltersTimeout: durationFromSeconds(0),
  });
  const statPrefix = delimitedStatPrefix(`outbound_${name}`);
  let defaultChain: FilterChain | undefined;
  for (const c of e.chains) {
    const tlsSocket = downstreamTlsSocket(c.tlsContext);
    const chain = create(FilterChainSchema, {
      filters: chainFilters(c, statPrefix),
      ...(c.metadata !== undefined ? { metadata: c.metadata } : {}),
      ...(tlsSocket !== undefined ? { transportSocket: tlsSocket } : {}),
      // features.GatewayTransportSocketConnectTimeout (15s), set on every chain Istio builds here.
      transportSocketConnectTimeout: durationFromSeconds(15),
    });
    if (isMatchAll(c)) defaultChain = chain;
    else {
      const match = toFilterChainMatch(c);
      if (match !== undefined) chain.filterChainMatch = match;
      l.filterChains.push(chain);
    }
  }
  if (defaultChain !== undefined && l.filterChains.length === 0) l.filterChains = [defaultChain];
  else if (defaultChain !== undefined) l.defaultFilterChain = defaultChain;
  else {
    l.defaultFilterChain = create(FilterChainSchema, {
      filterChainMatch: create(FilterChainMatchSchema),
      name: PASSTHROUGH_FILTER_CHAIN,
      filters: [...fallthrough],
    });
  }
  return l;
}
