// What Istio's stats filter reads from a finished HTTP stream or TCP connection, gathered from the
// stream's info, the connection's certificates and the upstream cluster's Istio metadata. The CEL
// attributes (Envoy's attribute vocabulary: request.*, response.*, source.*, destination.*, connection.*,
// upstream.*, xds.*, plus Istio's upstream_peer / downstream_peer) are built only when a Telemetry tag
// expression asks for them.

import type { CompletedStream } from '../http/hcm-env.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { TcpSession } from '../network/tcp-proxy.js';
import { clusterTelemetry } from './cluster-telemetry.js';
import type { HttpFacts, TcpFacts } from './istio-metrics.js';
import type { WorkloadMetadata } from './workload-metadata.js';

function hostOnly(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const i = authority.lastIndexOf(':');
  return i >= 0 ? authority.slice(0, i) : authority;
}

function splitAddress(a: string): { address: string; port: number } {
  const i = a.lastIndexOf(':');
  return i < 0 ? { address: a, port: 0 } : { address: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

/** A peer as CEL sees it (istio/proxy WorkloadMetadataObject fields). */
function peerAttributes(w: WorkloadMetadata | undefined): Record<string, string> | undefined {
  if (w === undefined) return undefined;
  return { name: w.instanceName, namespace: w.namespace, workload: w.workloadName, cluster: w.clusterId, service: w.canonicalName, revision: w.canonicalRevision, app: w.appName, version: w.appVersion };
}

function flatHeaders(h: Record<string, string | string[] | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  for (const k in h) {
    const v = h[k];
    if (v !== undefined) out[k] = typeof v === 'string' ? v : v.join(',');
  }
  return out;
}

/**
 * A header map's size as Envoy's HeaderMap::byteSize counts it: every name and value, no separators
 * (istio_request_bytes is request.total_size: body plus the approximate uncompressed headers).
 */
function headerBytes(h: Record<string, string | string[] | undefined> | undefined): number {
  let n = 0;
  if (h === undefined) return n;
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    if (typeof v === 'string') n += k.length + v.length;
    else for (const x of v) n += k.length + x.length;
  }
  return n;
}

/** request.total_size: the body and the headers, pseudo headers (:method, :path, :authority, :scheme) included. */
function requestTotalSize(s: CompletedStream): number {
  const r = s.request;
  return s.info.bytesReceived + headerBytes(r.headers) + 7 + r.method.length + 5 + r.path.length + 10 + r.authority.length + 7 + r.scheme.length;
}

/** response.total_size: the body and the headers, :status included. */
function responseTotalSize(s: CompletedStream): number {
  return s.info.bytesSent + (s.responseHeaders !== undefined ? headerBytes(s.responseHeaders) + 10 : 0);
}

/** CEL's int: sizes, ports and codes are integers in Envoy's attributes, so `response.code / 100 == 5` works. */
const int = (n: number): bigint => BigInt(Math.trunc(n));

/** Envoy's CEL attributes of a finished HTTP stream (Telemetry tag expressions, access log filters). */
export function httpAttributes(s: CompletedStream): Record<string, unknown> {
  const r = s.request;
  const info = s.info;
  const durationMs = Number(info.endNs - info.startNs) / 1e6;
  const q = r.path.indexOf('?');
  const up = splitAddress(info.upstreamHost);
  return {
    request: {
      path: r.path, url_path: q >= 0 ? r.path.slice(0, q) : r.path, host: r.authority, scheme: r.scheme, method: r.method,
      headers: flatHeaders(r.headers), useragent: r.headers['user-agent'] ?? '', referer: r.headers['referer'] ?? '',
      id: r.headers['x-request-id'] ?? '', protocol: r.protocol, size: int(info.bytesReceived), total_size: int(requestTotalSize(s)), duration: durationMs,
    },
    response: {
      code: int(info.responseCode), code_details: info.details, flags: int(info.flags),
      ...(info.grpcStatus !== '' && /^\d+$/.test(info.grpcStatus) ? { grpc_status: BigInt(info.grpcStatus) } : {}),
      headers: flatHeaders(s.responseHeaders), size: int(info.bytesSent), total_size: int(responseTotalSize(s)),
    },
    source: { address: r.remoteAddress, port: int(r.remotePort), principal: r.peer?.uriSans[0] ?? '' },
    destination: { address: r.localAddress, port: int(r.localPort) },
    connection: { mtls: r.peer !== undefined, requested_server_name: r.serverName, uri_san_peer_certificate: r.peer?.uriSans[0] ?? '', uri_san_local_certificate: r.peer?.localUriSans[0] ?? '' },
    upstream: { address: up.address, port: int(up.port), uri_san_peer_certificate: info.upstreamPeerPrincipal, uri_san_local_certificate: info.upstreamLocalPrincipal },
    xds: { cluster_name: info.upstreamCluster, route_name: info.routeName },
    upstream_peer: peerAttributes(info.upstreamPeer),
    downstream_peer: peerAttributes(info.downstreamPeer),
  };
}

export function httpFacts(s: CompletedStream, cluster: ClusterHandle | undefined): HttpFacts {
  const r = s.request;
  const info = s.info;
  const ct = r.headers['content-type'];
  const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
  const durationMs = Number(info.endNs - info.startNs) / 1e6;
  return {
    downstreamPeer: info.downstreamPeer,
    upstreamPeer: info.upstreamPeer,
    downstreamPeerPrincipal: r.peer?.uriSans[0] ?? '',
    downstreamLocalPrincipal: r.peer?.localUriSans[0] ?? '',
    upstreamPeerPrincipal: info.upstreamPeerPrincipal,
    upstreamLocalPrincipal: info.upstreamLocalPrincipal,
    service: clusterTelemetry(cluster?.config.proto).service,
    authority: hostOnly(r.authority),
    flags: info.flags,
    protocol: grpc ? 'grpc' : 'http',
    responseCode: info.responseCode,
    grpcStatus: grpc ? info.grpcStatus : '',
    durationMs,
    requestBytes: requestTotalSize(s),
    responseBytes: responseTotalSize(s),
    attributes: () => httpAttributes(s),
  };
}

/** Envoy's CEL attributes of a TCP connection (no request.* / response.code: those expressions fail, as in Envoy). */
export function tcpAttributes(s: TcpSession): Record<string, unknown> {
  const src = splitAddress(s.downstreamRemoteAddress);
  const dst = splitAddress(s.downstreamLocalAddress);
  const up = splitAddress(s.upstreamHost);
  return {
    source: { address: src.address, port: int(src.port), principal: s.downstreamPeer?.uriSans[0] ?? '' },
    destination: { address: dst.address, port: int(dst.port) },
    connection: { mtls: s.downstreamPeer !== undefined, requested_server_name: s.serverName, bytes_received: int(s.bytesReceived), bytes_sent: int(s.bytesSent) },
    upstream: { address: up.address, port: int(up.port) },
    xds: { cluster_name: s.cluster },
    response: { flags: int(s.flags) },
    upstream_peer: peerAttributes(s.upstreamPeerWorkload),
    downstream_peer: peerAttributes(s.downstreamPeerWorkload),
  };
}

export function tcpFacts(s: TcpSession, cluster: ClusterHandle | undefined): TcpFacts {
  return {
    downstreamPeer: s.downstreamPeerWorkload,
    upstreamPeer: s.upstreamPeerWorkload,
    downstreamPeerPrincipal: s.downstreamPeer?.uriSans[0] ?? '',
    downstreamLocalPrincipal: s.downstreamPeer?.localUriSans[0] ?? '',
    upstreamPeerPrincipal: s.upstreamPeerPrincipal,
    upstreamLocalPrincipal: s.upstreamLocalPrincipal,
    service: clusterTelemetry(cluster?.config.proto).service,
    authority: '',
    flags: s.flags,
    bytesReceived: s.bytesReceived,
    bytesSent: s.bytesSent,
    attributes: () => tcpAttributes(s),
  };
}
