// Services and endpoints from ServiceEntry and WorkloadEntry (Istio's
// pilot/pkg/serviceregistry/serviceentry/conversion.go): one service per host; endpoints from the inline
// `endpoints`, or the WorkloadEntries / Pods / local workloads `workloadSelector` picks in the
// ServiceEntry's namespace; a DNS ServiceEntry without endpoints resolves each (non-wildcard) host itself.
// Endpoint ports: the workload's port of the same name, else targetPort, else the service port.

import type { ServiceEntry } from '../api/networking/service-entry.js';
import type { WorkloadEntry, WorkloadEntrySpec } from '../api/networking/workload-entry.js';
import { parseProtocol } from '../api/networking/protocol.js';
import { EXPORT_TO_ALL, EXPORT_TO_LOCAL } from '../api/host.js';
import { endpointFromWorkload } from './kubernetes.js';
import { parseLocality, selectorMatches, tlsModeFromLabels } from './labels.js';
import { inferPortProtocol } from './port-protocol.js';
import type { Endpoint, Resolution, Service, ServicePort, Workload } from './types.js';

export function resolutionOf(r: string | undefined): Resolution {
  switch (r) {
    case 'STATIC':
      return 'STATIC';
    case 'DNS':
    case 'DYNAMIC_DNS':
      return 'DNS';
    case 'DNS_ROUND_ROBIN':
      return 'DNS_ROUND_ROBIN';
    default:
      return 'NONE';
  }
}

export function exportToOf(exportTo: readonly string[] | undefined, namespace: string): string[] {
  if (exportTo === undefined || exportTo.length === 0) return [EXPORT_TO_ALL];
  if (exportTo.includes(EXPORT_TO_ALL)) return [EXPORT_TO_ALL];
  return [...new Set(exportTo.filter((x) => x !== '~').map((x) => (x === EXPORT_TO_LOCAL ? namespace : x)))].sort();
}

export function servicesFromServiceEntry(se: ServiceEntry): Service[] {
  const ns = se.metadata.namespace ?? 'default';
  const spec = se.spec;
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name,
    port: p.number,
    protocol: p.protocol !== undefined && p.protocol !== '' ? parseProtocol(p.protocol) : inferPortProtocol(p.number, p.name, undefined, undefined),
    ...(p.targetPort !== undefined && p.targetPort !== 0 ? { targetPort: p.targetPort } : {}),
  }));
  const selector = spec.workloadSelector?.labels;
  return (spec.hosts ?? []).map((hostname) =>
    Object.freeze({
      hostname,
      namespace: ns,
      name: se.metadata.name,
      source: 'ServiceEntry' as const,
      ports,
      addresses: spec.addresses ?? [],
      resolution: resolutionOf(spec.resolution),
      location: spec.location ?? 'MESH_EXTERNAL',
      exportTo: exportToOf(spec.exportTo, ns),
      labels: se.metadata.labels ?? {},
      ...(selector !== undefined ? { selector } : {}),
      creationTimestamp: se.metadata.creationTimestamp ?? '',
    }),
  );
}

function workloadFromSpec(spec: WorkloadEntrySpec, name: string, namespace: string): Workload {
  const labels = spec.labels ?? {};
  return Object.freeze({
    kind: 'WorkloadEntry',
    name,
    namespace,
    labels,
    serviceAccount: spec.serviceAccount ?? 'default',
    address: spec.address ?? '',
    ports: spec.ports ?? {},
    locality: parseLocality(spec.locality),
    network: spec.network ?? '',
    weight: spec.weight !== undefined && spec.weight > 0 ? spec.weight : 1,
    health: 'HEALTHY',
    tlsMode: tlsModeFromLabels(labels, 'disabled'),
  });
}

export function workloadFromWorkloadEntry(we: WorkloadEntry): Workload {
  const labels = { ...(we.metadata.labels ?? {}), ...(we.spec.labels ?? {}) };
  return workloadFromSpec({ ...we.spec, labels }, we.metadata.name, we.metadata.namespace ?? 'default');
}

function portFor(port: ServicePort, w: Workload): number {
  return w.ports[port.name] ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
}

export function endpointsFromServiceEntry(se: ServiceEntry, svc: Service, workloads: readonly Workload[]): Endpoint[] {
  const out: Endpoint[] = [];
  const inline = se.spec.endpoints ?? [];
  if (inline.length > 0) {
    inline.forEach((spec, i) => {
      const w = workloadFromSpec(spec, `${se.metadata.name}-${i}`, svc.namespace);
      for (const port of svc.ports) {
        // An endpoint that lists ports but not this one's name still serves it on the target port (Istio).
        out.push(endpointFromWorkload(svc, port, w, portFor(port, w)));
      }
    });
    return out;
  }
  if (svc.selector !== undefined) {
    for (const w of workloads) {
      if (w.namespace !== svc.namespace || !selectorMatches(svc.selector, w.labels)) continue;
      for (const port of svc.ports) out.push(endpointFromWorkload(svc, port, w, portFor(port, w)));
    }
    return out;
  }
  if ((svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') && !svc.hostname.startsWith('*')) {
    const w = workloadFromSpec({ address: svc.hostname }, svc.hostname, svc.namespace);
    for (const port of svc.ports) out.push(endpointFromWorkload(svc, port, w, portFor(port, w)));
  }
  return out;
}
