// The registry snapshot: every service and endpoint the config and the local workloads define, computed
// in one pass and frozen. Pure: the same entries and workloads give the same snapshot.

import type { ResourceEntry } from '../api/entry.js';
import { isKind } from '../api/kind.js';
import { SERVICE } from '../api/core/service.js';
import { POD } from '../api/core/pod.js';
import { ENDPOINTS, type Endpoints } from '../api/core/endpoints.js';
import { ENDPOINT_SLICE, type EndpointSlice } from '../api/core/endpoint-slice.js';
import { SERVICE_ENTRY, type ServiceEntry } from '../api/networking/service-entry.js';
import { WORKLOAD_ENTRY } from '../api/networking/workload-entry.js';
import { endpointsFromEndpoints, endpointsFromSelector, endpointsFromSlices, serviceFromKubernetes, workloadFromPod } from './kubernetes.js';
import { endpointsFromServiceEntry, servicesFromServiceEntry, workloadFromWorkloadEntry } from './service-entry.js';
import type { Endpoint, Service, Workload } from './types.js';

export interface RegistrySnapshot {
  /** Sorted by hostname, then namespace. */
  readonly services: readonly Service[];
  /** Sorted by namespace/name. */
  readonly workloads: readonly Workload[];
  /** Endpoints per `hostname|namespace` of a service, sorted by address then port. */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
}

export function serviceKey(hostname: string, namespace: string): string {
  return `${hostname}|${namespace}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function buildRegistry(entries: readonly ResourceEntry[], local: readonly Workload[], domainSuffix = 'cluster.local'): RegistrySnapshot {
  const services: Service[] = [];
  const workloads: Workload[] = [];
  const slices: EndpointSlice[] = [];
  const endpointsObjects = new Map<string, Endpoints>();
  const serviceEntries: [ServiceEntry, Service[]][] = [];
  for (const e of entries) {
    const r = e.resource;
    if (isKind(r, SERVICE)) services.push(serviceFromKubernetes(r, domainSuffix));
    else if (isKind(r, POD)) {
      const w = workloadFromPod(r);
      if (w !== undefined) workloads.push(w);
    } else if (isKind(r, WORKLOAD_ENTRY)) {
      if (r.spec.address !== undefined && r.spec.address !== '' && !r.spec.address.startsWith('unix://')) workloads.push(workloadFromWorkloadEntry(r));
    } else if (isKind(r, ENDPOINT_SLICE)) slices.push(r);
    else if (isKind(r, ENDPOINTS)) endpointsObjects.set(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`, r);
    else if (isKind(r, SERVICE_ENTRY)) {
      const s = servicesFromServiceEntry(r);
      serviceEntries.push([r, s]);
      services.push(...s);
    }
  }
  workloads.push(...local);
  workloads.sort((a, b) => cmp(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  const byIp = new Map<string, Workload>();
  for (const w of workloads) if (!byIp.has(w.address)) byIp.set(w.address, w);

  const endpoints = new Map<string, Endpoint[]>();
  const add = (svc: Service, eps: Endpoint[]): void => {
    const key = serviceKey(svc.hostname, svc.namespace);
    endpoints.set(key, [...(endpoints.get(key) ?? []), ...eps]);
  };
  for (const svc of services) {
    if (svc.source !== 'Kubernetes') continue;
    const ownSlices = slices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc.name && (s.metadata.namespace ?? 'default') === svc.namespace);
    const eps = endpointsObjects.get(`${svc.namespace}/${svc.name}`);
    if (ownSlices.length > 0) add(svc, endpointsFromSlices(svc, ownSlices, byIp));
    else if (eps !== undefined) add(svc, endpointsFromEndpoints(svc, eps, byIp));
    else add(svc, endpointsFromSelector(svc, workloads));
  }
  for (const [se, svcs] of serviceEntries) for (const svc of svcs) add(svc, endpointsFromServiceEntry(se, svc, workloads));
  for (const [k, list] of endpoints) {
    const seen = new Set<string>();
    const unique = list.filter((e) => {
      const id = `${e.servicePort}/${e.address}:${e.port}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    unique.sort((a, b) => cmp(a.address, b.address) || a.port - b.port || a.servicePort - b.servicePort);
    endpoints.set(k, Object.freeze(unique) as Endpoint[]);
  }
  services.sort((a, b) => cmp(a.hostname, b.hostname) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  return Object.freeze({ services: Object.freeze(services), workloads: Object.freeze(workloads), endpoints });
}
