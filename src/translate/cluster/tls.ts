// Which TLS a cluster originates, as Istio's buildUpstreamTLSSettings / applyUpstreamTLSSettings /
// BestEffortInferServiceMTLSMode (pilot/pkg/networking/core/cluster_tls.go, pilot/pkg/model/push_context.go):
// a DestinationRule's tls wins (ISTIO_MUTUAL filled with the cluster's SNI and the destination's service
// accounts); without one, auto mTLS sends ISTIO_MUTUAL to in-mesh services through
// transport_socket_matches, so only endpoints labelled `tlsMode: istio` get mTLS and the rest plain text.
// Headless (ORIGINAL_DST) clusters use mTLS only when every endpoint has a sidecar, as a plain
// transport_socket. A namespace- or mesh-level PeerAuthentication that DISABLEs mTLS for the service's
// namespace makes clients send plain text; workload-selector policies cannot be inferred per service (the
// endpoint builder's mtls checker handles them per endpoint), so without a namespace/mesh policy a service
// counts as PERMISSIVE.

import { create } from '@bufbuild/protobuf';
import type { ClientTLSSettings, TrafficPolicy } from '../../api/networking/destination-rule.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import { pack } from '../../xds/codec.js';
import { Cluster_DiscoveryType, Cluster_TransportSocketMatchSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { TransportSocketSchema, type TransportSocket } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { RawBufferSchema } from '../../xds/gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { UpstreamTlsContextSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { namespaceMtlsMode } from '../authn/peer-authentication.js';
import { discoveryTypeOf, type MutableCluster } from './cluster-wrapper.js';
import { upstreamTlsContext, type TlsContextOptions } from './tls-context.js';

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
export const RAW_BUFFER_TRANSPORT_SOCKET = 'envoy.transport_sockets.raw_buffer';

/** Istio's MutualTLSMode as far as translation can infer it. */
export type ServiceMtlsMode = 'UNKNOWN' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface UpstreamTlsOptions extends TlsContextOptions {
  /** SPIFFE identities of the destination's workloads (ISTIO_MUTUAL SAN check). */
  readonly serviceAccounts: readonly string[];
  /** SNI for ISTIO_MUTUAL: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
  readonly sni: string;
  readonly meshExternal: boolean;
  readonly mtlsMode: ServiceMtlsMode;
  readonly autoMtls: boolean;
}

export function rawBufferTransportSocket(): TransportSocket {
  return create(TransportSocketSchema, { name: RAW_BUFFER_TRANSPORT_SOCKET, configType: { case: 'typedConfig', value: pack(RawBufferSchema, create(RawBufferSchema, {})) } });
}

/**
 * `spiffe://<trust domain>/ns/<namespace>/sa/<account>` of every endpoint of the service, and the same identity
 * in each of the mesh's trust domain aliases, sorted (PushContext.addServiceAccounts with
 * spiffe.ExpandWithTrustDomains): a server whose certificate still names an old trust domain is accepted.
 */
export function serviceAccounts(snapshot: MeshSnapshot, service: Service): string[] {
  const out = new Set<string>();
  const domains = [snapshot.mesh.trustDomain, ...snapshot.mesh.trustDomainAliases];
  for (const p of service.ports) {
    for (const ep of snapshot.endpoints(service.hostname, p.port)) {
      if (ep.serviceAccount === '') continue;
      for (const td of domains) out.add(`spiffe://${td}/ns/${ep.namespace}/sa/${ep.serviceAccount}`);
    }
  }
  return [...out].sort();
}

/**
 * BestEffortInferServiceMTLSMode: unknown for mesh-external services; for passthrough traffic (headless
 * service or PASSTHROUGH load balancing) mTLS only if every endpoint of the port has a sidecar; then the
 * namespace/mesh PeerAuthentication mode of the service's namespace (GetNamespaceMutualTLSMode), else PERMISSIVE.
 */
export function inferServiceMtlsMode(snapshot: MeshSnapshot, service: Service, port: number, tp: TrafficPolicy | undefined): ServiceMtlsMode {
  if (service.location === 'MESH_EXTERNAL') return 'UNKNOWN';
  if (service.resolution === 'NONE' || tp?.loadBalancer?.simple === 'PASSTHROUGH') {
    const eps = snapshot.endpoints(service.hostname, port);
    if (eps.length === 0 || eps.some((e) => e.tlsMode === 'disabled')) return 'DISABLE';
  }
  return namespaceMtlsMode(snapshot, service.namespace) ?? 'PERMISSIVE';
}

/** buildUpstreamTLSSettings: the TLS to originate and whether auto mTLS chose it. */
export function resolveTlsSettings(tls: ClientTLSSettings | undefined, o: UpstreamTlsOptions): { tls: ClientTLSSettings | undefined; auto: boolean } {
  if (tls !== undefined) {
    if ((tls.mode ?? 'DISABLE') !== 'ISTIO_MUTUAL') return { tls, auto: false };
    const sni = (tls.sni ?? '') !== '' ? (tls.sni ?? '') : o.sni;
    const sans = (tls.subjectAltNames ?? []).length > 0 ? (tls.subjectAltNames ?? []) : o.serviceAccounts;
    return {
      tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: [...sans], sni, ...(tls.insecureSkipVerify !== undefined ? { insecureSkipVerify: tls.insecureSkipVerify } : {}) },
      auto: false,
    };
  }
  if (o.meshExternal || !o.autoMtls || o.mtlsMode === 'UNKNOWN' || o.mtlsMode === 'DISABLE') return { tls: undefined, auto: false };
  return { tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: [...o.serviceAccounts], sni: o.sni }, auto: true };
}

/** applyUpstreamTLSSettings (without HBONE). */
export function applyUpstreamTls(mc: MutableCluster, given: ClientTLSSettings | undefined, o: UpstreamTlsOptions): void {
  const { tls, auto } = resolveTlsSettings(given, o);
  const ctx = upstreamTlsContext(mc, tls, o);
  const c = mc.cluster;
  if (ctx === undefined) return;
  const socket = create(TransportSocketSchema, { name: TLS_TRANSPORT_SOCKET, configType: { case: 'typedConfig', value: pack(UpstreamTlsContextSchema, ctx) } });
  if (auto && discoveryTypeOf(c) !== Cluster_DiscoveryType.ORIGINAL_DST) {
    // Endpoints carry `envoy.transport_socket_match: {tlsMode: istio}` when they can take mTLS.
    c.transportSocketMatches = [
      create(Cluster_TransportSocketMatchSchema, { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transportSocket: socket }),
      create(Cluster_TransportSocketMatchSchema, { name: 'tlsMode-disabled', match: {}, transportSocket: rawBufferTransportSocket() }),
    ];
    return;
  }
  c.transportSocket = socket;
}
