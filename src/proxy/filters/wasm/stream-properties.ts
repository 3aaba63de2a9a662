// Envoy's attributes for one HTTP stream as proxy_get_property answers them (Envoy docs: "Attributes",
// intro/arch_overview/advanced/attributes; source/extensions/filters/common/expr/context.cc): request.*,
// response.*, source.*, destination.*, connection.*, upstream.*, and the stream-level xDS names.
// Encodings as Envoy's Wasm host: strings as bytes, integers as 8-byte little-endian int64, booleans as one
// byte, timestamps and durations as int64 nanoseconds, maps in the proxy-wasm pair serialization. An
// attribute that is not known now answers undefined (NOT_FOUND after the plugin-wide properties).

import { headerValue } from '../../http/headers.js';
import type { HeaderMap, HttpStream } from '../../http/http-stream.js';
import { serializePairs } from '../../wasm/pairs.js';
import { boolValue, hostPort, int64Value, strValue } from './property-values.js';

const str = strValue;
const int64 = int64Value;
const bool = boolValue;

function headerMapBytes(h: HeaderMap): Uint8Array {
  const pairs: [string, Uint8Array][] = [];
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    for (const x of typeof v === 'string' ? [v] : v) pairs.push([k, Buffer.from(x, 'latin1')]);
  }
  return serializePairs(pairs);
}

function splitHostPort(hp: string): { host: string; port: number } | undefined {
  const i = hp.lastIndexOf(':');
  if (i < 0) return undefined;
  const port = Number(hp.slice(i + 1));
  return Number.isInteger(port) ? { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port } : undefined;
}

function requestProperty(s: HttpStream, key: string | undefined, sub: string | undefined): Uint8Array | undefined {
  const r = s.request;
  const h = r.headers;
  switch (key) {
    case 'path':
      return str(s.upstreamPath);
    case 'url_path': {
      const q = s.upstreamPath.indexOf('?');
      return str(q < 0 ? s.upstreamPath : s.upstreamPath.slice(0, q));
    }
    case 'query': {
      const q = s.upstreamPath.indexOf('?');
      return str(q < 0 ? '' : s.upstreamPath.slice(q + 1));
    }
    case 'host':
      return str(s.upstreamAuthority);
    case 'scheme':
      return str(r.scheme);
    case 'method':
      return str(r.method);
    case 'headers':
      if (sub === undefined) return headerMapBytes(h);
      return str(headerValue(h, sub.toLowerCase()));
    case 'referer':
      return str(headerValue(h, 'referer'));
    case 'useragent':
      return str(headerValue(h, 'user-agent'));
    case 'id':
      return str(headerValue(h, 'x-request-id'));
    case 'protocol':
      return str(r.protocol);
    case 'time':
      return int64(BigInt(s.info.startMs) * 1_000_000n);
    case 'duration':
      return s.info.endNs > 0n ? int64(s.info.endNs - s.info.startNs) : undefined;
    case 'size': {
      const cl = headerValue(h, 'content-length');
      return cl !== undefined ? int64(Number(cl) || 0) : int64(s.info.bytesReceived);
    }
    case 'total_size':
      return int64(s.info.bytesReceived);
    default:
      return undefined;
  }
}

function responseProperty(s: HttpStream, key: string | undefined, sub: string | undefined): Uint8Array | undefined {
  const info = s.info;
  switch (key) {
    case 'code':
      return info.responseCode > 0 ? int64(info.responseCode) : undefined;
    case 'code_details':
      return str(info.details);
    case 'flags':
      return int64(info.flags);
    case 'headers': {
      const rh = s.responseHeaders;
      if (rh === undefined) return undefined;
      return sub === undefined ? headerMapBytes(rh) : str(headerValue(rh, sub.toLowerCase()));
    }
    case 'grpc_status': {
      const g = s.responseHeaders?.['grpc-status'];
      return typeof g === 'string' ? int64(Number(g)) : undefined;
    }
    case 'size':
    case 'total_size':
      return int64(info.bytesSent);
    default:
      return undefined;
  }
}

function connectionProperty(s: HttpStream, key: string | undefined): Uint8Array | undefined {
  const r = s.request;
  const peer = r.peer;
  switch (key) {
    case 'mtls':
      return bool(peer !== undefined);
    case 'requested_server_name':
      return str(r.serverName);
    case 'uri_san_peer_certificate':
      return peer !== undefined ? str(peer.uriSans[0] ?? '') : undefined;
    case 'dns_san_peer_certificate':
      return peer !== undefined ? str(peer.dnsSans[0] ?? '') : undefined;
    case 'subject_peer_certificate':
      return peer !== undefined ? str(peer.subject) : undefined;
    case 'sha256_peer_certificate_digest':
      return peer !== undefined ? str(peer.hash) : undefined;
    case 'uri_san_local_certificate':
      return peer !== undefined ? str(peer.localUriSans[0] ?? '') : undefined;
    case 'termination_details':
      return str(s.info.connectionTerminationDetails);
    default:
      return undefined;
  }
}

/** The attribute at `path` for stream `s`, or undefined. */
export function httpStreamProperty(s: HttpStream, path: readonly string[]): Uint8Array | undefined {
  const [root, key, sub] = path;
  const r = s.request;
  switch (root) {
    case 'request':
      return requestProperty(s, key, sub);
    case 'response':
      return responseProperty(s, key, sub);
    case 'source':
      if (key === 'address') return str(hostPort(r.remoteAddress, r.remotePort));
      if (key === 'port') return int64(r.remotePort);
      return undefined;
    case 'destination':
      if (key === 'address') return str(hostPort(r.localAddress, r.localPort));
      if (key === 'port') return int64(r.localPort);
      return undefined;
    case 'connection':
      return connectionProperty(s, key);
    case 'upstream': {
      const hp = s.info.upstreamHost !== '' ? splitHostPort(s.info.upstreamHost) : undefined;
      if (key === 'address') return hp !== undefined ? str(s.info.upstreamHost) : undefined;
      if (key === 'port') return hp !== undefined ? int64(hp.port) : undefined;
      if (key === 'local_address') return str(s.info.upstreamLocalAddress || undefined);
      if (key === 'transport_failure_reason') return str(s.info.upstreamTransportFailureReason);
      return undefined;
    }
    case 'route_name':
      return str(s.info.routeName);
    case 'cluster_name':
      return s.info.upstreamCluster !== '' ? str(s.info.upstreamCluster) : undefined;
    case 'xds':
      if (key === 'route_name') return str(s.info.routeName);
      if (key === 'cluster_name') return s.info.upstreamCluster !== '' ? str(s.info.upstreamCluster) : undefined;
      return undefined;
    default:
      return undefined;
  }
}

