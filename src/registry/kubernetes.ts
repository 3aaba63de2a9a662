// Services, workloads and endpoints from Kubernetes resources in the config (Istio's kube controller,
// pilot/pkg/serviceregistry/kube/conversion.go and controller/endpointslice.go):
// - a Service is `<name>.<namespace>.svc.<domain suffix>`, MESH_INTERNAL, STATIC (EDS) with its cluster
//   IPs; headless Services have no address; ExternalName Services resolve by DNS to the external name;
//   visibility from the `networking.istio.io/exportTo` annotation.
// - endpoints come from the Service's EndpointSlices (label kubernetes.io/service-name) or its Endpoints
//   object when the config has them; otherwise from the workloads the selector matches (Pods, WorkloadEntries
//   and local workloads), as the Kubernetes endpoints controller would produce them.

import type { Endpoints } from '../api/core/endpoints.js';
import { endpointSliceServiceName, isEndpointReady, type EndpointSlice } from '../api/core/endpoint-slice.js';
import { isPodReady, podIPs, podServiceAccount, type Pod } from '../api/core/pod.js';
import { isHeadlessService, serviceClusterIPs, servicePortTargetPort, serviceType, type Service as K8sService } from '../api/core/service.js';
import { visibleNamespacesFromExportToAnnotation } from '../api/host.js';
import { localityFromLabels, selectorMatches, tlsModeFromLabels } from './labels.js';
import { inferPortProtocol } from './port-protocol.js';
import type { Endpoint, Service, ServicePort, Workload } from './types.js';

export function serviceFromKubernetes(svc: K8sService, domainSuffix: string): Service {
  const ns = svc.metadata.namespace ?? 'default';
  const external = serviceType(svc) === 'ExternalName';
  const ports: ServicePort[] = (svc.spec.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: inferPortProtocol(p.port, p.name ?? '', p.protocol, p.appProtocol),
    targetPort: servicePortTargetPort(p),
  }));
  const exportTo = visibleNamespacesFromExportToAnnotation(svc.metadata.annotations?.['networking.istio.io/exportTo'], ns)
    .filter((x) => x !== '~');
  const selector = svc.spec.selector;
  return Object.freeze({
    hostname: `${svc.metadata.name}.${ns}.svc.${domainSuffix}`,
    namespace: ns,
    name: svc.metadata.name,
    source: 'Kubernetes',
    ports,
    addresses: external || isHeadlessService(svc) ? [] : serviceClusterIPs(svc).filter((ip) => ip !== 'None'),
    resolution: external ? 'DNS' : isHeadlessService(svc) ? 'NONE' : 'STATIC',
    location: 'MESH_INTERNAL',
    exportTo,
    labels: svc.metadata.labels ?? {},
    ...(selector !== undefined && Object.keys(selector).length > 0 ? { selector } : {}),
    creationTimestamp: svc.metadata.creationTimestamp ?? '',
  });
}

/** A Pod as a workload; pods without an IP cannot serve and are skipped (undefined). */
export function workloadFromPod(pod: Pod): Workload | undefined {
  const ip = podIPs(pod)[0];
  if (ip === undefined) return undefined;
  const labels = pod.metadata.labels ?? {};
  const ports: Record<string, number> = {};
  for (const c of pod.spec.containers ?? []) for (const p of c.ports ?? []) if (p.name !== undefined) ports[p.name] = p.containerPort;
  return Object.freeze({
    kind: 'Pod',
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? 'default',
    labels,
    serviceAccount: podServiceAccount(pod.spec),
    address: ip,
    ports,
    locality: localityFromLabels(labels),
    network: labels['topology.istio.io/network'] ?? '',
    weight: 1,
    health: pod.status?.phase === 'Running' && !isPodReady(pod) ? 'UNHEALTHY' : 'HEALTHY',
    tlsMode: tlsModeFromLabels(labels, 'disabled'),
  });
}

/** The workload port a Service port targets: a number, or a named port of the workload; undefined if it has no such name. */
export function resolveTargetPort(port: ServicePort, w: Workload): number | undefined {
  const t = port.targetPort ?? port.port;
  return typeof t === 'number' ? t : w.ports[t];
}

export function endpointFromWorkload(svc: Service, port: ServicePort, w: Workload, targetPort: number): Endpoint {
  return Object.freeze({
    hostname: svc.hostname,
    servicePort: port.port,
    servicePortName: port.name,
    address: w.address,
    port: targetPort,
    labels: w.labels,
    namespace: w.namespace,
    serviceAccount: w.serviceAccount,
    workloadName: w.name,
    locality: w.locality,
    network: w.network,
    weight: w.weight,
    health: w.health,
    tlsMode: w.tlsMode,
  });
}

/** Endpoints of a Service from the workloads its selector matches in its namespace. */
export function endpointsFromSelector(svc: Service, workloads: readonly Workload[]): Endpoint[] {
  if (svc.selector === undefined) return [];
  const out: Endpoint[] = [];
  for (const w of workloads) {
    if (w.namespace !== svc.namespace || !selectorMatches(svc.selector, w.labels)) continue;
    for (const port of svc.ports) {
      const target = resolveTargetPort(port, w);
      if (target !== undefined) out.push(endpointFromWorkload(svc, port, w, target));
    }
  }
  return out;
}

/** A workload for an address listed in an Endpoints/EndpointSlice object: the Pod/workload with that IP, else a bare one. */
function workloadForAddress(ip: string, namespace: string, byIp: ReadonlyMap<string, Workload>, ready: boolean): Workload {
  const w = byIp.get(ip);
  const base: Workload = w ?? {
    kind: 'Pod',
    name: ip,
    namespace,
    labels: {},
    serviceAccount: 'default',
    address: ip,
    ports: {},
    locality: { region: '', zone: '', subZone: '' },
    network: '',
    weight: 1,
    health: 'HEALTHY',
    tlsMode: 'disabled',
  };
  return ready ? base : { ...base, health: 'UNHEALTHY' };
}

export function endpointsFromSlices(svc: Service, slices: readonly EndpointSlice[], byIp: ReadonlyMap<string, Workload>): Endpoint[] {
  const out: Endpoint[] = [];
  for (const slice of slices) {
    if (endpointSliceServiceName(slice) !== svc.name || (slice.metadata.namespace ?? 'default') !== svc.namespace) continue;
    for (const e of slice.endpoints ?? []) {
      const ready = isEndpointReady(e);
      for (const ip of e.addresses) {
        const w = workloadForAddress(ip, svc.namespace, byIp, ready);
        for (const sp of slice.ports ?? []) {
          const port = svc.ports.find((p) => p.name === (sp.name ?? ''));
          if (port !== undefined && sp.port !== undefined) out.push(endpointFromWorkload(svc, port, w, sp.port));
        }
      }
    }
  }
  return out;
}

export function endpointsFromEndpoints(svc: Service, eps: Endpoints, byIp: ReadonlyMap<string, Workload>): Endpoint[] {
  const out: Endpoint[] = [];
  for (const subset of eps.subsets ?? []) {
    const addrs = [...(subset.addresses ?? []).map((a) => [a, true] as const), ...(subset.notReadyAddresses ?? []).map((a) => [a, false] as const)];
    for (const [a, ready] of addrs) {
      const w = workloadForAddress(a.ip, svc.namespace, byIp, ready);
      for (const ep of subset.ports ?? []) {
        const port = svc.ports.find((p) => p.name === (ep.name ?? ''));
        if (port !== undefined) out.push(endpointFromWorkload(svc, port, w, ep.port));
      }
    }
  }
  return out;
}
