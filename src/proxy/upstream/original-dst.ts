// Where an ORIGINAL_DST cluster connects for an HTTP request (Envoy's OriginalDstCluster::LoadBalancer
// chooseHost): the address the request names in the cluster's header (x-envoy-original-dst-host unless
// http_header_name says otherwise), only with original_dst_lb_config.use_http_header, only its first value, and
// only an IP address with a port (else original_dst_host_invalid counts it and the header is passed over); else
// the connection's own destination. In this proxy's capture without iptables, that is where the application
// asked to go: the request's authority (with the scheme's port). upstream_port_override then applies where the
// host is picked (upstream-cluster.ts).

import { isIP } from 'node:net';
import type { HeaderMap } from '../http/headers.js';
import type { OriginalDstSettings } from '../runtime/compile-cluster.js';

/** Envoy's parseInternetAddressAndPortNoThrow: `1.2.3.4:80` or `[::1]:80`. */
export function isAddressAndPort(v: string): boolean {
  const i = v.lastIndexOf(':');
  if (i <= 0) return false;
  const port = v.slice(i + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return false;
  const host = v.slice(0, i);
  if (host.startsWith('[')) return host.endsWith(']') && isIP(host.slice(1, -1)) === 6;
  return isIP(host) === 4;
}

/** The destination for one request; `invalidHeader` when the header was there and unusable. */
export function originalDestinationOf(settings: OriginalDstSettings | undefined, headers: HeaderMap, connectionDestination: string): { readonly destination: string; readonly invalidHeader: boolean } {
  const name = settings?.headerName;
  if (name !== undefined) {
    const v = headers[name];
    const first = typeof v === 'string' ? v : v?.[0];
    if (first !== undefined) {
      if (isAddressAndPort(first)) return { destination: first, invalidHeader: false };
      return { destination: connectionDestination, invalidHeader: true };
    }
  }
  return { destination: connectionDestination, invalidHeader: false };
}
