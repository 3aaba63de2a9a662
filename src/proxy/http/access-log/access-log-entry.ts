// The record an access log line is formatted from: what Envoy's formatters read from StreamInfo and the
// request/response header maps. The HTTP connection manager (and the TCP proxy, for connection logs) fills
// one per finished stream; formatters only read it. Absent fields print as `-` (Envoy's unspecified value).
// Headers are looked up by lower-case name; pseudo-headers use their HTTP/2 names (`:method`, `:path`,
// `:authority`, `:scheme`), also for HTTP/1 requests, where `:authority` is the Host header (as in Envoy).

import type { ResponseFlags } from '../response-flags.js';

/** Read access to one header map; a `Map<string, string>` with lower-case keys satisfies it. */
export interface AccessLogHeaders {
  /** The first value of a header, by lower-case name. */
  get(lowerCaseName: string): string | undefined;
}

/** A JSON-like value in dynamic metadata or filter state. */
export type MetadataValue =
  | string
  | number
  | boolean
  | null
  | readonly MetadataValue[]
  | { readonly [key: string]: MetadataValue };

/** Filter metadata by namespace (e.g. `envoy.filters.http.rbac`), as Envoy's core.v3.Metadata.filter_metadata. */
export type Metadata = Readonly<Record<string, { readonly [key: string]: MetadataValue }>>;

export interface AccessLogEntry {
  /** Wall-clock start of the request (or connection), epoch milliseconds. */
  readonly startTime: number;
  readonly requestHeaders?: AccessLogHeaders;
  readonly responseHeaders?: AccessLogHeaders;
  readonly responseTrailers?: AccessLogHeaders;
  /** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`; absent for TCP. */
  readonly protocol?: string;
  readonly upstreamProtocol?: string;
  /** Absent (printed as 0, as Envoy does) when no response was sent. */
  readonly responseCode?: number;
  readonly responseFlags: ResponseFlags;
  /** `via_upstream`, `route_not_found`, `rbac_access_denied_matched_policy[...]`, ... */
  readonly responseCodeDetails?: string;
  readonly connectionTerminationDetails?: string;
  readonly upstreamTransportFailureReason?: string;
  readonly downstreamTransportFailureReason?: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Start to completion (%DURATION%), milliseconds; fractions are truncated when printed. */
  readonly durationMs?: number;
  /** Start to the last request byte received (%REQUEST_DURATION%). */
  readonly requestDurationMs?: number;
  /** Start to the first upstream response byte (%RESPONSE_DURATION%). */
  readonly responseDurationMs?: number;
  /** First upstream response byte to the last downstream byte sent (%RESPONSE_TX_DURATION%). */
  readonly responseTxDurationMs?: number;
  /** Chosen upstream host, `ip:port` (`[v6]:port` for IPv6). */
  readonly upstreamHost?: string;
  /** The upstream host's hostname when it has one (%UPSTREAM_HOST_NAME%). */
  readonly upstreamHostName?: string;
  /** The cluster's name (%UPSTREAM_CLUSTER_RAW%). */
  readonly upstreamCluster?: string;
  /** The cluster's alt_stat_name, if set (%UPSTREAM_CLUSTER% prints it instead of the name). */
  readonly upstreamClusterObservabilityName?: string;
  readonly upstreamLocalAddress?: string;
  /** The address connected to; defaults to upstreamHost. */
  readonly upstreamRemoteAddress?: string;
  readonly upstreamRequestAttemptCount?: number;
  readonly downstreamLocalAddress?: string;
  readonly downstreamRemoteAddress?: string;
  /** The peer of the downstream socket, before any x-forwarded-for or PROXY protocol override. */
  readonly downstreamDirectRemoteAddress?: string;
  readonly downstreamDirectLocalAddress?: string;
  /** SNI of the downstream TLS connection. */
  readonly requestedServerName?: string;
  readonly routeName?: string;
  readonly virtualClusterName?: string;
  readonly filterChainName?: string;
  readonly connectionId?: number;
  readonly upstreamConnectionId?: number;
  readonly streamId?: string;
  readonly downstreamTlsVersion?: string;
  readonly downstreamTlsCipher?: string;
  readonly downstreamPeerUriSans?: readonly string[];
  readonly downstreamLocalUriSans?: readonly string[];
  readonly downstreamPeerSubject?: string;
  readonly upstreamTlsVersion?: string;
  readonly upstreamPeerUriSans?: readonly string[];
  /** The body of a local reply (%LOCAL_REPLY_BODY%). */
  readonly localReplyBody?: string;
  readonly dynamicMetadata?: Metadata;
  readonly clusterMetadata?: Metadata;
  readonly upstreamHostMetadata?: Metadata;
  /** Filter state objects by key; strings print as-is, other values as JSON. */
  readonly filterState?: Readonly<Record<string, MetadataValue>>;
}
