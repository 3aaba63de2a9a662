// Label selection as Kubernetes Services and Istio workload selectors use it: every selector label must
// be present with the same value; an empty selector selects nothing where Kubernetes says so (a Service
// without a selector has no managed endpoints), which callers decide by passing undefined.

import type { Labels, Locality } from './types.js';
import { NO_LOCALITY } from './types.js';

export function selectorMatches(selector: Labels, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** `region/zone/subzone` (WorkloadEntry.locality, ServiceEntry endpoints); missing parts are empty. */
export function parseLocality(s: string | undefined): Locality {
  if (s === undefined || s === '') return NO_LOCALITY;
  const [region = '', zone = '', subZone = ''] = s.split('/');
  return { region, zone, subZone };
}

/** Locality from the topology labels a workload carries (topology.kubernetes.io/*, topology.istio.io/subzone, istio-locality). */
export function localityFromLabels(labels: Labels): Locality {
  const istio = labels['istio-locality'];
  if (istio !== undefined) return parseLocality(istio.replaceAll('.', '/'));
  return {
    region: labels['topology.kubernetes.io/region'] ?? '',
    zone: labels['topology.kubernetes.io/zone'] ?? '',
    subZone: labels['topology.istio.io/subzone'] ?? '',
  };
}

/** Istio marks workloads that run a sidecar with `security.istio.io/tlsMode: istio`. */
export function tlsModeFromLabels(labels: Labels, fallback: 'istio' | 'disabled'): 'istio' | 'disabled' {
  const v = labels['security.istio.io/tlsMode'];
  return v === 'istio' ? 'istio' : v === 'disabled' ? 'disabled' : fallback;
}
