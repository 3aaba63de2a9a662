// WorkloadGroup auto-registration (Istio's pilot/pkg/autoregistration/controller.go): a proxy that
// connects with node metadata AUTO_REGISTER_GROUP=<group> becomes a workload of that WorkloadGroup in its
// namespace while it is connected: named `<group>-<ip>` (dots and colons as dashes), with the group's
// template (service account, ports, network, weight, locality) and labels (template, then the group's
// metadata labels, then the proxy's own), at the proxy's address.

import type { WorkloadGroup } from '../api/networking/workload-group.js';
import { parseLocality } from './labels.js';
import type { LocalWorkloadSpec } from './local-workloads.js';
import type { Labels, Locality } from './types.js';

export interface ConnectingProxy {
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Labels;
  readonly locality: Locality;
}

/** Istio's autoregisteredWorkloadEntryName. */
export function autoRegisteredName(group: string, ip: string): string {
  return `${group}-${ip}`.replaceAll('.', '-').replaceAll(':', '-');
}

export function autoRegisteredWorkload(group: WorkloadGroup, proxy: ConnectingProxy): LocalWorkloadSpec {
  const t = group.spec.template;
  const hasLocality = proxy.locality.region !== '' || proxy.locality.zone !== '' || proxy.locality.subZone !== '';
  return {
    name: autoRegisteredName(group.metadata.name, proxy.ip),
    namespace: proxy.namespace,
    address: proxy.ip,
    labels: { ...(t.labels ?? {}), ...(group.spec.metadata?.labels ?? {}), ...proxy.labels },
    serviceAccount: t.serviceAccount ?? 'default',
    ...(t.ports !== undefined ? { ports: t.ports } : {}),
    locality: hasLocality ? proxy.locality : parseLocality(t.locality),
    ...(t.network !== undefined ? { network: t.network } : {}),
    ...(t.weight !== undefined && t.weight > 0 ? { weight: t.weight } : {}),
  };
}
