// Workloads the local mesh registers at run time (`isthmus up`, `isthmus run`): the registry's only
// mutable source. Each change replaces the frozen list and notifies subscribers, who rebuild the
// snapshot (debounced by the xDS server). Keys are `namespace/name`.

import type { HealthStatus, Labels, Locality, Workload } from './types.js';
import { NO_LOCALITY } from './types.js';

export interface LocalWorkloadSpec {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly labels?: Labels;
  readonly serviceAccount?: string;
  /** Named ports the workload listens on (`http: 9080`), for Service targetPort names. */
  readonly ports?: Readonly<Record<string, number>>;
  readonly locality?: Locality;
  readonly network?: string;
  readonly weight?: number;
  /** Whether a sidecar fronts it (mTLS capable). Local workloads run with one unless said otherwise. */
  readonly tlsMode?: 'istio' | 'disabled';
}

export class LocalWorkloads {
  #items = new Map<string, Workload>();
  /** Sorted view, rebuilt lazily after a change (registering thousands of workloads stays linear). */
  #list: readonly Workload[] | undefined = [];
  readonly #listeners = new Set<() => void>();

  list(): readonly Workload[] {
    this.#list ??= Object.freeze([...this.#items.values()].sort((a, b) => cmp(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)));
    return this.#list;
  }

  get(namespace: string, name: string): Workload | undefined {
    return this.#items.get(`${namespace}/${name}`);
  }

  /** Adds or replaces the workload; returns it as the registry will see it. */
  register(spec: LocalWorkloadSpec): Workload {
    const w: Workload = Object.freeze({
      kind: 'Local',
      name: spec.name,
      namespace: spec.namespace,
      labels: Object.freeze({ ...(spec.labels ?? {}) }),
      serviceAccount: spec.serviceAccount ?? 'default',
      address: spec.address,
      ports: Object.freeze({ ...(spec.ports ?? {}) }),
      locality: spec.locality ?? NO_LOCALITY,
      network: spec.network ?? '',
      weight: spec.weight ?? 1,
      health: 'HEALTHY',
      tlsMode: spec.tlsMode ?? 'istio',
    });
    this.#items.set(`${spec.namespace}/${spec.name}`, w);
    this.#changed();
    return w;
  }

  /** Removes the workload; false when it was not registered. */
  deregister(namespace: string, name: string): boolean {
    const had = this.#items.delete(`${namespace}/${name}`);
    if (had) this.#changed();
    return had;
  }

  /** Marks the workload healthy or not (readiness); unknown workloads are reported by returning false. */
  setHealth(namespace: string, name: string, health: HealthStatus): boolean {
    const w = this.#items.get(`${namespace}/${name}`);
    if (w === undefined) return false;
    if (w.health !== health) {
      this.#items.set(`${namespace}/${name}`, Object.freeze({ ...w, health }));
      this.#changed();
    }
    return true;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#list = undefined;
    for (const l of this.#listeners) l();
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
