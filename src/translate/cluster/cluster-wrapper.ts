// A cluster under construction (Istio's clusterWrapper, pilot/pkg/networking/core/cluster_builder.go): the
// Cluster plus the upstream HttpProtocolOptions that the traffic-policy steps fill in and `finishCluster`
// packs into typed_extension_protocol_options, and the HTTP/2 and downstream-protocol switches those steps
// share. Nothing here reads the snapshot.

import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '../proto-values.js';
import { pack } from '../../xds/codec.js';
import { AggregatedConfigSourceSchema, ApiVersion, ConfigSourceSchema } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { Http1ProtocolOptionsSchema, Http2ProtocolOptionsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { Cluster_DiscoveryType, Cluster_EdsClusterConfigSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  HttpProtocolOptions_ExplicitHttpConfigSchema,
  HttpProtocolOptions_UseDownstreamHttpConfigSchema,
  HttpProtocolOptionsSchema,
  type HttpProtocolOptions,
} from '../../xds/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { EndpointGroup } from '../endpoint/locality-endpoints.js';

/** typed_extension_protocol_options key for upstream HTTP options (Istio's v3.HttpProtocolOptionsType). */
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

export interface MutableCluster {
  readonly cluster: Cluster;
  /** Upstream HTTP options, packed by finishCluster when any step set them. */
  http: HttpProtocolOptions | undefined;
  /** DNS clusters: the registry endpoints behind the inline load assignment, per locality. */
  dnsGroups: readonly EndpointGroup[] | undefined;
}

export function wrapCluster(cluster: Cluster): MutableCluster {
  return { cluster, http: undefined, dnsGroups: undefined };
}

/** DelimitedStatsPrefix: Istio's alt_stat_name is the name followed by `;`. */
export function altStatName(name: string): string {
  return `${name};`;
}

export function discoveryTypeOf(c: Cluster): Cluster_DiscoveryType | undefined {
  return c.clusterDiscoveryType.case === 'type' ? c.clusterDiscoveryType.value : undefined;
}

function httpOptions(mc: MutableCluster): HttpProtocolOptions {
  mc.http ??= create(HttpProtocolOptionsSchema, {});
  return mc.http;
}

/** isHttp2Cluster: explicit HTTP/2 upstream. */
export function isHttp2Cluster(mc: MutableCluster): boolean {
  const u = mc.http?.upstreamProtocolOptions;
  return u?.case === 'explicitHttpConfig' && u.value.protocolConfig.case === 'http2ProtocolOptions';
}

/** setH2Options: explicit HTTP/2 upstream, unless an upstream protocol was chosen already. */
export function setH2Options(mc: MutableCluster): void {
  const options = httpOptions(mc);
  if (options.upstreamProtocolOptions.case !== undefined) return;
  options.upstreamProtocolOptions = {
    case: 'explicitHttpConfig',
    value: create(HttpProtocolOptions_ExplicitHttpConfigSchema, {
      protocolConfig: { case: 'http2ProtocolOptions', value: create(Http2ProtocolOptionsSchema, {}) },
    }),
  };
}

/** setUseDownstreamProtocol: HTTP/1.1 or HTTP/2 as the downstream used, keeping explicit HTTP/1 options. */
export function setUseDownstreamProtocol(mc: MutableCluster): void {
  const options = httpOptions(mc);
  const u = options.upstreamProtocolOptions;
  const http1 = u.case === 'explicitHttpConfig' && u.value.protocolConfig.case === 'httpProtocolOptions' ? u.value.protocolConfig.value : create(Http1ProtocolOptionsSchema, {});
  options.upstreamProtocolOptions = {
    case: 'useDownstreamProtocolConfig',
    value: create(HttpProtocolOptions_UseDownstreamHttpConfigSchema, {
      httpProtocolOptions: http1,
      http2ProtocolOptions: create(Http2ProtocolOptionsSchema, {}),
    }),
  };
}

/** The HttpProtocolOptions step functions may extend, creating it when missing. */
export function mutableHttpOptions(mc: MutableCluster): HttpProtocolOptions {
  return httpOptions(mc);
}

/** maybeApplyEdsConfig: EDS clusters read their endpoints over ADS, named after the cluster. */
export function applyEdsConfig(c: Cluster): void {
  if (discoveryTypeOf(c) !== Cluster_DiscoveryType.EDS) return;
  c.edsClusterConfig = create(Cluster_EdsClusterConfigSchema, {
    serviceName: c.name,
    edsConfig: create(ConfigSourceSchema, {
      configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema, {}) },
      initialFetchTimeout: durationFromMs(0),
      resourceApiVersion: ApiVersion.V3,
    }),
  });
}

/**
 * clusterWrapper.build: packs the HTTP options (an explicit HTTP/1 config when no upstream protocol was
 * chosen, since Envoy requires one) and returns the cluster.
 */
export function finishCluster(mc: MutableCluster): Cluster {
  if (mc.http !== undefined) {
    if (mc.http.upstreamProtocolOptions.case === undefined) {
      mc.http.upstreamProtocolOptions = {
        case: 'explicitHttpConfig',
        value: create(HttpProtocolOptions_ExplicitHttpConfigSchema, {
          protocolConfig: { case: 'httpProtocolOptions', value: create(Http1ProtocolOptionsSchema, {}) },
        }),
      };
    }
    mc.cluster.typedExtensionProtocolOptions = { [HTTP_PROTOCOL_OPTIONS_KEY]: pack(HttpProtocolOptionsSchema, mc.http) };
  }
  return mc.cluster;
}
