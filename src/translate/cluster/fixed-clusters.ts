// The clusters Istio always generates (pilot/pkg/networking/core/cluster_builder.go buildBlackHoleCluster,
// buildDefaultPassthroughCluster, buildInboundPassthroughCluster): BlackHoleCluster (STATIC, no endpoints:
// traffic to it fails), PassthroughCluster (ORIGINAL_DST: forward to where the client was going, HTTP as
// the client spoke it; with the TCP metadata exchange upstream filter, as every outbound cluster) and the
// inbound passthrough cluster for ports no service declares, bound to 127.0.0.6 so the traffic is not captured
// again (and without the exchange filter).

import { create } from '@bufbuild/protobuf';
import type { MeshConfig } from '../../model/mesh-config.js';
import { pack } from '../../xds/codec.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { BindConfigSchema, SocketAddressSchema } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import { HttpProtocolOptionsSchema as CoreHttpProtocolOptionsSchema, Http1ProtocolOptionsSchema, Http2ProtocolOptionsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { HttpProtocolOptions_UseDownstreamHttpConfigSchema, HttpProtocolOptionsSchema } from '../../xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { BLACKHOLE_CLUSTER, INBOUND_PASSTHROUGH_CLUSTER_IPV4, PASSTHROUGH_CLUSTER } from '../../xds/names.js';
import { durationFromMs, durationFromSeconds } from '../proto-values.js';
import { altStatName, HTTP_PROTOCOL_OPTIONS_KEY, wrapCluster } from './cluster-wrapper.js';
import { applyConnectionPool } from './connection-pool.js';
import { INBOUND_PASSTHROUGH_BIND_IPV4 } from './inbound-clusters.js';
import { applyClusterMetadataExchange } from '../telemetry/metadata-exchange.js';

/** Idle timeout of passthrough connections (Istio's passthroughHttpProtocolOptions). */
const PASSTHROUGH_IDLE_TIMEOUT_SECONDS = 300;

export function buildBlackHoleCluster(mesh: MeshConfig): Cluster {
  return create(ClusterSchema, {
    name: BLACKHOLE_CLUSTER,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    altStatName: altStatName(BLACKHOLE_CLUSTER),
  });
}

function passthroughHttpOptions() {
  return pack(
    HttpProtocolOptionsSchema,
    create(HttpProtocolOptionsSchema, {
      commonHttpProtocolOptions: create(CoreHttpProtocolOptionsSchema, { idleTimeout: durationFromSeconds(PASSTHROUGH_IDLE_TIMEOUT_SECONDS) }),
      upstreamProtocolOptions: {
        case: 'useDownstreamProtocolConfig',
        value: create(HttpProtocolOptions_UseDownstreamHttpConfigSchema, {
          httpProtocolOptions: create(Http1ProtocolOptionsSchema, {}),
          http2ProtocolOptions: create(Http2ProtocolOptionsSchema, {}),
        }),
      },
    }),
  );
}

/** buildDefaultPassthroughCluster: unlimited circuit breakers (MeshConfig.defaultTrafficPolicy is not modelled). */
export function buildPassthroughCluster(mesh: MeshConfig): Cluster {
  const c = create(ClusterSchema, {
    name: PASSTHROUGH_CLUSTER,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    typedExtensionProtocolOptions: { [HTTP_PROTOCOL_OPTIONS_KEY]: passthroughHttpOptions() },
    altStatName: altStatName(PASSTHROUGH_CLUSTER),
  });
  applyConnectionPool(mesh, wrapCluster(c), {}, undefined);
  applyClusterMetadataExchange(c);
  return c;
}

/** buildInboundPassthroughCluster (IPv4 proxies). Istio keeps the passthrough cluster's alt_stat_name. */
export function buildInboundPassthroughCluster(mesh: MeshConfig): Cluster {
  const c = buildPassthroughCluster(mesh);
  c.name = INBOUND_PASSTHROUGH_CLUSTER_IPV4;
  c.filters = [];
  c.upstreamBindConfig = create(BindConfigSchema, {
    sourceAddress: create(SocketAddressSchema, { address: INBOUND_PASSTHROUGH_BIND_IPV4, portSpecifier: { case: 'portValue', value: 0 } }),
  });
  return c;
}
