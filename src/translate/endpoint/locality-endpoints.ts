// The endpoints of one cluster (service port, optionally a DestinationRule subset) as Envoy
// LocalityLbEndpoints, following Istio's EndpointBuilder.generate / buildEnvoyLbEndpoint
// (pilot/pkg/xds/endpoints/endpoint_builder.go): filtered (no address, subset labels, unhealthy and draining
// rules, non-IP addresses for EDS), grouped by locality in sorted locality order, each group weighted by the
// sum of its endpoints' weights. Used for EDS and for the inline load assignment of DNS clusters.
//
// Every group has `locality` set (empty when unknown) and a weight > 0: grpc-js-xds rejects an EDS
// locality without them. Each group remembers the registry endpoints behind its lb_endpoints so locality
// failover can compare their labels (Istio's WrappedLocalityLbEndpoints).

import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { mtlsModeForPort, peerAuthenticationForWorkload } from '../authn/peer-authentication.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import type { DestinationRuleSpec } from '../../api/networking/destination-rule.js';
import type { Endpoint, Labels, Service } from '../../registry/types.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { LocalitySchema, MetadataSchema, type Metadata } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  EndpointSchema,
  LbEndpointSchema,
  LocalityLbEndpointsSchema,
  type LbEndpoint,
  type LocalityLbEndpoints,
} from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { MAX_UINT32, socketAddress } from '../proto-values.js';
import {
  clusterTrafficPolicy,
  destinationRuleTlsMode,
  DRAINING_LABEL,
  sendsDrainingEndpoints,
  sendsUnhealthyEndpoints,
  subsetLabels,
} from './endpoint-policy.js';
import { DEFAULT_CLUSTER_ID, localityKey, workloadTelemetryLabel } from './topology-labels.js';

/** Filter metadata key Envoy matches transport_socket_matches against (Istio's EnvoyTransportSocketMetadataKey). */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';
/** Filter metadata key for Istio's own cluster/endpoint metadata. */
export const ISTIO_METADATA_KEY = 'istio';

export interface EndpointGroup {
  /** Registry endpoints behind `lb.lbEndpoints`, index for index. */
  readonly endpoints: readonly Endpoint[];
  readonly lb: LocalityLbEndpoints;
}

export interface ClusterEndpointsInput {
  readonly service: Service;
  readonly port: number;
  readonly subset: string | undefined;
  readonly destinationRule: DestinationRuleSpec | undefined;
  /** EDS only: drop endpoints whose address is not an IP (Envoy cannot resolve names from EDS). */
  readonly requireIp: boolean;
}

function labelsMatch(selector: Labels | undefined, labels: Labels): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

function isDraining(ep: Endpoint): boolean {
  return ep.health === 'DRAINING' || (ep.labels[DRAINING_LABEL] ?? '') !== '';
}

function healthOf(ep: Endpoint): HealthStatus {
  if (isDraining(ep)) return HealthStatus.DRAINING;
  return ep.health === 'UNHEALTHY' ? HealthStatus.UNHEALTHY : HealthStatus.HEALTHY;
}

/** The endpoint's metadata: `envoy.transport_socket_match.tlsMode` when mTLS applies, and Istio's telemetry label. */
function endpointMetadata(ep: Endpoint, mtls: boolean): Metadata {
  const filterMetadata: Metadata['filterMetadata'] = {};
  if (mtls && ep.tlsMode === 'istio') filterMetadata[TRANSPORT_SOCKET_MATCH_KEY] = { tlsMode: 'istio' };
  filterMetadata[ISTIO_METADATA_KEY] = { workload: workloadTelemetryLabel(ep.labels, ep.workloadName, ep.namespace, DEFAULT_CLUSTER_ID) };
  return create(MetadataSchema, { filterMetadata });
}

function lbEndpoint(ep: Endpoint, mtls: boolean): LbEndpoint {
  return create(LbEndpointSchema, {
    hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address: socketAddress(ep.address, ep.port) }) },
    healthStatus: healthOf(ep),
    metadata: endpointMetadata(ep, mtls),
    loadBalancingWeight: Math.max(1, ep.weight),
  });
}

/** Whether the endpoint's own PeerAuthentication (workload, namespace or mesh) turns mTLS off on its port. */
function mtlsDisabledFor(snapshot: MeshSnapshot, ep: Endpoint): boolean {
  return mtlsModeForPort(peerAuthenticationForWorkload(snapshot, ep.namespace, ep.labels), ep.port) === 'DISABLE';
}

/** The endpoints Istio keeps for this cluster, in the snapshot's order (address, then port). */
export function selectEndpoints(snapshot: MeshSnapshot, input: ClusterEndpointsInput): Endpoint[] {
  const { service, port, subset, destinationRule: dr } = input;
  const labels = subsetLabels(dr, subset);
  const unhealthy = sendsUnhealthyEndpoints(clusterTrafficPolicy(dr, subset, port));
  const draining = sendsDrainingEndpoints(snapshot.features, service);
  return snapshot.endpoints(service.hostname, port).filter((ep) => {
    if (ep.address === '') return false;
    if (input.requireIp && ep.port !== 0 && isIP(ep.address) === 0) return false;
    if (!labelsMatch(labels, ep.labels)) return false;
    if (!unhealthy && ep.health === 'UNHEALTHY') return false;
    if (!draining && isDraining(ep)) return false;
    return true;
  });
}

/** The cluster's endpoints grouped by locality (sorted by `region/zone/subzone`), each group weighted. */
export function clusterEndpoints(snapshot: MeshSnapshot, input: ClusterEndpointsInput): EndpointGroup[] {
  const drMode = destinationRuleTlsMode(input.destinationRule, input.subset, input.port);
  const byLocality = new Map<string, Endpoint[]>();
  for (const ep of selectEndpoints(snapshot, input)) {
    const key = localityKey(ep.locality);
    const list = byLocality.get(key) ?? [];
    list.push(ep);
    byLocality.set(key, list);
  }
  const groups: EndpointGroup[] = [];
  for (const key of [...byLocality.keys()].sort()) {
    const eps = byLocality.get(key) ?? [];
    const first = eps[0];
    if (first === undefined) continue;
    // mtls_checker.checkMtlsEnabled: a DestinationRule TLS mode decides; else the endpoint must have a sidecar
    // (tlsMode istio) whose workload's PeerAuthentication does not DISABLE mTLS on the endpoint's port.
    const lbEndpoints = eps.map((ep) => lbEndpoint(ep, drMode !== undefined ? drMode === 'ISTIO_MUTUAL' : ep.tlsMode === 'istio' && !mtlsDisabledFor(snapshot, ep)));
    const weight = Math.min(
      MAX_UINT32,
      lbEndpoints.reduce((sum, e) => sum + (e.loadBalancingWeight ?? 1), 0),
    );
    const lb = create(LocalityLbEndpointsSchema, {
      locality: create(LocalitySchema, { region: first.locality.region, zone: first.locality.zone, subZone: first.locality.subZone }),
      lbEndpoints,
      loadBalancingWeight: weight,
    });
    groups.push({ endpoints: eps, lb });
  }
  return groups;
}
