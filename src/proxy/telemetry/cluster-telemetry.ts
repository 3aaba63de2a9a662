// What Istio's stats filter reads from a cluster: the service behind it, from the `istio` filter metadata
// istiod writes (`services: [{host, name, namespace}]`, pilot's addTelemetryMetadata), and whether it is
// mesh-external (`external: true`). Read once per cluster resource (clusters are immutable once accepted).

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';

export interface ClusterTelemetry {
  /** The first service, as Istio's filter reports destination_service from it. */
  readonly service: { readonly host: string; readonly name: string; readonly namespace: string } | undefined;
  readonly external: boolean;
}

const NONE: ClusterTelemetry = { service: undefined, external: false };
const memo = new WeakMap<Cluster, ClusterTelemetry>();

export function clusterTelemetry(c: Cluster | undefined): ClusterTelemetry {
  if (c === undefined) return NONE;
  let t = memo.get(c);
  if (t === undefined) {
    const md = c.metadata?.filterMetadata['istio'];
    const services = md?.['services'];
    const first = Array.isArray(services) ? services[0] : undefined;
    let service: ClusterTelemetry['service'];
    if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
      const s = (k: string): string => (typeof first[k] === 'string' ? (first[k] as string) : '');
      if (s('host') !== '') service = { host: s('host'), name: s('name'), namespace: s('namespace') };
    }
    t = { service, external: md?.['external'] === true };
    memo.set(c, t);
  }
  return t;
}
