// Istio's conventions that the proxy-config tables decode: cluster names as subset keys
// (`outbound|9080|v1|reviews.default.svc.cluster.local`, or the DNS SRV form `outbound_.9080_.v1_.reviews...`,
// pilot/pkg/model ParseSubsetKey), and the `istio` filter metadata that names the config a cluster or route
// came from (`/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews`, printed
// `reviews.default` as istioctl's renderConfig does).

import { asObject, entry, obj, type JsonObject } from './json-fields.js';

export interface ClusterKey {
  readonly direction: string;
  readonly port: number;
  readonly subset: string;
  readonly host: string;
}

/**
 * The parts of a subset-key cluster name, or undefined when the name has fewer than four `|` parts
 * (`BlackHoleCluster`, `agent`). Like istioctl, any direction is accepted (`inbound-vip|8000|http|...`),
 * a non-numeric port reads as 0, and a name starting `outbound_`/`inbound_` is split on `_.` (DNS SRV form).
 */
export function parseClusterKey(name: string): ClusterKey | undefined {
  if (name.split('|').length <= 3) return undefined;
  const sep = name.startsWith('outbound_') || name.startsWith('inbound_') ? '_.' : '|';
  const parts: string[] = [];
  let rest = name;
  for (let i = 0; i < 3; i++) {
    const at = rest.indexOf(sep);
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  const [direction, port, subset] = parts as [string, string, string];
  const n = /^[+-]?[0-9]+$/.test(port) ? Number(port) : 0;
  // A fourth separator leaves the host empty, as ParseSubsetKey does.
  return { direction, port: n, subset, host: rest.includes(sep) ? '' : rest };
}

/** istioctl's sort key for clusters and load assignments: host, subset, port, direction. */
export function clusterOrder(a: string, b: string): number {
  const ka = parseClusterKey(a) ?? { direction: '', port: 0, subset: '', host: a };
  const kb = parseClusterKey(b) ?? { direction: '', port: 0, subset: '', host: b };
  if (ka.host !== kb.host) return ka.host < kb.host ? -1 : 1;
  if (ka.subset !== kb.subset) return ka.subset < kb.subset ? -1 : 1;
  if (ka.port !== kb.port) return ka.port - kb.port;
  return ka.direction < kb.direction ? -1 : ka.direction > kb.direction ? 1 : 0;
}

/**
 * `<name>.<namespace>` of the Istio config recorded in `metadata.filter_metadata.istio.config`
 * (istioctl describeManagement); "" when there is none, `<unknown>` for a path outside networking.istio.io.
 */
export function describeManagement(metadata: JsonObject | undefined): string {
  const istio = asObject(entry(obj(metadata, 'filter_metadata'), 'istio'));
  const config = entry(istio, 'config');
  if (typeof config !== 'string') return '';
  if (!config.startsWith('/apis/networking.istio.io/')) return '<unknown>';
  // /apis/networking.istio.io/v1/namespaces/<ns>/<kind>/<name>
  const pieces = config.split('/');
  if (pieces.length !== 8) return '';
  return `${pieces[7] ?? ''}.${pieces[5] ?? ''}`;
}
