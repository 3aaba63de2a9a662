// Istio's metadata on clusters, under filter_metadata `istio` (pilot/pkg/networking/core/cluster.go
// addTelemetryMetadata, pilot/pkg/networking/util AddConfigInfoMetadata / AddSubsetToMetadata /
// AddALPNOverrideToMetadata): the services a cluster serves (for telemetry), the DestinationRule that
// shaped it, its subset, `alpn_override: "false"` when the user originates TLS, and `external` for
// mesh-external services.

import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import type { ClientTLSMode } from '../../api/networking/destination-rule.js';
import type { ConfigRef } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import { MetadataSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';

export const ISTIO_METADATA_KEY = 'istio';

/** The `istio` filter metadata struct of the cluster, created when missing. */
export function istioMetadata(cluster: Cluster): JsonObject {
  cluster.metadata ??= create(MetadataSchema, {});
  const existing = cluster.metadata.filterMetadata[ISTIO_METADATA_KEY];
  if (existing !== undefined) return existing;
  const fresh: JsonObject = {};
  cluster.metadata.filterMetadata[ISTIO_METADATA_KEY] = fresh;
  return fresh;
}

/** buildServiceMetadata: `{host, name, namespace}` of a service. */
function serviceMetadata(s: Service): JsonValue {
  return { host: s.hostname, name: s.name, namespace: s.namespace };
}

/** addTelemetryMetadata: `istio.services` lists the services behind the cluster (one per hostname). */
export function addServicesMetadata(cluster: Cluster, services: readonly Service[]): void {
  const seen = new Set<string>();
  const list: JsonValue[] = [];
  for (const s of services) {
    if (seen.has(s.hostname)) continue;
    seen.add(s.hostname);
    list.push(serviceMetadata(s));
  }
  istioMetadata(cluster)['services'] = list;
}

/** AddConfigInfoMetadata: `istio.config` names the resource (`/apis/networking.istio.io/v1/namespaces/ns/destination-rule/name`). */
export function addConfigMetadata(cluster: Cluster, ref: ConfigRef): void {
  const kebab = ref.kind.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  istioMetadata(cluster)['config'] = `/apis/networking.istio.io/v1/namespaces/${ref.namespace}/${kebab}/${ref.name}`;
}

/** AddSubsetToMetadata: only when the `istio` struct exists already (it always does after addConfigMetadata). */
export function addSubsetMetadata(cluster: Cluster, subset: string): void {
  const md = cluster.metadata?.filterMetadata[ISTIO_METADATA_KEY];
  if (md !== undefined) md['subset'] = subset;
}

/** AddALPNOverrideToMetadata: user-originated TLS (SIMPLE, MUTUAL) must keep the application's ALPN. */
export function addAlpnOverrideMetadata(cluster: Cluster, mode: ClientTLSMode | undefined): void {
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return;
  istioMetadata(cluster)['alpn_override'] = 'false';
}

/** `istio.external: true` on clusters of MESH_EXTERNAL services (metadata exchange skips them). */
export function markExternal(cluster: Cluster): void {
  istioMetadata(cluster)['external'] = true;
}
