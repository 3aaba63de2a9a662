// What Istio's stats filter reads from a finished HTTP stream or TCP connection, gathered from the
// stream's info, the connection's certificates and the upstream cluster's Istio metadata. The CEL
// attributes (Envoy's attribute vocabulary: request.*, response.*, source.*, destination.*, connection.*,
// upstream.*, xds.*, plus Istio's upstream_peer / downstream_peer) are built only when a Telemetry tag
// expression asks for them.

import type { CompletedStream } from '../http/hcm-env.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { TcpSession } from '../network/tcp-proxy.js';
import { responseFlagsToString } from '../http/response-flags.js';
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
    requestBytes: info.bytesReceived,
    responseBytes: info.bytesSent,
    attributes: () => {
      const q = r.path.indexOf('?');
      const up = splitAddress(info.upstreamHost);
      return {
        request: {
          path: r.path, url_path: q >= 0 ? r.path.slice(0, q) : r.path, host: r.authority, scheme: r.scheme, method: r.method,
          headers: flatHeaders(r.headers), useragent: r.headers['user-agent'] ?? '', referer: r.headers['referer'] ?? '',
          id: r.headers['x-request-id'] ?? '', protocol: r.protocol, size: info.bytesReceived, total_size: info.bytesReceived, duration: durationMs,
        },
        response: {
          code: info.responseCode, code_details: info.details, flags: info.flags, grpc_status: info.grpcStatus,
          headers: flatHeaders(s.responseHeaders), size: info.bytesSent, total_size: info.bytesSent,
        },
        source: { address: r.remoteAddress, port: r.remotePort, principal: r.peer?.uriSans[0] ?? '' },
        destination: { address: r.localAddress, port: r.localPort },
        connection: { mtls: r.peer !== undefined, requested_server_name: r.serverName, uri_san_peer_certificate: r.peer?.uriSans[0] ?? '', uri_san_local_certificate: r.peer?.localUriSans[0] ?? '' },
        upstream: { address: up.address, port: up.port, uri_san_peer_certificate: info.upstreamPeerPrincipal, uri_san_local_certificate: info.upstreamLocalPrincipal },
        xds: { cluster_name: info.upstreamCluster, route_name: info.routeName },
        upstream_peer: peerAttributes(info.upstreamPeer),
        downstream_peer: peerAttributes(info.downstreamPeer),
      };
    },
  };
}

export function tcpFacts(s: TcpSession, cluster: ClusterHandle | undefined): TcpFacts {
  return {
    downstreamPeer: undefined,
    upstreamPeer: undefined,
    downstreamPeerPrincipal: s.downstreamPeer?.uriSans[0] ?? '',
    downstreamLocalPrincipal: s.downstreamPeer?.localUriSans[0] ?? '',
    upstreamPeerPrincipal: s.upstreamPeerPrincipal,
    upstreamLocalPrincipal: s.upstreamLocalPrincipal,
    service: clusterTelemetry(cluster?.config.proto).service,
    authority: '',
    flags: s.flags,
    bytesReceived: s.bytesReceived,
    bytesSent: s.bytesSent,
    attributes: () => {
      const src = splitAddress(s.downstreamRemoteAddress);
      const dst = splitAddress(s.downstreamLocalAddress);
      const up = splitAddress(s.upstreamHost);
      return {
        source: { address: src.address, port: src.port, principal: s.downstreamPeer?.uriSans[0] ?? '' },
        destination: { address: dst.address, port: dst.port },
        connection: { mtls: s.downstreamPeer !== undefined, requested_server_name: s.serverName, bytes_received: s.bytesReceived, bytes_sent: s.bytesSent },
        upstream: { address: up.address, port: up.port },
        xds: { cluster_name: s.cluster },
        response: { flags: responseFlagsToString(s.flags) },
      };
    },
  };
}
