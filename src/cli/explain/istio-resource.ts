// The Istio resource behind an Envoy object, as Istio records it: `filter_metadata.istio.config` on
// routes and clusters (`/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews`,
// util.BuildConfigInfoMetadata), plus the services and subset Istio puts on clusters. Also turns the
// path into the `VirtualService default/reviews` that people read.

import type { Metadata } from '../../xds/gen/envoy/config/core/v3/base_pb.js';

function istioStruct(m: Metadata | undefined): Record<string, unknown> | undefined {
  const s = m?.filterMetadata['istio'];
  return s === undefined ? undefined : (s as Record<string, unknown>);
}

/** `filter_metadata.istio.config`, when set. */
export function istioConfigOf(m: Metadata | undefined): string | undefined {
  const c = istioStruct(m)?.['config'];
  return typeof c === 'string' && c !== '' ? c : undefined;
}

/** `filter_metadata.istio.subset` of a cluster. */
export function istioSubsetOf(m: Metadata | undefined): string | undefined {
  const s = istioStruct(m)?.['subset'];
  return typeof s === 'string' && s !== '' ? s : undefined;
}

/** `namespace/name` of each service in `filter_metadata.istio.services`. */
export function istioServicesOf(m: Metadata | undefined): string[] {
  const list = istioStruct(m)?.['services'];
  if (!Array.isArray(list)) return [];
  return list.flatMap((s: unknown) => {
    if (typeof s !== 'object' || s === null) return [];
    const o = s as Record<string, unknown>;
    return typeof o['name'] === 'string' && typeof o['namespace'] === 'string' ? [`${o['namespace']}/${o['name']}`] : typeof o['host'] === 'string' ? [o['host']] : [];
  });
}

/** `/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews` → `VirtualService default/reviews`. */
export function describeIstioConfig(path: string): string {
  const m = /\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (m === null) return path;
  const kind = (m[2] as string)
    .split('-')
    .map((w) => (w === '' ? w : (w[0] as string).toUpperCase() + w.slice(1)))
    .join('');
  return `${kind} ${m[1] as string}/${m[3] as string}`;
}
