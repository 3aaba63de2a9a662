// Envoy's attributes for one downstream connection as proxy_get_property answers them to a network
// (TCP) Wasm plugin: source.*, destination.*, connection.* and, once connected, upstream.address/port
// (Envoy docs: intro/arch_overview/advanced/attributes, "Connection attributes" and "Upstream
// attributes"). Request/response attributes do not exist on a connection; anything unknown answers
// undefined (the plugin-wide properties are asked next, then NOT_FOUND).

import type { ConnectionFacts } from '../../http/hcm-env.js';
import { boolValue, hostPort, int64Value, strValue } from './property-values.js';

/** The connection as its Wasm plugins see it; `upstreamHost` is '' until the upstream is chosen. */
export interface WasmConnectionInfo {
  readonly facts: ConnectionFacts;
  upstreamHost(): string;
}

function connectionAttribute(f: ConnectionFacts, key: string | undefined): Uint8Array | undefined {
  const peer = f.peer;
  switch (key) {
    case 'mtls':
      return boolValue(peer !== undefined);
    case 'requested_server_name':
      return strValue(f.serverName);
    case 'uri_san_peer_certificate':
      return peer !== undefined ? strValue(peer.uriSans[0] ?? '') : undefined;
    case 'dns_san_peer_certificate':
      return peer !== undefined ? strValue(peer.dnsSans[0] ?? '') : undefined;
    case 'subject_peer_certificate':
      return peer !== undefined ? strValue(peer.subject) : undefined;
    case 'sha256_peer_certificate_digest':
      return peer !== undefined ? strValue(peer.hash) : undefined;
    case 'uri_san_local_certificate':
      return peer !== undefined ? strValue(peer.localUriSans[0] ?? '') : undefined;
    default:
      return undefined;
  }
}

/** The attribute at `path` for the connection, or undefined. */
export function connectionProperty(c: WasmConnectionInfo, path: readonly string[]): Uint8Array | undefined {
  const [root, key] = path;
  const f = c.facts;
  switch (root) {
    case 'source':
      if (key === 'address') return strValue(hostPort(f.remoteAddress, f.remotePort));
      if (key === 'port') return int64Value(f.remotePort);
      return undefined;
    case 'destination':
      if (key === 'address') return strValue(hostPort(f.localAddress, f.localPort));
      if (key === 'port') return int64Value(f.localPort);
      return undefined;
    case 'connection':
      return connectionAttribute(f, key);
    case 'upstream': {
      const u = c.upstreamHost();
      if (u === '') return undefined;
      if (key === 'address') return strValue(u);
      if (key === 'port') {
        const p = Number(u.slice(u.lastIndexOf(':') + 1));
        return Number.isInteger(p) ? int64Value(p) : undefined;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
