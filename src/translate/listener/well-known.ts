// Wire names the listener builders emit (Istio's pkg/wellknown, pilot/pkg/model/listener.go and
// pilot/pkg/networking/core/listener.go): filter and transport-socket names, the fixed filter-chain names of
// the virtual listeners, and the ALPN sets protocol sniffing and Istio mTLS match on. Constants only.

export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';
export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
export const HTTP_INSPECTOR = 'envoy.filters.listener.http_inspector';
export const ORIGINAL_DST = 'envoy.filters.listener.original_dst';
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';
export const GRPC_WEB_FILTER = 'envoy.filters.http.grpc_web';
export const ROUTER_FILTER = 'envoy.filters.http.router';
/** util.StatefulSessionFilter: the HCM filter, and the key of its per-route / per-virtual-host config. */
export const STATEFUL_SESSION_FILTER = 'envoy.filters.http.stateful_session';

/** FilterChainMatch.transport_protocol values set by the TLS inspector (or left as the default). */
export const TLS_TRANSPORT = 'tls';
export const RAW_BUFFER_TRANSPORT = 'raw_buffer';

/** Filter-chain names Istio gives its catch-all chains (pilot/pkg/model/listener.go, networking/util). */
export const VIRTUAL_OUTBOUND_BLACKHOLE_CHAIN = 'virtualOutbound-blackhole';
export const VIRTUAL_OUTBOUND_CATCHALL_TCP_CHAIN = 'virtualOutbound-catchall-tcp';
export const VIRTUAL_INBOUND_BLACKHOLE_CHAIN = 'virtualInbound-blackhole';
export const VIRTUAL_INBOUND_CATCHALL_HTTP_CHAIN = 'virtualInbound-catchall-http';
export const PASSTHROUGH_FILTER_CHAIN = 'PassthroughFilterChain';

/** HTTP ALPNs the http_inspector reports for plaintext (HTTP/1.0 matching is off by default: features.HTTP10). */
export const PLAINTEXT_HTTP_ALPNS: readonly string[] = ['http/1.1', 'h2c'];
/** ALPNs an Istio client sends over mTLS for HTTP it detected. */
export const MTLS_HTTP_ALPNS: readonly string[] = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
export const ALL_ISTIO_MTLS_ALPNS: readonly string[] = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
export const MTLS_TCP_WITH_MXC_ALPNS: readonly string[] = ['istio-peer-exchange', 'istio'];
/** util.ALPNHttp / ALPNDownstreamWithMxc: what a terminating gateway advertises. */
export const ALPN_HTTP: readonly string[] = ['h2', 'http/1.1'];
export const ALPN_DOWNSTREAM_WITH_MXC: readonly string[] = ['istio-peer-exchange', 'h2', 'http/1.1'];

/** Stat prefix delimiter Istio appends (constants.StatPrefixDelimiter, util.DelimitedStatsPrefix). */
export function delimitedStatPrefix(prefix: string): string {
  return `${prefix};`;
}

/** Ports a sidecar never builds a wildcard HTTP listener on: its virtual listeners, health and Prometheus ports. */
export const RESERVED_PROXY_PORTS: ReadonlySet<number> = new Set([15001, 15006, 15021, 15090]);
