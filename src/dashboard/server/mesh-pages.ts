// The JSON of the service and workload lists and pages: the mesh inventory (mesh-inventory.ts) with
// each row's inbound numbers (traffic-summary.ts), and for one service or workload its charts and peers
// (traffic-view.ts), its proxies with their xDS sync state (as /api/proxies), and the config that
// applies to it (applied-config.ts). The control plane's state comes in as MeshSources; nothing here
// keeps state between requests.

import type { ResourceEntry } from '../../api/entry.js';
import type { Proxy } from '../../model/proxy.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import type { SyncStatus } from '../../xds-server/sync-status.js';
import type { ServiceDetail, ServiceRow, ServicesResponse, WorkloadDetail, WorkloadRow, WorkloadsResponse } from '../shared/api-types.js';
import { appliedConfig } from './applied-config.js';
import { appAndVersion, buildInventory, type InventoryService, type InventoryWorkload, type MeshInventory } from './mesh-inventory.js';
import { proxyRows } from './proxy-view.js';
import type { SeriesStore } from './series-store.js';
import { buildTrafficView, serviceTraffic, workloadTraffic } from './traffic-view.js';
import { inboundTotals, rowNumbers, serviceKey, workloadKey, type InboundTotal } from './traffic-summary.js';

/** What the control plane holds, as the service and workload pages read it. */
export interface MeshSources {
  /** The mesh snapshot being served; undefined before the first one is built. */
  snapshot(): MeshSnapshot | undefined;
  /** The config store's resources (those GET /api/config lists). */
  configEntries(): readonly ResourceEntry[];
  /** The connected proxies' nodes (a proxy with several streams may appear more than once). */
  proxyNodes(): readonly Proxy[];
  /** The proxies' Istio metrics, scraped every `scrapeIntervalMs`. */
  readonly series: SeriesStore;
  readonly scrapeIntervalMs: number;
}

export interface MeshQuery {
  readonly windowMs: number;
  readonly now: number;
}

/** One request's view of the mesh: the inventory is built once and shared by the rows and the page. */
export class MeshPages {
  readonly #src: MeshSources;
  readonly #syncz: readonly SyncStatus[];
  readonly #q: MeshQuery;
  readonly #snapshot: MeshSnapshot | undefined;
  readonly #entries: readonly ResourceEntry[];
  readonly #inv: MeshInventory;
  #services?: Map<string, InboundTotal>;
  #workloads?: Map<string, InboundTotal>;

  constructor(src: MeshSources, syncz: readonly SyncStatus[], q: MeshQuery) {
    this.#src = src;
    this.#syncz = syncz;
    this.#q = q;
    this.#snapshot = src.snapshot();
    this.#entries = src.configEntries();
    this.#inv = buildInventory(this.#snapshot, this.#entries, src.proxyNodes());
  }

  services(): ServicesResponse {
    return { timestamp: new Date(this.#q.now).toISOString(), windowMs: this.#q.windowMs, services: this.#inv.services.map((s) => this.#serviceRow(s)) };
  }

  workloads(): WorkloadsResponse {
    return { timestamp: new Date(this.#q.now).toISOString(), windowMs: this.#q.windowMs, workloads: this.#inv.workloads.map((w) => this.#workloadRow(w)) };
  }

  /** Undefined when the mesh has no such service. */
  service(namespace: string, name: string): ServiceDetail | undefined {
    const s = this.#inv.service(namespace, name);
    if (s === undefined) return undefined;
    const workloads = this.#inv.workloadsOf(s);
    return {
      service: this.#serviceRow(s),
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'auto-detect' })),
      labels: s.labels,
      ...(s.selector !== undefined ? { selector: s.selector } : {}),
      workloads: workloads.map((w) => this.#workloadRow(w)),
      proxies: this.#proxiesOf(workloads),
      config: appliedConfig(this.#entries, this.#snapshot, { hosts: s.hosts, workloads }),
      traffic: buildTrafficView(this.#src.series, serviceTraffic(s.namespace, s.name, workloads), this.#trafficOptions()),
    };
  }

  /** Undefined when the mesh has no such workload. */
  workload(namespace: string, name: string): WorkloadDetail | undefined {
    const w = this.#inv.workload(namespace, name);
    if (w === undefined) return undefined;
    return {
      workload: this.#workloadRow(w),
      instances: w.instances.map((i) => ({ name: i.name, address: i.address })),
      proxies: this.#proxiesOf([w]),
      config: appliedConfig(this.#entries, this.#snapshot, { hosts: this.#inv.servicesOf(w).flatMap((s) => s.hosts), workloads: [w] }),
      traffic: buildTrafficView(this.#src.series, workloadTraffic(w.namespace, w.name), this.#trafficOptions()),
    };
  }

  #trafficOptions(): { windowMs: number; scrapeIntervalMs: number; now: number } {
    return { windowMs: this.#q.windowMs, scrapeIntervalMs: this.#src.scrapeIntervalMs, now: this.#q.now };
  }

  #serviceRow(s: InventoryService): ServiceRow {
    this.#services ??= inboundTotals(this.#src.series, this.#q.windowMs, this.#q.now, serviceKey);
    const workloads = this.#inv.workloadsOf(s);
    const app = s.labels['app'];
    return {
      namespace: s.namespace,
      name: s.name,
      hosts: s.hosts,
      source: s.source,
      ...(app !== undefined && app !== '' ? { app } : {}),
      workloads: workloads.length,
      proxies: workloads.reduce((n, w) => n + w.proxies.length, 0),
      ...rowNumbers(this.#services.get(`${s.namespace}/${s.name}`)),
    };
  }

  #workloadRow(w: InventoryWorkload): WorkloadRow {
    this.#workloads ??= inboundTotals(this.#src.series, this.#q.windowMs, this.#q.now, workloadKey);
    return {
      namespace: w.namespace,
      name: w.name,
      kind: w.kind,
      ...appAndVersion(w.labels),
      labels: w.labels,
      services: this.#inv.servicesOf(w).map((s) => s.name),
      proxies: w.proxies.length,
      ...rowNumbers(this.#workloads.get(`${w.namespace}/${w.name}`)),
    };
  }

  #proxiesOf(workloads: readonly InventoryWorkload[]): ReturnType<typeof proxyRows> {
    const ids = new Set(workloads.flatMap((w) => w.proxies.map((p) => p.workloadId)));
    return proxyRows(this.#syncz.filter((s) => ids.has(s.proxy)));
  }
}
