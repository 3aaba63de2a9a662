// Clusters for proxyless gRPC clients, as Istio's gRPC generator builds them
// (pilot/pkg/networking/grpcgen/cds.go): every cluster is a bare EDS cluster (default and one per subset),
// and only what gRPC implements of the traffic policy is applied: explicit ISTIO_MUTUAL TLS through the
// client's certificate provider `default` (gRFC A29; no auto mTLS, since the client may not use xDS
// credentials), consistent hashing or LEAST_REQUEST, and http2MaxRequests as max_requests (gRFC A32).
//
// Istio serves only the clusters a gRPC client names; Isthmus's state-of-the-world output holds every
// visible service's clusters. Note that grpc-js-xds 1.14 accepts only ROUND_ROBIN and RING_HASH, so a
// rule asking for LEAST_REQUEST or MAGLEV makes it NACK that cluster, as it would with Istio.

import { create } from '@bufbuild/protobuf';
import { portLevelTrafficPolicy, subsetTrafficPolicy, type TrafficPolicy } from '../../api/networking/destination-rule.js';
import type { Service } from '../../registry/types.js';
import { pack } from '../../xds/codec.js';
import { CircuitBreakersSchema, CircuitBreakers_ThresholdsSchema } from '../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { Cluster_CommonLbConfigSchema, Cluster_DiscoveryType, Cluster_EdsClusterConfigSchema, Cluster_LbPolicy, ClusterSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { TransportSocketSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { AggregatedConfigSourceSchema, ConfigSourceSchema } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { HealthStatus, HealthStatusSetSchema } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { CertificateProviderPluginInstanceSchema, CertificateValidationContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContext_CertificateProviderInstanceSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  CommonTlsContextSchema,
  UpstreamTlsContextSchema,
  type UpstreamTlsContext,
} from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SDS_DEFAULT, SDS_ROOT, subsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { sendsDrainingEndpoints } from '../endpoint/endpoint-policy.js';
import { altStatName } from './cluster-wrapper.js';
import { applyConsistentHash } from './load-balancer.js';
import { exactMatchers } from './tls-context.js';
import { serviceAccounts, TLS_TRANSPORT_SOCKET } from './tls.js';

/** The gRPC client's certificate provider instance (its bootstrap's certificate_providers key). */
export const GRPC_CERTIFICATE_PROVIDER = 'default';

function edsCluster(name: string): Cluster {
  return create(ClusterSchema, {
    name,
    altStatName: altStatName(name),
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: create(Cluster_EdsClusterConfigSchema, {
      serviceName: name,
      edsConfig: create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema, {}) } }),
    }),
  });
}

/** grpcgen buildUpstreamTLSContext: certificate provider instances, current and deprecated fields both set. */
function grpcTlsContext(sans: readonly string[]): UpstreamTlsContext {
  return create(UpstreamTlsContextSchema, {
    commonTlsContext: create(CommonTlsContextSchema, {
      tlsCertificateProviderInstance: create(CertificateProviderPluginInstanceSchema, { instanceName: GRPC_CERTIFICATE_PROVIDER, certificateName: SDS_DEFAULT }),
      tlsCertificateCertificateProviderInstance: create(CommonTlsContext_CertificateProviderInstanceSchema, {
        instanceName: GRPC_CERTIFICATE_PROVIDER,
        certificateName: SDS_DEFAULT,
      }),
      validationContextType: {
        case: 'combinedValidationContext',
        value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
          validationContextCertificateProviderInstance: create(CommonTlsContext_CertificateProviderInstanceSchema, {
            instanceName: GRPC_CERTIFICATE_PROVIDER,
            certificateName: SDS_ROOT,
          }),
          defaultValidationContext: create(CertificateValidationContextSchema, {
            matchSubjectAltNames: exactMatchers(sans),
            caCertificateProviderInstance: create(CertificateProviderPluginInstanceSchema, { instanceName: GRPC_CERTIFICATE_PROVIDER, certificateName: SDS_ROOT }),
          }),
        }),
      },
    }),
  });
}

function applyGrpcPolicy(c: Cluster, policy: TrafficPolicy | undefined, sans: readonly string[]): void {
  if (policy === undefined) return;
  if (policy.tls?.mode === 'ISTIO_MUTUAL') {
    c.transportSocket = create(TransportSocketSchema, {
      name: TLS_TRANSPORT_SOCKET,
      configType: { case: 'typedConfig', value: pack(UpstreamTlsContextSchema, grpcTlsContext(sans)) },
    });
  }
  const lb = policy.loadBalancer;
  if (lb?.consistentHash !== undefined) applyConsistentHash(c, lb);
  else if (lb?.simple === 'LEAST_REQUEST') c.lbPolicy = Cluster_LbPolicy.LEAST_REQUEST;
  const maxRequests = policy.connectionPool?.http?.http2MaxRequests ?? 0;
  if (maxRequests > 0) c.circuitBreakers = create(CircuitBreakersSchema, { thresholds: [create(CircuitBreakers_ThresholdsSchema, { maxRequests })] });
}

/** Default and subset clusters of every non-UDP port of `service`. */
export function buildProxylessServiceClusters(ctx: ProxyContext, service: Service): Cluster[] {
  const dr = ctx.destinationRule(service.hostname)?.spec;
  const sans = serviceAccounts(ctx.snapshot, service);
  const out: Cluster[] = [];
  for (const port of service.ports) {
    if (port.protocol === 'UDP') continue;
    const c = edsCluster(subsetKey('outbound', undefined, service.hostname, port.port));
    if (sendsDrainingEndpoints(ctx.snapshot.features, service)) {
      c.commonLbConfig = create(Cluster_CommonLbConfigSchema, {
        overrideHostStatus: create(HealthStatusSetSchema, {
          statuses: [HealthStatus.HEALTHY, HealthStatus.DRAINING, HealthStatus.UNKNOWN, HealthStatus.DEGRADED],
        }),
      });
    }
    applyGrpcPolicy(c, portLevelTrafficPolicy(dr?.trafficPolicy, port.port).policy, sans);
    out.push(c);
    for (const subset of dr?.subsets ?? []) {
      const sc = edsCluster(subsetKey('outbound', subset.name, service.hostname, port.port));
      applyGrpcPolicy(sc, dr === undefined ? undefined : subsetTrafficPolicy(dr, subset.name, port.port), sans);
      out.push(sc);
    }
  }
  return out;
}
