// The config of Istio's peer metadata filter (`istio.metadata_exchange`, io.istio.http.peer_metadata.Config
// in a TypedStruct; istio/proxy source/extensions/filters/http/peer_metadata): which discovery and
// propagation methods apply in which direction. Only `istio_headers` does anything here;
// `workload_discovery` (peers looked up in istiod's workload discovery service, ambient's WDS) finds
// nothing, as on an Istio sidecar without WDS; `baggage` is refused, so the resource is NACKed.

import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

export const PEER_METADATA_FILTER_TYPE = 'io.istio.http.peer_metadata.Config';

export interface PeerMetadataConfig {
  readonly downstreamDiscovery: boolean;
  readonly downstreamPropagation: boolean;
  readonly upstreamDiscovery: boolean;
  readonly upstreamPropagation: boolean;
  readonly skipExternalClusters: boolean;
}

function methods(value: JsonObject, snake: string, path: string, problems: string[]): { istioHeaders: boolean; skipExternal: boolean } {
  const camel = snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const list = value[snake] ?? value[camel];
  let istioHeaders = false;
  let skipExternal = false;
  if (list === undefined || list === null) return { istioHeaders, skipExternal };
  if (!Array.isArray(list)) {
    problems.push(`${path}.${snake}: must be a list`);
    return { istioHeaders, skipExternal };
  }
  list.forEach((m: JsonValue, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return void problems.push(`${path}.${snake}[${i}]: must be an object`);
    for (const k of Object.keys(m)) {
      if (k === 'istio_headers' || k === 'istioHeaders') {
        istioHeaders = true;
        const h = m[k];
        if (h !== null && typeof h === 'object' && !Array.isArray(h) && (h['skip_external_clusters'] === true || h['skipExternalClusters'] === true)) skipExternal = true;
      } else if (k === 'workload_discovery' || k === 'workloadDiscovery') continue;
      else problems.push(`${path}.${snake}[${i}]: the ${k} method is not supported (istio_headers and workload_discovery are)`);
    }
  });
  return { istioHeaders, skipExternal };
}

export function compilePeerMetadataConfig(value: JsonObject, path: string, problems: string[]): PeerMetadataConfig {
  const dd = methods(value, 'downstream_discovery', path, problems);
  const dp = methods(value, 'downstream_propagation', path, problems);
  const ud = methods(value, 'upstream_discovery', path, problems);
  const up = methods(value, 'upstream_propagation', path, problems);
  return {
    downstreamDiscovery: dd.istioHeaders,
    downstreamPropagation: dp.istioHeaders,
    upstreamDiscovery: ud.istioHeaders,
    upstreamPropagation: up.istioHeaders,
    skipExternalClusters: up.skipExternal,
  };
}
