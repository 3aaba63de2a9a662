// Helpers shared by analyzers: host names and their resolution to services (Istio's analyzers/util
// hosts.go, service_lookup.go, exportto.go; pkg/config/host/name.go), label selectors as Kubernetes prints
// them, and the workloads (Pods and the pod templates of Deployments and other controllers) that
// selectors are matched against.

import type { ResourceEntry } from '../api/entry.js';
import { groupOf } from '../api/resource.js';
import { SERVICE } from '../api/core/service.js';
import { SERVICE_ENTRY, type ServiceEntrySpec } from '../api/networking/service-entry.js';
import type { AnalysisContext } from './framework.js';
import { convertHostToFqdn, EXPORT_TO_ALL, EXPORT_TO_LOCAL, visibleNamespacesFromExportToAnnotation } from '../api/host.js';

// ---- services by host ------------------------------------------------------------------------------

export interface ServicePortInfo {
  readonly number: number;
  readonly name: string;
  readonly protocol: string;
}

/** A service as analyzers see it: a ServiceEntry, or a Kubernetes Service converted to one. */
export interface ServiceInfo {
  readonly hosts: readonly string[];
  readonly ports: readonly ServicePortInfo[];
  /** ServiceEntry workloadSelector labels (none for Kubernetes Services, as in Istio's conversion). */
  readonly workloadLabels?: Readonly<Record<string, string>>;
  readonly entry: ResourceEntry;
}

/** Scoped hosts (`<scope>/<fqdn>`) to services: Istio's InitServiceEntryHostMap. */
export class ServiceHostMap {
  private readonly map = new Map<string, ServiceInfo>();

  constructor(ctx: AnalysisContext) {
    for (const e of ctx.list(SERVICE_ENTRY)) {
      const spec: ServiceEntrySpec = e.resource.spec;
      const ns = e.resource.metadata.namespace ?? '';
      const info: ServiceInfo = {
        hosts: spec.hosts ?? [],
        ports: (spec.ports ?? []).map((p) => ({ number: p.number, name: p.name, protocol: p.protocol ?? '' })),
        ...(spec.workloadSelector?.labels !== undefined ? { workloadLabels: spec.workloadSelector.labels } : {}),
        entry: e,
      };
      const exportTo = spec.exportTo ?? [];
      for (const h of spec.hosts ?? []) {
        if (exportTo.length === 0) {
          this.set(EXPORT_TO_ALL, ns, h, info);
          continue;
        }
        for (const x of exportTo) {
          if (x === EXPORT_TO_ALL) {
            this.set(EXPORT_TO_ALL, ns, h, info);
            break;
          }
          this.set(x === EXPORT_TO_LOCAL ? ns : x, ns, h, info);
        }
      }
    }
    for (const e of ctx.list(SERVICE)) {
      const ns = e.resource.metadata.namespace ?? '';
      const name = e.resource.metadata.name;
      const info: ServiceInfo = {
        hosts: [convertHostToFqdn(ns, name)],
        ports: (e.resource.spec.ports ?? []).map((p) => ({ number: p.port, name: p.name ?? '', protocol: p.protocol ?? '' })),
        entry: e,
      };
      for (const scope of visibleNamespacesFromExportToAnnotation(e.resource.metadata.annotations?.['networking.istio.io/exportTo'], ns)) {
        this.set(scope, ns, name, info);
      }
    }
  }

  private set(scope: string, namespace: string, host: string, info: ServiceInfo): void {
    this.map.set(`${scope}/${convertHostToFqdn(namespace, host)}`, info);
  }

  /**
   * The service `host` (as written in a resource in `sourceNamespace` exported to `exportTo`) resolves to,
   * or undefined (util.GetDestinationHost): exact hosts visible to all namespaces, then to the source's
   * export scopes, then wildcard hosts visible to all or to the source namespace.
   */
  lookup(sourceNamespace: string, exportTo: readonly string[] | undefined, host: string): ServiceInfo | undefined {
    const fqdn = convertHostToFqdn(sourceNamespace, host);
    const all = this.map.get(`${EXPORT_TO_ALL}/${fqdn}`);
    if (all !== undefined) return all;
    const scopes = exportTo === undefined || exportTo.length === 0 ? [sourceNamespace] : exportTo.map((x) => (x === EXPORT_TO_LOCAL ? sourceNamespace : x));
    for (const s of scopes) {
      const hit = this.map.get(`${s}/${fqdn}`);
      if (hit !== undefined) return hit;
    }
    for (const [key, info] of this.map) {
      const slash = key.indexOf('/');
      const scope = key.slice(0, slash);
      const seHost = key.slice(slash + 1);
      if (!seHost.startsWith('*')) continue;
      if (scope !== EXPORT_TO_ALL && scope !== sourceNamespace) continue;
      if (fqdn.replace(/^\*/, '').endsWith(seHost.slice(1))) return info;
    }
    return undefined;
  }
}

// ---- selectors ------------------------------------------------------------------------------------

/** labels.SelectorFromSet(set).String(): `k1=v1,k2=v2` with keys sorted. */
export function selectorString(set: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(set ?? {})
    .sort()
    .map((k) => `${k}=${set?.[k] ?? ''}`)
    .join(',');
}

/** An equality selector matches when every key has the value (an empty selector matches everything). */
export function selectorMatches(set: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(set ?? {}).every(([k, v]) => labels[k] === v);
}

// ---- workloads ------------------------------------------------------------------------------------

export interface Workload {
  /** `Pod`, or the controller kind whose pod template this is (`Deployment`...). */
  readonly kind: string;
  readonly namespace: string;
  /** The Pod's name, or the controller's name for pod templates. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly entry: ResourceEntry;
}

const POD_TEMPLATE_KINDS: readonly { group: string; kind: string }[] = [
  { group: 'apps', kind: 'Deployment' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'apps', kind: 'ReplicaSet' },
  { group: 'batch', kind: 'Job' },
];

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function stringRecord(v: unknown): Record<string, string> {
  const r = record(v);
  const out: Record<string, string> = {};
  if (r !== undefined) for (const [k, x] of Object.entries(r)) if (typeof x === 'string') out[k] = x;
  return out;
}

/**
 * Every workload the loaded configuration describes: Pods, and the pod templates of Deployments,
 * StatefulSets, DaemonSets, ReplicaSets and Jobs (configuration files rarely hold Pods; Istio's analyzers,
 * run against a cluster, see the Pods those controllers create, which carry the template's labels).
 */
export function listWorkloads(ctx: AnalysisContext): Workload[] {
  const out: Workload[] = [];
  for (const e of ctx.entries) {
    const g = groupOf(e.resource.apiVersion);
    const r = e.resource as unknown as Record<string, unknown>;
    const ns = e.resource.metadata.namespace ?? '';
    if (g === '' && e.resource.kind === 'Pod') {
      out.push({
        kind: 'Pod',
        namespace: ns,
        name: e.resource.metadata.name,
        labels: e.resource.metadata.labels ?? {},
        annotations: e.resource.metadata.annotations ?? {},
        entry: e,
      });
    } else if (POD_TEMPLATE_KINDS.some((k) => k.group === g && k.kind === e.resource.kind)) {
      const meta = record(record(record(r['spec'])?.['template'])?.['metadata']);
      out.push({
        kind: e.resource.kind,
        namespace: ns,
        name: e.resource.metadata.name,
        labels: stringRecord(meta?.['labels']),
        annotations: stringRecord(meta?.['annotations']),
        entry: e,
      });
    }
  }
  return out;
}

/** True when any workload source (Pods or pod templates) is loaded; selector checks are skipped otherwise. */
export function hasWorkloads(ctx: AnalysisContext): boolean {
  return listWorkloads(ctx).length > 0;
}

/** Namespaces known to exist: Namespace objects, plus every namespace a loaded object lives in. */
export function knownNamespaces(ctx: AnalysisContext): Set<string> {
  const out = new Set<string>();
  for (const e of ctx.entries) {
    if (groupOf(e.resource.apiVersion) === '' && e.resource.kind === 'Namespace') out.add(e.resource.metadata.name);
    if (e.resource.metadata.namespace !== undefined) out.add(e.resource.metadata.namespace);
  }
  return out;
}

/** A Pod in ambient mode (util.PodInAmbientMode: `ambient.istio.io/redirection: enabled`). */
export function workloadInAmbientMode(w: Workload): boolean {
  return w.annotations['ambient.istio.io/redirection'] === 'enabled';
}

/** A Namespace labelled `istio.io/dataplane-mode: ambient` (util.NamespaceInAmbientMode). */
export function namespaceInAmbientMode(ctx: AnalysisContext, namespace: string): boolean {
  return ctx.entries.some(
    (e) =>
      groupOf(e.resource.apiVersion) === '' &&
      e.resource.kind === 'Namespace' &&
      e.resource.metadata.name === namespace &&
      // A sidecar injection label or a revision label means the namespace is not ambient.
      e.resource.metadata.labels?.['istio-injection'] !== 'enabled' &&
      (e.resource.metadata.labels?.['istio.io/rev'] ?? '') === '' &&
      e.resource.metadata.labels?.['istio.io/dataplane-mode'] === 'ambient',
  );
}
