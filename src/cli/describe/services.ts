// The Services a workload belongs to (Kubernetes Services in its namespace whose selector its labels
// satisfy, as istioctl's describe and the endpoints controller pick them) and their ports: the protocol
// Istio infers (src/registry/port-protocol.ts) and the pod port each targets. UDP ports are left out, as
// istioctl does: Istio does not carry UDP.

import { isKind } from '../../api/kind.js';
import { SERVICE, type Service as K8sService } from '../../api/core/service.js';
import { serviceFromKubernetes } from '../../registry/kubernetes.js';
import { selectorMatches } from '../../registry/labels.js';
import type { Service } from '../../registry/types.js';
import type { ConfigInput, ObjectRef, ServicePortSummary, WorkloadInfo } from './types.js';

export interface SelectedService {
  readonly ref: ObjectRef;
  readonly service: Service;
  readonly resource: K8sService;
}

/** The Services whose selector matches the workload, sorted by name. */
export function servicesSelecting(w: WorkloadInfo, config: readonly ConfigInput[], domainSuffix: string): SelectedService[] {
  const out: SelectedService[] = [];
  for (const c of config) {
    if (!isKind(c.resource, SERVICE)) continue;
    const svc = c.resource;
    const ns = svc.metadata.namespace ?? 'default';
    const selector = svc.spec.selector;
    if (ns !== w.namespace || selector === undefined || Object.keys(selector).length === 0 || !selectorMatches(selector, w.labels)) continue;
    out.push({
      ref: { name: svc.metadata.name, namespace: ns, ...(c.origin !== undefined ? { origin: c.origin } : {}) },
      service: serviceFromKubernetes(svc, domainSuffix),
      resource: svc,
    });
  }
  return out.sort((a, b) => (a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0));
}

/** The service's TCP ports and the pod port each reaches (istioctl printService). */
export function servicePorts(s: SelectedService, w: WorkloadInfo): ServicePortSummary[] {
  const out: ServicePortSummary[] = [];
  (s.resource.spec.ports ?? []).forEach((raw, i) => {
    if (raw.protocol !== undefined && raw.protocol !== 'TCP') return;
    const p = s.service.ports[i];
    if (p === undefined) return;
    const protocol = p.protocol ?? 'auto-detect';
    const target = p.targetPort ?? p.port;
    const pod = typeof target === 'number' ? target : w.ports[target];
    out.push({
      name: p.name,
      port: p.port,
      protocol,
      ...(pod !== undefined ? { targetPort: pod } : { problem: `targets the pod port named "${String(target)}", which the pod does not have` }),
    });
  });
  return out;
}
