// The simulator's vocabulary: the described call (Call and its defaults), the outcome (Result, SimulationError,
// the matched messages) and options. Also Conn, the connection as the listener filters left it, shared by the
// steps of the walk. Types and constants only; no logic.

import type { Listener } from '../../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '../../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import type { Route, VirtualHost } from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { HttpConnectionManager } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { TcpProxy } from '../../../src/xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';

export type CallMode = 'outbound' | 'inbound' | 'gateway' | 'proxyless';
export type CallProtocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'tls';
export type TlsMode = 'plaintext' | 'tls' | 'mtls';

/** A request or connection as the proxy sees it. */
export interface Call {
  /** Destination port (the original destination for captured traffic). */
  readonly port: number;
  /** Destination IP; default `1.3.3.7`, an address no test names (as Istio's simulation). */
  readonly address?: string;
  /** `tls` is opaque TLS (TCP inside); `grpc` is HTTP/2 with content-type application/grpc. */
  readonly protocol: CallProtocol;
  /** Transport security the client uses; default `tls` for protocol `tls`, else `plaintext`. */
  readonly tls?: TlsMode;
  /** :authority; default empty. For proxyless calls, the target host (`${host}:${port}` names the listener). */
  readonly host?: string;
  /** Default for TLS calls: `host` (as Istio's simulation). */
  readonly sni?: string;
  /** Client ALPN list in preference order; defaults as Istio's simulation (`http/1.1`, `h2`, `istio-*`). */
  readonly alpn?: readonly string[];
  /** :path with query; default `/`. */
  readonly path?: string;
  /** :method; default GET. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Downstream source; default 10.10.10.10:54321 (external, not loopback). */
  readonly sourceAddress?: string;
  readonly sourcePort?: number;
  /** outbound (iptables to 15001, default), inbound (to 15006), gateway (no capture), proxyless (gRPC api_listener). */
  readonly callMode?: CallMode;
}

export type SimulationError =
  | 'invalid call'
  | 'no listener'
  | 'no filter chain'
  | 'multiple filter chains'
  | 'tls required'
  | 'mtls required'
  | 'protocol error'
  | 'no network filter'
  | 'no route config'
  | 'no virtual host'
  | 'tls redirect'
  | 'no route'
  | 'no cluster'
  | 'cluster not found'
  | 'invalid config'
  | 'unsupported';

export interface WeightedTarget {
  readonly name: string;
  readonly weight: number;
}

export interface RedirectResult {
  readonly responseCode: number;
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly prefixRewrite?: string;
  readonly stripQuery?: boolean;
}

/** The matched messages themselves, for assertions on fields the summary does not carry. */
export interface MatchedMessages {
  listener?: Listener;
  filterChain?: FilterChain;
  hcm?: HttpConnectionManager;
  tcpProxy?: TcpProxy;
  routeConfiguration?: RouteConfiguration;
  virtualHost?: VirtualHost;
  route?: Route;
}

export interface Result {
  listener?: string;
  /** The chain's name, `#<index>` for an unnamed one, `default_filter_chain` (or its name) for the default. */
  filterChain?: string;
  networkFilters?: string[];
  httpFilters?: string[];
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  /** The single upstream cluster of an HTTP route or a TCP proxy. */
  cluster?: string;
  weightedClusters?: WeightedTarget[];
  /** Set (with `cluster`) only when a tcp_proxy made the choice. */
  tcpCluster?: string;
  redirect?: RedirectResult;
  directResponse?: { status: number; body?: string };
  nonForwarding?: boolean;
  error?: SimulationError;
  /** Why the error, naming the resource and field. */
  detail?: string;
  /** One line per decision, for failure messages. */
  trace: string[];
  raw: MatchedMessages;
}

export interface SimulateOptions {
  /** Require routed clusters to exist in `resources.clusters` (Envoy: 503 NC otherwise). Default true. */
  readonly requireClusters?: boolean;
}

export const DEFAULT_ADDRESS = '1.3.3.7';

/** What the connection looks like after listener filters ran. */
export interface Conn {
  readonly call: Call;
  readonly tls: TlsMode;
  readonly dst: string;
  readonly src: string;
  readonly srcPort: number;
  readonly transport: string;
  readonly sni: string;
  readonly alpn: readonly string[];
}
