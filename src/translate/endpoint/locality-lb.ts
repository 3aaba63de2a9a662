// Locality-aware load balancing as Istio applies it to a load assignment relative to the calling proxy
// (pilot/pkg/networking/core/loadbalancer/loadbalancer.go: GetEffectiveLbSetting,
// ApplyLocalityLoadBalancer, applyLocalityWeights, applyLocalityFailover, applyFailoverPriorities):
// `distribute` rewrites locality weights; otherwise, only when failover is enabled (the cluster has
// outlier detection, else Envoy could never notice a failed locality), localities get priorities by
// failoverPriority labels and/or region/zone/subzone proximity with `failover` region pairs.
//
// Mutates the LocalityLbEndpoints it is given (they are freshly built per proxy) and returns the list to
// use, which differs from the input when failoverPriority splits a locality into several priorities.
// Zone-aware settings (istio master's zoneAwareLbSetting) are not implemented: such a rule disables
// locality processing here.

import { create } from '@bufbuild/protobuf';
import type { LoadBalancerSettings, LocalityLoadBalancerSetting } from '../../api/networking/load-balancer.js';
import type { Labels, Locality } from '../../registry/types.js';
import { LocalityLbEndpointsSchema, type LocalityLbEndpoints } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { Locality as EnvoyLocality } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { EndpointGroup } from './locality-endpoints.js';
import { LABEL_NETWORK } from './topology-labels.js';

/** MeshConfig.localityLbSetting as Istio defaults it (pkg/config/mesh DefaultMeshConfig): enabled, nothing else. */
export const MESH_LOCALITY_LB_SETTING: LocalityLoadBalancerSetting = Object.freeze({ enabled: true });

/** The proxy side of locality decisions: its locality and its (topology-augmented) labels. */
export interface LocalityViewer {
  readonly locality: Locality;
  readonly labels: Labels;
}

/**
 * GetEffectiveLbSetting for locality settings: the DestinationRule's localityLbSetting (undefined when it
 * disables locality LB), else the mesh default. A zone-aware setting is not supported (undefined).
 */
export function effectiveLocalityLbSetting(lb: LoadBalancerSettings | undefined): LocalityLoadBalancerSetting | undefined {
  if (lb?.zoneAwareLbSetting !== undefined) return undefined;
  const own = lb?.localityLbSetting;
  if (own !== undefined) return own.enabled === false ? undefined : own;
  return MESH_LOCALITY_LB_SETTING.enabled === false ? undefined : MESH_LOCALITY_LB_SETTING;
}

/** LocalityLBSettings.ApplyToCluster: whether the cluster needs common_lb_config.locality_weighted_lb_config. */
export function needsLocalityWeightedLbConfig(setting: LocalityLoadBalancerSetting, enableFailover: boolean): boolean {
  const failover = (setting.failover ?? []).length > 0 || (setting.failoverPriority ?? []).length > 0;
  return (enableFailover && failover) || (setting.distribute ?? []).length > 0;
}

/** util.LocalityMatch: `rule` is `region[/zone[/subzone]]`, each part exact or `*`; a missing zone/subzone matches any. */
export function localityMatch(l: EnvoyLocality | Locality | undefined, rule: string): boolean {
  const [region = '', zone = '', subZone = ''] = rule.split('/');
  return (
    (region === '*' || (l?.region ?? '') === region) &&
    (zone === '*' || zone === '' || (l?.zone ?? '') === zone) &&
    (subZone === '*' || subZone === '' || (l?.subZone ?? '') === subZone)
  );
}

/** util.LbPriority: 0 same subzone, 1 same zone, 2 same region, 3 elsewhere. */
function lbPriority(proxy: Locality, ep: EnvoyLocality | undefined): number {
  if (proxy.region !== (ep?.region ?? '')) return 3;
  if (proxy.zone !== (ep?.zone ?? '')) return 2;
  return proxy.subZone === (ep?.subZone ?? '') ? 0 : 1;
}

/** Renumbers priorities 0..N without gaps, keeping their order. */
function compactPriorities(eps: readonly LocalityLbEndpoints[]): void {
  const distinct = [...new Set(eps.map((e) => e.priority))].sort((a, b) => a - b);
  const rank = new Map(distinct.map((p, i) => [p, i]));
  for (const e of eps) e.priority = rank.get(e.priority) ?? e.priority;
}

function applyLocalityWeights(proxy: Locality, eps: LocalityLbEndpoints[], distribute: NonNullable<LocalityLoadBalancerSetting['distribute']>): void {
  for (const rule of distribute) {
    if (!localityMatch(proxy, rule.from ?? '')) continue;
    const mismatched = new Set(eps.map((_, i) => i));
    // Keys in sorted order: validation forbids overlapping destinations, so the order cannot change the result.
    for (const [dest, weight] of Object.entries(rule.to ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const original = new Map<number, number>();
      let total = 0;
      eps.forEach((e, i) => {
        if (!mismatched.has(i) || !localityMatch(e.locality, dest)) return;
        mismatched.delete(i);
        const w = e.loadBalancingWeight ?? 1;
        original.set(i, w);
        total += w;
      });
      // A wildcard destination spanning several localities shares its weight in proportion to theirs.
      for (const [i, w] of original) {
        const share = (w * weight) / total;
        const e = eps[i];
        if (share > 0 && e !== undefined) e.loadBalancingWeight = Math.ceil(share);
      }
    }
    // Localities the rule does not name receive no traffic.
    for (const i of mismatched) {
      const e = eps[i];
      if (e !== undefined) e.lbEndpoints = [];
    }
    return;
  }
}

function applyLocalityFailover(proxy: Locality, eps: LocalityLbEndpoints[], failover: NonNullable<LocalityLoadBalancerSetting['failover']>): void {
  for (const e of eps) {
    let p = lbPriority(proxy, e.locality);
    if (p === 3) {
      const rule = failover.find((f) => (f.from ?? '') === proxy.region);
      if (rule !== undefined && (e.locality?.region ?? '') !== (rule.to ?? '')) p = 4;
    }
    // Five proximity levels per failoverPriority level already assigned.
    e.priority = e.priority * 5 + p;
  }
  compactPriorities(eps);
}

function parsePriorityLabels(priorities: readonly string[]): { names: string[]; overrides: Map<string, string> } {
  const names: string[] = [];
  const overrides = new Map<string, string>();
  for (const p of priorities) {
    const parts = p.split('=');
    const name = parts[0] ?? '';
    names.push(name);
    if (parts.length === 2) overrides.set(name, parts[1] ?? '');
  }
  return { names, overrides };
}

/** applyFailoverPriorityPerLocality: one LocalityLbEndpoints per distinct label-match priority. */
function splitByPriorityLabels(group: EndpointGroup, viewer: Labels, priorities: readonly string[], endpointLabels: (i: number) => Labels): LocalityLbEndpoints[] {
  const lowest = priorities.length;
  const includesNetwork = lowest > 0 && priorities[0] === LABEL_NETWORK;
  const { names, overrides } = parsePriorityLabels(priorities);
  const byPriority = new Map<number, number[]>();
  group.endpoints.forEach((_, i) => {
    const labels = endpointLabels(i);
    let priority = 0;
    let adjust = 0;
    for (let j = 0; j < names.length; j++) {
      const name = names[j] ?? '';
      const want = overrides.get(name) ?? viewer[name] ?? '';
      if (want === (labels[name] ?? '')) continue;
      // A different network only ranks below every same-network match; the other labels still count.
      if (j === 0 && includesNetwork) {
        adjust = lowest;
        continue;
      }
      priority = lowest - j;
      break;
    }
    const p = priority + adjust;
    byPriority.set(p, [...(byPriority.get(p) ?? []), i]);
  });
  return [...byPriority.keys()]
    .sort((a, b) => a - b)
    .map((priority) => {
      const lbEndpoints = (byPriority.get(priority) ?? []).flatMap((i) => {
        const e = group.lb.lbEndpoints[i];
        return e === undefined ? [] : [e];
      });
      return create(LocalityLbEndpointsSchema, {
        ...(group.lb.locality !== undefined ? { locality: group.lb.locality } : {}),
        lbEndpoints,
        priority,
        loadBalancingWeight: lbEndpoints.reduce((s, e) => s + (e.loadBalancingWeight ?? 0), 0),
      });
    });
}

/**
 * ApplyLocalityLoadBalancer. `groups` carry the registry endpoints behind each locality (for
 * failoverPriority) and `endpointLabels` gives an endpoint's topology-augmented labels.
 */
export function applyLocalityLoadBalancer(
  eps: LocalityLbEndpoints[],
  groups: readonly EndpointGroup[],
  viewer: LocalityViewer,
  setting: LocalityLoadBalancerSetting,
  enableFailover: boolean,
  endpointLabels: (group: EndpointGroup, index: number) => Labels,
): LocalityLbEndpoints[] {
  if ((setting.distribute ?? []).length > 0) {
    applyLocalityWeights(viewer.locality, eps, setting.distribute ?? []);
    return eps;
  }
  if (!enableFailover) return eps;
  const priorities = setting.failoverPriority ?? [];
  if (priorities.length === 0) {
    applyLocalityFailover(viewer.locality, eps, setting.failover ?? []);
    return eps;
  }
  let out = eps;
  if (Object.keys(viewer.labels).length > 0 && groups.length > 0) {
    out = groups.flatMap((g) => splitByPriorityLabels(g, viewer.labels, priorities, (i) => endpointLabels(g, i)));
    compactPriorities(out);
  }
  if ((setting.failover ?? []).length > 0) applyLocalityFailover(viewer.locality, out, setting.failover ?? []);
  return out;
}
