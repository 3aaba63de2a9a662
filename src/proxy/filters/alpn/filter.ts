// Istio's `istio.alpn` on the request path (istio/proxy alpn_filter.cc decodeHeaders): picks the upstream HTTP
// protocol the route's cluster will speak (HTTP/2 or HTTP/1.1 as configured, the downstream's own with
// use_downstream_protocol_config) and sets its ALPN override on the stream; the router then gets a connection
// whose TLS offers that list (pools are kept per ALPN list). Skipped for clusters whose `istio` metadata says
// `alpn_override: "false"` (user-originated TLS keeps the application's ALPN), and when the request has no route.
// Without TLS the override changes nothing. Never stops the request.

import type { Cluster } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { HcmEnv } from '../../http/hcm-env.js';
import type { HttpProtocol, HttpStream } from '../../http/http-stream.js';
import type { CompiledCluster } from '../../runtime/compile-cluster.js';
import type { RouteSelection } from '../../http/route/types.js';
import type { AlpnFilterConfig } from './config.js';

const overrideOff = new WeakMap<Cluster, boolean>();

/** The cluster's `istio.alpn_override` is "false" (read once per cluster resource). */
function alpnOverrideDisabled(c: Cluster): boolean {
  let off = overrideOff.get(c);
  if (off === undefined) {
    off = c.metadata?.filterMetadata['istio']?.['alpn_override'] === 'false';
    overrideOff.set(c, off);
  }
  return off;
}

/**
 * The override for a request to `cluster` (Envoy's ClusterInfo::upstreamHttpProtocol picks the protocol: the
 * cluster's, or the downstream's with use_downstream_protocol_config); undefined: keep the cluster's ALPN.
 */
export function alpnOverrideFor(c: AlpnFilterConfig, cluster: CompiledCluster, downstream: HttpProtocol): readonly string[] | undefined {
  if (alpnOverrideDisabled(cluster.proto)) return undefined;
  const p = cluster.protocol;
  if (p === 'http2' || (p === 'downstream' && downstream === 'HTTP/2')) return c.http2;
  return p === 'downstream' && downstream === 'HTTP/1.0' ? c.http10 : c.http11;
}

export function runAlpnFilter(c: AlpnFilterConfig, s: HttpStream, sel: RouteSelection | undefined, env: HcmEnv): void {
  if (sel?.kind !== 'route') return;
  const cluster = env.cluster(sel.cluster);
  if (cluster === undefined) return;
  const list = alpnOverrideFor(c, cluster.config, s.request.protocol);
  if (list !== undefined) s.upstreamAlpn = list;
}
