// Compiles an Envoy Cluster into the immutable settings the upstream layer runs on: discovery type,
// connect timeout, protocol (HTTP/1.1, HTTP/2 or the downstream's), transport sockets (plaintext or TLS,
// chosen per endpoint by transport_socket_matches), circuit breaker thresholds, bind address, the upstream network
// filters (Istio's TCP metadata exchange, the only one supported), and the raw load-balancing and outlier settings
// the balancers compile themselves. Anything required that this proxy
// cannot honour is a problem (the update is NACKed), never silently ignored.

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Any } from '@bufbuild/protobuf/wkt';
import { Cluster_DiscoveryType, Cluster_LbPolicy, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { RoutingPriority } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { TransportSocket } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HttpProtocolOptionsSchema } from '../../xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { UpstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { durationMs } from './duration.js';
import { compileDns, type CompiledDns } from './compile-dns.js';
import { dataSourceText } from './data-source.js';
import { cipherList, secureContextAccepts, TLS_VERSIONS, type TlsVersion } from './tls-params.js';
import { CertificateValidationContext_TrustChainVerification } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { typedStructOf } from './typed-struct.js';
import { compilePeerExchangeConfig, PEER_EXCHANGE_FILTER_TYPE, type PeerExchangeConfig } from '../telemetry/peer-exchange-config.js';
import type { Filter as ClusterFilter } from '../../xds/gen/envoy/config/cluster/v3/filter_pb.js';

export type ClusterKind = 'static' | 'eds' | 'strict-dns' | 'logical-dns' | 'original-dst';
export type UpstreamProtocol = 'http1' | 'http2' | 'downstream';

export interface TlsSettings {
  readonly kind: 'tls';
  readonly sni: string;
  readonly alpn: readonly string[];
  /** SDS secret names this context needs (workload cert, validation context); issue 6 supplies them. */
  readonly sdsCertificate: string | undefined;
  readonly sdsValidation: string | undefined;
  readonly inlineCertificate: { readonly cert: string; readonly key: string } | undefined;
  readonly inlineTrustedCa: string | undefined;
  readonly subjectAltNames: readonly StringMatcher[];
  /** The validation context's CRL (PEM; Istio's DestinationRule caCrl, a file read at compile time). */
  readonly crl: string | undefined;
  /** verify_certificate_hash (lower-case hex, no colons) and verify_certificate_spki (base64): pins, either may match. */
  readonly verifyHash: readonly string[];
  readonly verifySpki: readonly string[];
  /** trust_chain_verification ACCEPT_UNTRUSTED: the connection goes on whatever the checks found. */
  readonly acceptUntrusted: boolean;
  readonly minVersion: TlsVersion | undefined;
  /** Envoy's client default is TLS 1.2. */
  readonly maxVersion: TlsVersion;
  /** tls_params.cipher_suites and ecdh_curves as OpenSSL lists. */
  readonly ciphers: string | undefined;
  readonly ecdhCurves: string | undefined;
}
export type TransportSettings = { readonly kind: 'raw' } | TlsSettings;

export interface TransportSocketMatch {
  readonly name: string;
  /** Every key must equal the endpoint's `envoy.transport_socket_match` metadata value. */
  readonly match: Readonly<Record<string, string>>;
  readonly transport: TransportSettings;
}

export interface Thresholds {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

/** HTTP/2 upstream settings from the cluster's http2_protocol_options (Envoy's defaults when unset). */
export interface CompiledHttp2Options {
  /** Streams one connection carries at most; more open another connection (Envoy's default 2^31 - 1). */
  readonly maxConcurrentStreams: number;
  /** connection_keepalive: a PING every intervalMs (plus jitter, percent of the interval); no answer in timeoutMs closes the connection. */
  readonly keepalive: { readonly intervalMs: number; readonly timeoutMs: number; readonly jitterPercent: number } | undefined;
}

export interface CompiledCluster {
  readonly name: string;
  readonly kind: ClusterKind;
  /** The EDS resource name (service_name, else the cluster name). */
  readonly edsName: string;
  readonly connectTimeoutMs: number;
  readonly protocol: UpstreamProtocol;
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number | undefined;
  /**
   * UpstreamHttpProtocolOptions: auto_sni sends the request's host as SNI, auto_san_validation checks the
   * upstream certificate against it (Istio sets both for TLS origination without an explicit SNI or SANs).
   */
  readonly autoSni: boolean;
  readonly autoSanValidation: boolean;
  /**
   * override_auto_sni_header (lower case; '' unset): the request header auto_sni and auto_san_validation take
   * the name from instead of the host, when the request has it and it is not empty.
   */
  readonly overrideAutoSniHeader: string;
  readonly transport: TransportSettings;
  readonly transportMatches: readonly TransportSocketMatch[];
  readonly thresholds: Thresholds;
  /**
   * upstream_connection_options.tcp_keepalive: SO_KEEPALIVE on every upstream connection, idle for
   * keepalive_time (ms) before the first probe (0: the kernel's setting). Undefined: no keepalive.
   */
  readonly tcpKeepaliveMs: number | undefined;
  /** common_http_protocol_options.max_stream_duration (ms): an attempt still going then is reset (UMSDR). */
  readonly maxStreamDurationMs: number | undefined;
  /** common_http_protocol_options.max_connection_duration (ms): connections older are drained and closed. */
  readonly maxConnectionDurationMs: number | undefined;
  readonly http2: CompiledHttp2Options;
  readonly bindAddress: string | undefined;
  /** The cluster's `istio.metadata_exchange` upstream filter: TCP connections that negotiate its ALPN exchange metadata. */
  readonly peerExchange: PeerExchangeConfig | undefined;
  readonly lbPolicy: Cluster_LbPolicy;
  /** STRICT_DNS and LOGICAL_DNS: how the endpoints' names are resolved (dns-discovery.ts). */
  readonly dns: CompiledDns | undefined;
  /** ORIGINAL_DST: original_dst_lb_config (undefined for other kinds). */
  readonly originalDst: OriginalDstSettings | undefined;
  readonly proto: Cluster;
}

/**
 * An ORIGINAL_DST cluster's original_dst_lb_config (Envoy's OriginalDstCluster): with use_http_header the
 * destination a request names in `headerName` (default x-envoy-original-dst-host) wins over the connection's;
 * without it, no header is looked at. upstream_port_override replaces the destination's port.
 */
export interface OriginalDstSettings {
  readonly headerName: string | undefined;
  readonly portOverride: number | undefined;
}

const NO_ORIGINAL_DST_CONFIG: OriginalDstSettings = Object.freeze({ headerName: undefined, portOverride: undefined });

/** original_dst_lb_config, with the checks Envoy's OriginalDstClusterFactory and the field's PGV rule make. */
function originalDstOf(c: Cluster, kind: ClusterKind, problems: string[]): OriginalDstSettings | undefined {
  if (kind !== 'original-dst') return undefined;
  if (c.lbPolicy !== Cluster_LbPolicy.CLUSTER_PROVIDED) {
    problems.push(`lb_policy: cluster: LB policy ${Cluster_LbPolicy[c.lbPolicy] ?? c.lbPolicy} is not valid for Cluster type ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'`);
  }
  if (c.loadAssignment !== undefined && c.loadAssignment.endpoints.length > 0) problems.push('load_assignment: ORIGINAL_DST clusters must have no load assignment configured');
  const od = c.lbConfig.case === 'originalDstLbConfig' ? c.lbConfig.value : undefined;
  if (od === undefined) return NO_ORIGINAL_DST_CONFIG;
  if (!od.useHttpHeader && od.httpHeaderName !== '') {
    problems.push(`original_dst_lb_config.http_header_name: ORIGINAL_DST cluster: invalid config http_header_name=${od.httpHeaderName} and use_http_header is false. Set use_http_header to true if http_header_name is desired.`);
  }
  const port = od.upstreamPortOverride;
  if (port !== undefined && port > 65535) problems.push('original_dst_lb_config.upstream_port_override: value must be less than or equal to 65535');
  return Object.freeze({ headerName: od.useHttpHeader ? od.httpHeaderName.toLowerCase() || 'x-envoy-original-dst-host' : undefined, portOverride: port });
}

const RAW: TransportSettings = { kind: 'raw' };
const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** Envoy's default thresholds (cluster circuit breakers, default priority). */
export const DEFAULT_THRESHOLDS: Thresholds = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

function transportOf(ts: TransportSocket | undefined, path: string, problems: string[]): TransportSettings {
  if (ts === undefined) return RAW;
  if (ts.configType.case !== 'typedConfig') return ts.name === 'envoy.transport_sockets.raw_buffer' || ts.name === '' ? RAW : (problems.push(`${path}: transport socket ${ts.name} needs a typed_config`), RAW);
  const any: Any = ts.configType.value;
  if (any.typeUrl.endsWith('envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer')) return RAW;
  if (!any.typeUrl.endsWith(UpstreamTlsContextSchema.typeName)) {
    problems.push(`${path}.typed_config: unsupported transport socket ${any.typeUrl}`);
    return RAW;
  }
  const t = anyUnpack(any, UpstreamTlsContextSchema);
  if (t === undefined) {
    problems.push(`${path}.typed_config: cannot decode UpstreamTlsContext`);
    return RAW;
  }
  const c = t.commonTlsContext;
  const inlineCert = c?.tlsCertificates[0];
  const vc = c?.validationContextType;
  const defaultVc = vc?.case === 'combinedValidationContext' ? vc.value.defaultValidationContext : vc?.case === 'validationContext' ? vc.value : undefined;
  const sdsValidation = vc?.case === 'combinedValidationContext' ? vc.value.validationContextSdsSecretConfig?.name : vc?.case === 'validationContextSdsSecretConfig' ? vc.value.name : undefined;
  const dataOf = (ds: { specifier: { case: string | undefined; value?: unknown } } | undefined): string | undefined => {
    if (ds === undefined) return undefined;
    const s = ds.specifier;
    if (s.case === 'inlineString') return s.value as string;
    if (s.case === 'inlineBytes') return Buffer.from(s.value as Uint8Array).toString('utf8');
    if (s.case === 'filename') problems.push(`${path}: certificates from files (${String(s.value)}) are not supported; use SDS or inline data`);
    return undefined;
  };
  const cert = dataOf(inlineCert?.certificateChain);
  const key = dataOf(inlineCert?.privateKey);
  const params = c?.tlsParams;
  const minV = params?.tlsMinimumProtocolVersion;
  const maxV = params?.tlsMaximumProtocolVersion;
  const pp = `${path}.typed_config.common_tls_context.tls_params`;
  const ciphers = (params?.cipherSuites.length ?? 0) > 0 ? cipherList(params?.cipherSuites ?? []) : undefined;
  const ecdhCurves = (params?.ecdhCurves.length ?? 0) > 0 ? (params?.ecdhCurves ?? []).join(':') : undefined;
  // What OpenSSL cannot use is refused now, as Envoy refuses a context it cannot build.
  if (ciphers !== undefined && !secureContextAccepts({ ciphers })) problems.push(`${pp}.cipher_suites: Failed to initialize cipher suites ${ciphers}`);
  if (ecdhCurves !== undefined && !secureContextAccepts({ ecdhCurve: ecdhCurves })) problems.push(`${pp}.ecdh_curves: Failed to initialize ECDH curves ${ecdhCurves}`);
  return {
    kind: 'tls',
    sni: t.sni,
    alpn: c?.alpnProtocols ?? [],
    sdsCertificate: c?.tlsCertificateSdsSecretConfigs[0]?.name,
    sdsValidation,
    inlineCertificate: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    inlineTrustedCa: dataOf(defaultVc?.trustedCa),
    // match_typed_subject_alt_names wins when set; the deprecated untyped list is what Istio still sends.
    subjectAltNames:
      (defaultVc?.matchTypedSubjectAltNames.length ?? 0) > 0
        ? (defaultVc?.matchTypedSubjectAltNames.map((m) => m.matcher).filter((m): m is StringMatcher => m !== undefined) ?? [])
        : (defaultVc?.matchSubjectAltNames ?? []),
    crl: dataSourceText(defaultVc?.crl, `${path}.typed_config.common_tls_context.validation_context.crl`, problems),
    verifyHash: (defaultVc?.verifyCertificateHash ?? []).map((h) => h.replaceAll(':', '').toLowerCase()),
    verifySpki: defaultVc?.verifyCertificateSpki ?? [],
    acceptUntrusted: defaultVc?.trustChainVerification === CertificateValidationContext_TrustChainVerification.ACCEPT_UNTRUSTED,
    minVersion: minV === undefined ? undefined : TLS_VERSIONS[minV],
    maxVersion: (maxV === undefined ? undefined : TLS_VERSIONS[maxV]) ?? 'TLSv1.2',
    ciphers,
    ecdhCurves,
  };
}

/** Cluster.filters: upstream network filters; an unknown one is a problem (it would run on every connection). */
function upstreamFilters(filters: readonly ClusterFilter[], problems: string[]): PeerExchangeConfig | undefined {
  let peerExchange: PeerExchangeConfig | undefined;
  filters.forEach((f, i) => {
    const fp = `filters[${i}](${f.name})`;
    const ts = f.typedConfig !== undefined ? typedStructOf(f.typedConfig) : undefined;
    if (ts?.type !== PEER_EXCHANGE_FILTER_TYPE) {
      problems.push(`${fp}: unsupported upstream network filter ${ts?.type ?? f.typedConfig?.typeUrl ?? '(no typed_config)'}`);
      return;
    }
    if (peerExchange !== undefined) problems.push(`${fp}: a second metadata exchange filter on the cluster`);
    peerExchange = compilePeerExchangeConfig(ts.value, `${fp}.typed_config.value`, problems);
  });
  return peerExchange;
}

const KIND: Partial<Record<Cluster_DiscoveryType, ClusterKind>> = {
  [Cluster_DiscoveryType.STATIC]: 'static',
  [Cluster_DiscoveryType.EDS]: 'eds',
  [Cluster_DiscoveryType.STRICT_DNS]: 'strict-dns',
  [Cluster_DiscoveryType.LOGICAL_DNS]: 'logical-dns',
  [Cluster_DiscoveryType.ORIGINAL_DST]: 'original-dst',
};

export type Compiled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly string[] };

export function compileCluster(c: Cluster): Compiled<CompiledCluster> {
  const problems: string[] = [];
  const dt = c.clusterDiscoveryType;
  let kind: ClusterKind = 'static';
  if (dt.case === 'clusterType') problems.push(`cluster_type: custom cluster type ${dt.value.name} is not supported`);
  else kind = KIND[dt.case === 'type' ? dt.value : Cluster_DiscoveryType.STATIC] ?? 'static';
  let protocol: UpstreamProtocol = c.http2ProtocolOptions !== undefined ? 'http2' : 'http1';
  let idleTimeoutMs = durationMs(c.commonHttpProtocolOptions?.idleTimeout, 3_600_000);
  let maxRequestsPerConnection = c.maxRequestsPerConnection;
  let autoSni = false;
  let autoSanValidation = false;
  let overrideAutoSniHeader = '';
  let autoConfig = false;
  let maxConnectionDuration = c.commonHttpProtocolOptions?.maxConnectionDuration;
  let maxStreamDuration = c.commonHttpProtocolOptions?.maxStreamDuration;
  let h2 = c.http2ProtocolOptions;
  let h2Path = 'http2_protocol_options';
  const opts = c.typedExtensionProtocolOptions[HTTP_OPTIONS_KEY];
  if (opts !== undefined) {
    const o = anyUnpack(opts, HttpProtocolOptionsSchema);
    if (o === undefined) problems.push(`typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"]: cannot decode`);
    else {
      const u = o.upstreamProtocolOptions;
      if (u.case === 'explicitHttpConfig') protocol = u.value.protocolConfig.case === 'http2ProtocolOptions' ? 'http2' : u.value.protocolConfig.case === 'http3ProtocolOptions' ? (problems.push(`typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"].explicit_http_config.http3_protocol_options: HTTP/3 upstreams are not supported`), 'http1') : 'http1';
      else if (u.case === 'useDownstreamProtocolConfig') protocol = 'downstream';
      else if (u.case === 'autoConfig') {
        // Envoy picks HTTP/2 or HTTP/1.1 by ALPN; here the connection offers and speaks HTTP/1.1 alone (a
        // server that offers h2 also takes http/1.1). Without TLS there is no ALPN: Envoy refuses it (below).
        protocol = 'http1';
        autoConfig = true;
      }
      if (u.case === 'explicitHttpConfig' && u.value.protocolConfig.case === 'http2ProtocolOptions') {
        h2 = u.value.protocolConfig.value;
        h2Path = `typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"].explicit_http_config.http2_protocol_options`;
      } else if (u.case === 'useDownstreamProtocolConfig' && u.value.http2ProtocolOptions !== undefined) {
        h2 = u.value.http2ProtocolOptions;
        h2Path = `typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"].use_downstream_protocol_config.http2_protocol_options`;
      }
      maxConnectionDuration = o.commonHttpProtocolOptions?.maxConnectionDuration ?? maxConnectionDuration;
      maxStreamDuration = o.commonHttpProtocolOptions?.maxStreamDuration ?? maxStreamDuration;
      idleTimeoutMs = durationMs(o.commonHttpProtocolOptions?.idleTimeout, idleTimeoutMs);
      maxRequestsPerConnection = o.commonHttpProtocolOptions?.maxRequestsPerConnection ?? maxRequestsPerConnection;
      autoSni = o.upstreamHttpProtocolOptions?.autoSni ?? false;
      autoSanValidation = o.upstreamHttpProtocolOptions?.autoSanValidation ?? false;
      overrideAutoSniHeader = (o.upstreamHttpProtocolOptions?.overrideAutoSniHeader ?? '').toLowerCase();
      // Upstream HTTP filters run between the router and the codec in Envoy; none run here. A chain of the
      // codec alone (what Envoy uses when the field is empty) changes nothing.
      const upstreamFilters = o.httpFilters.filter((f) => f.name !== 'envoy.filters.http.upstream_codec');
      if (upstreamFilters.length > 0) problems.push(`typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"].http_filters: upstream HTTP filters are not supported (${upstreamFilters.map((f) => f.name).join(', ')})`);
    }
  }
  const th = c.circuitBreakers?.thresholds.find((t) => t.priority === RoutingPriority.DEFAULT);
  // Envoy caps each host's connections with per_host_thresholds.max_connections; this proxy counts busy
  // connections per cluster only, so a per-host limit is refused rather than left unenforced.
  if ((c.circuitBreakers?.perHostThresholds.length ?? 0) > 0) problems.push('circuit_breakers.per_host_thresholds: per-host circuit breaker limits are not supported');
  const thresholds: Thresholds = {
    maxConnections: th?.maxConnections ?? DEFAULT_THRESHOLDS.maxConnections,
    maxPendingRequests: th?.maxPendingRequests ?? DEFAULT_THRESHOLDS.maxPendingRequests,
    maxRequests: th?.maxRequests ?? DEFAULT_THRESHOLDS.maxRequests,
    maxRetries: th?.maxRetries ?? DEFAULT_THRESHOLDS.maxRetries,
  };
  const transport = transportOf(c.transportSocket, 'transport_socket', problems);
  const transportMatches = c.transportSocketMatches.map((m, i) => {
    const match: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.match ?? {})) match[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return { name: m.name, match, transport: transportOf(m.transportSocket, `transport_socket_matches[${i}].transport_socket`, problems) };
  });
  // Envoy's ClusterImplBase: auto_config (USE_ALPN) needs a transport socket that negotiates ALPN.
  if (autoConfig && transport.kind !== 'tls') problems.push(`typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"].auto_config: ALPN configured for cluster ${c.name} which has a non-ALPN transport socket`);
  else if (autoConfig && transportMatches.some((m) => m.transport.kind !== 'tls')) problems.push(`typed_extension_protocol_options["${HTTP_OPTIONS_KEY}"].auto_config: ALPN configured for cluster ${c.name} which has a non-ALPN transport socket matcher`);
  const bind = c.upstreamBindConfig?.sourceAddress;
  const peerExchange = upstreamFilters(c.filters, problems);
  const ka = h2?.connectionKeepalive;
  if (ka?.connectionIdleInterval !== undefined && durationMs(ka.connectionIdleInterval, 0) > 0) {
    problems.push(`${h2Path}.connection_keepalive.connection_idle_interval: PINGs before new streams on an idle connection are not supported`);
  }
  const kaInterval = durationMs(ka?.interval, 0);
  const http2: CompiledHttp2Options = {
    maxConcurrentStreams: h2?.maxConcurrentStreams ?? 2147483647,
    keepalive: ka !== undefined && kaInterval > 0 ? { intervalMs: kaInterval, timeoutMs: durationMs(ka.timeout, 0), jitterPercent: ka.intervalJitter?.value ?? 15 } : undefined,
  };
  const tcpKa = c.upstreamConnectionOptions?.tcpKeepalive;
  const durationLimit = durationMs(maxConnectionDuration, 0);
  const streamLimit = durationMs(maxStreamDuration, 0);
  const dns = compileDns(c, problems);
  const originalDst = originalDstOf(c, kind, problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      name: c.name,
      kind,
      edsName: c.edsClusterConfig?.serviceName || c.name,
      connectTimeoutMs: durationMs(c.connectTimeout, 5000),
      protocol,
      idleTimeoutMs,
      maxRequestsPerConnection: maxRequestsPerConnection === 0 ? undefined : maxRequestsPerConnection,
      autoSni,
      autoSanValidation,
      overrideAutoSniHeader,
      transport,
      transportMatches,
      thresholds,
      tcpKeepaliveMs: tcpKa === undefined ? undefined : (tcpKa.keepaliveTime ?? 0) * 1000,
      maxConnectionDurationMs: durationLimit > 0 ? durationLimit : undefined,
      maxStreamDurationMs: streamLimit > 0 ? streamLimit : undefined,
      http2,
      bindAddress: bind?.address || undefined,
      peerExchange,
      lbPolicy: c.lbPolicy,
      dns,
      originalDst,
      proto: c,
    },
  };
}

/** The transport for an endpoint: the first match whose keys equal its socket-match metadata, else the default. */
export function transportFor(c: CompiledCluster, endpointMatch: Readonly<Record<string, string>> | undefined): TransportSettings {
  for (const m of c.transportMatches) {
    let ok = true;
    for (const k in m.match) if (endpointMatch?.[k] !== m.match[k]) ok = false;
    if (ok) return m.transport;
  }
  return c.transport;
}
