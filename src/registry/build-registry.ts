// The registry snapshot: every service and endpoint the config and the local workloads define, computed
// in one pass and frozen. Pure: the same entries and workloads give the same snapshot.
// Structural sharing: a rebuild reuses the Service and Workload derived from a resource object it has seen
// (the config store keeps an unchanged resource the same object; each is a pure function of it), and a
// service's Endpoint objects and list when their content is unchanged, so identity-keyed caches and the
// reads recorded against the previous snapshot (model/snapshot-reads.ts) hold for what did not change.

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

/** Kubernetes Service / ServiceEntry / Pod / WorkloadEntry object -> what it was turned into (by domain suffix where it matters). */
const derived = new WeakMap<object, { readonly suffix: string; readonly value: unknown }>();

function fromResource<T>(resource: object, suffix: string, build: () => T): T {
  const hit = derived.get(resource);
  if (hit !== undefined && hit.suffix === suffix) return hit.value as T;
  const value = build();
  derived.set(resource, { suffix, value });
  return value;
}

/** The endpoints last built for a service (keyed by the Service object), with each one's content. */
const lastEndpoints = new WeakMap<Service, { readonly list: readonly Endpoint[]; readonly content: readonly string[] }>();

/** `list` with endpoints equal to last time's replaced by last time's objects; last time's list itself when nothing changed. */
function shareEndpoints(owner: Service, list: readonly Endpoint[]): readonly Endpoint[] {
  const content = list.map((e) => JSON.stringify(e));
  const last = lastEndpoints.get(owner);
  let out: readonly Endpoint[];
  if (last !== undefined && last.content.length === content.length && last.content.every((c, i) => c === content[i])) out = last.list;
  else {
    const before = new Map<string, Endpoint>();
    last?.content.forEach((c, i) => before.set(c, last.list[i] as Endpoint));
    out = Object.freeze(list.map((e, i) => before.get(content[i] as string) ?? e));
  }
  lastEndpoints.set(owner, { list: out, content });
  return out;
}

export function buildRegistry(entries: readonly ResourceEntry[], local: readonly Workload[], domainSuffix = 'cluster.local'): RegistrySnapshot {
  const services: Service[] = [];
  const workloads: Workload[] = [];
  const slices: EndpointSlice[] = [];
  const endpointsObjects = new Map<string, Endpoints>();
  const serviceEntries: [ServiceEntry, Service[]][] = [];
  for (const e of entries) {
    const r = e.resource;
    if (isKind(r, SERVICE)) services.push(fromResource(r, domainSuffix, () => serviceFromKubernetes(r, domainSuffix)));
    else if (isKind(r, POD)) {
      const w = fromResource(r, '', () => workloadFromPod(r));
      if (w !== undefined) workloads.push(w);
    } else if (isKind(r, WORKLOAD_ENTRY)) {
      if (r.spec.address !== undefined && r.spec.address !== '' && !r.spec.address.startsWith('unix://')) workloads.push(fromResource(r, '', () => workloadFromWorkloadEntry(r)));
    } else if (isKind(r, ENDPOINT_SLICE)) slices.push(r);
    else if (isKind(r, ENDPOINTS)) endpointsObjects.set(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`, r);
    else if (isKind(r, SERVICE_ENTRY)) {
      const s = fromResource(r, '', () => servicesFromServiceEntry(r));
      serviceEntries.push([r, s]);
      services.push(...s);
    }
  }
  workloads.push(...local);
  workloads.sort((a, b) => cmp(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  const byIp = new Map<string, Workload>();
  for (const w of workloads) if (!byIp.has(w.address)) byIp.set(w.address, w);

  // A selector only picks workloads of the service's namespace: look at those alone (same order).
  const byNamespace = new Map<string, Workload[]>();
  for (const w of workloads) {
    const list = byNamespace.get(w.namespace);
    if (list === undefined) byNamespace.set(w.namespace, [w]);
    else list.push(w);
  }

  const endpoints = new Map<string, Endpoint[]>();
  const owners = new Map<string, Service>();
  const add = (svc: Service, eps: Endpoint[]): void => {
    const key = serviceKey(svc.hostname, svc.namespace);
    if (!owners.has(key)) owners.set(key, svc);
    endpoints.set(key, [...(endpoints.get(key) ?? []), ...eps]);
  };
  for (const svc of services) {
    if (svc.source !== 'Kubernetes') continue;
    const ownSlices = slices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc.name && (s.metadata.namespace ?? 'default') === svc.namespace);
    const eps = endpointsObjects.get(`${svc.namespace}/${svc.name}`);
    if (ownSlices.length > 0) add(svc, endpointsFromSlices(svc, ownSlices, byIp));
    else if (eps !== undefined) add(svc, endpointsFromEndpoints(svc, eps, byIp));
    else add(svc, endpointsFromSelector(svc, byNamespace.get(svc.namespace) ?? []));
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
    const owner = owners.get(k);
    endpoints.set(k, (owner !== undefined ? shareEndpoints(owner, unique) : Object.freeze(unique)) as Endpoint[]);
  }
  services.sort((a, b) => cmp(a.hostname, b.hostname) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  return Object.freeze({ services: Object.freeze(services), workloads: Object.freeze(workloads), endpoints });
}
