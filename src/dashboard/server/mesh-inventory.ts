// The services and workloads the dashboard lists, from what the control plane holds now:
//  - services are the registry's (Kubernetes Services and ServiceEntries), one per namespace and name:
//    a ServiceEntry's hosts are one service, as Kiali shows it;
//  - workloads are listed by what runs them, not by pod, as Kiali lists them: a Deployment of the
//    config; the WORKLOAD_NAME a connected proxy reports (the `destination_workload` of Istio's
//    metrics); or a registry instance (WorkloadEntry, registered workload, Pod) that belongs to neither.
//    An instance belongs to the workload of the proxy at its address, else to the Deployment whose
//    selector its labels satisfy.
// A service's workloads are those of its namespace that its selector picks.

import { DEPLOYMENT, deploymentPodLabels } from '../../api/core/deployment.js';
import type { ResourceEntry } from '../../api/entry.js';
import { isKind } from '../../api/kind.js';
import type { Proxy } from '../../model/proxy.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import { selectorMatches } from '../../registry/labels.js';
import type { Labels, Service, ServicePort, Workload } from '../../registry/types.js';
import type { WorkloadKindName } from '../shared/api-types.js';

export interface InventoryService {
  readonly namespace: string;
  readonly name: string;
  readonly source: Service['source'];
  readonly hosts: readonly string[];
  readonly labels: Labels;
  /** Undefined when it has none (or an empty one): it picks no workload. */
  readonly selector?: Labels;
  readonly ports: readonly ServicePort[];
}

export interface InventoryWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly kind: WorkloadKindName;
  readonly labels: Labels;
  readonly instances: readonly Workload[];
  /** Its connected proxies, one per proxy id (a proxy with several streams is listed once). */
  readonly proxies: readonly Proxy[];
}

export interface MeshInventory {
  /** Sorted by namespace, then name. */
  readonly services: readonly InventoryService[];
  readonly workloads: readonly InventoryWorkload[];
  service(namespace: string, name: string): InventoryService | undefined;
  workload(namespace: string, name: string): InventoryWorkload | undefined;
  /** The workloads the service's selector picks. */
  workloadsOf(s: InventoryService): InventoryWorkload[];
  /** The services whose selector picks the workload. */
  servicesOf(w: InventoryWorkload): InventoryService[];
}

const NAME_LABELS = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'];
const REVISION_LABELS = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'];

/** The app and version Istio's telemetry reads from a workload's labels (pkg/kube/labels canonical name and revision). */
export function appAndVersion(labels: Labels): { app?: string; version?: string } {
  const app = NAME_LABELS.map((l) => labels[l]).find((v) => v !== undefined && v !== '');
  const version = REVISION_LABELS.map((l) => labels[l]).find((v) => v !== undefined && v !== '');
  return { ...(app !== undefined ? { app } : {}), ...(version !== undefined ? { version } : {}) };
}

interface WorkloadAcc {
  namespace: string;
  name: string;
  kind: WorkloadKindName;
  labels: Labels;
  /** A Deployment's selector: the instances it owns. */
  selector?: Labels;
  instances: Workload[];
  proxies: Proxy[];
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;
const byName = <T extends { namespace: string; name: string }>(a: T, b: T): number => (a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const nonEmpty = (l: Labels | undefined): Labels | undefined => (l !== undefined && Object.keys(l).length > 0 ? l : undefined);

const INSTANCE_KIND: Readonly<Record<Workload['kind'], WorkloadKindName>> = { Pod: 'Pod', WorkloadEntry: 'WorkloadEntry', Local: 'Workload' };

function servicesOfSnapshot(services: readonly Service[]): InventoryService[] {
  const out = new Map<string, InventoryService>();
  for (const s of services) {
    if (s.name === '' || s.namespace === '') continue;
    const k = key(s.namespace, s.name);
    const have = out.get(k);
    if (have !== undefined) {
      if (!have.hosts.includes(s.hostname)) out.set(k, { ...have, hosts: [...have.hosts, s.hostname].sort() });
      continue;
    }
    const selector = nonEmpty(s.selector);
    out.set(k, { namespace: s.namespace, name: s.name, source: s.source, hosts: [s.hostname], labels: s.labels, ...(selector !== undefined ? { selector } : {}), ports: s.ports });
  }
  return [...out.values()].sort(byName);
}

function workloadsOf(entries: readonly ResourceEntry[], instances: readonly Workload[], proxies: readonly Proxy[]): InventoryWorkload[] {
  const all = new Map<string, WorkloadAcc>();
  for (const e of entries) {
    if (!isKind(e.resource, DEPLOYMENT)) continue;
    const d = e.resource;
    const namespace = d.metadata.namespace ?? 'default';
    const labels = deploymentPodLabels(d);
    const selector = nonEmpty(d.spec.selector?.matchLabels) ?? nonEmpty(labels);
    all.set(key(namespace, d.metadata.name), { namespace, name: d.metadata.name, kind: 'Deployment', labels, ...(selector !== undefined ? { selector } : {}), instances: [], proxies: [] });
  }
  const seen = new Set<string>();
  for (const p of proxies) {
    if (seen.has(p.workloadId)) continue;
    seen.add(p.workloadId);
    const k = key(p.namespace, p.workloadName);
    let w = all.get(k);
    if (w === undefined) all.set(k, (w = { namespace: p.namespace, name: p.workloadName, kind: 'Proxy', labels: p.labels, instances: [], proxies: [] }));
    w.proxies.push(p);
  }
  const list = [...all.values()];
  for (const i of instances) {
    const owner =
      list.find((w) => w.namespace === i.namespace && w.proxies.some((p) => p.ipAddresses.includes(i.address))) ??
      list.find((w) => w.namespace === i.namespace && w.selector !== undefined && selectorMatches(w.selector, i.labels)) ??
      all.get(key(i.namespace, i.name));
    if (owner !== undefined) {
      owner.instances.push(i);
      if (owner.kind === 'Proxy') owner.kind = INSTANCE_KIND[i.kind];
      continue;
    }
    const w: WorkloadAcc = { namespace: i.namespace, name: i.name, kind: INSTANCE_KIND[i.kind], labels: i.labels, instances: [i], proxies: [] };
    all.set(key(i.namespace, i.name), w);
    list.push(w);
  }
  return list
    .map((w): InventoryWorkload => ({ namespace: w.namespace, name: w.name, kind: w.kind, labels: w.labels, instances: w.instances, proxies: w.proxies }))
    .sort(byName);
}

export function buildInventory(snapshot: MeshSnapshot | undefined, entries: readonly ResourceEntry[], proxies: readonly Proxy[]): MeshInventory {
  const services = servicesOfSnapshot(snapshot?.services ?? []);
  const workloads = workloadsOf(entries, snapshot?.workloads ?? [], proxies);
  const picks = (s: InventoryService, w: InventoryWorkload): boolean => s.selector !== undefined && s.namespace === w.namespace && selectorMatches(s.selector, w.labels);
  return {
    services,
    workloads,
    service: (namespace, name) => services.find((s) => s.namespace === namespace && s.name === name),
    workload: (namespace, name) => workloads.find((w) => w.namespace === namespace && w.name === name),
    workloadsOf: (s) => workloads.filter((w) => picks(s, w)),
    servicesOf: (w) => services.filter((s) => picks(s, w)),
  };
}
