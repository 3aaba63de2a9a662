// The JSON the dashboard's server answers and its web app reads: one definition for both sides.
// Only types live here (the web bundle must not pull server code); the graph's node and edge shapes are
// the metrics service's own (src/dashboard/server/service-graph.ts), extended with what the dashboard adds.

import type { GraphEdge, GraphNode } from '../server/service-graph.js';

export type { GraphEdge, GraphNode, EdgeProtocol, NodeKind } from '../server/service-graph.js';

/** Where the session cookie and the login live. */
export const SESSION_COOKIE = 'isthmus-dashboard-session';
export const LOGIN_PATH = '/login';

/** A graph node; `idle` marks a service known to the mesh that had no traffic in the window. */
export type DashboardNode = GraphNode & { readonly idle?: boolean };

/** GET /api/graph?window=<duration>&namespace=<ns> */
export interface GraphResponse {
  readonly timestamp: string;
  readonly windowMs: number;
  readonly nodes: readonly DashboardNode[];
  readonly edges: readonly GraphEdge[];
}

export type MessageLevel = 'Error' | 'Warning' | 'Info';

/** One validation issue or analyzer message about a resource. */
export interface ResourceMessage {
  /** `IST0101` for analyzer messages (the codes of `isthmus analyze`); `validation` for schema issues. */
  readonly code: string;
  /** `ReferencedResourceNotFound`, or `Validation`. */
  readonly name: string;
  readonly level: MessageLevel;
  readonly message: string;
  /** Field path (validation) or file:line (analyzer), when known. */
  readonly where?: string;
  readonly documentationUrl?: string;
}

/** One resource of GET /api/config. */
export interface ConfigResource {
  /** `<group>/<Kind>/<namespace>/<name>`, unique in the list. */
  readonly id: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Where it was read from: a file of the config folder or `!applied` (isthmus apply). */
  readonly origin: string;
  /** false for a document that failed validation (the control plane keeps its last good version, if any). */
  readonly valid: boolean;
  readonly messages: readonly ResourceMessage[];
  readonly yaml: string;
}

export interface ConfigResponse {
  readonly resources: readonly ConfigResource[];
  /** Messages about no single resource. */
  readonly messages: readonly ResourceMessage[];
}

export type XdsTypeStatus = 'SYNCED' | 'STALE' | 'NOT SENT' | 'ERROR' | 'IGNORED';

/** One row of GET /api/proxies: `isthmus proxy-status`'s columns. */
export interface ProxyRow {
  /** `pod.namespace`. */
  readonly id: string;
  readonly nodeId: string;
  readonly type: string;
  readonly namespace: string;
  readonly connectedAt: string;
  /** Whether the dashboard can read its admin (it sent ISTHMUS_ADMIN_ADDRESS). */
  readonly admin: boolean;
  /** CDS, LDS, EDS, RDS (and SDS when subscribed). */
  readonly status: Readonly<Record<string, XdsTypeStatus>>;
}

export const PROXY_SECTIONS = ['listeners', 'routes', 'clusters', 'endpoints'] as const;
export type ProxySection = (typeof PROXY_SECTIONS)[number];

/** A `proxy-config` table: istioctl's upper-case headers and one string per cell. */
export interface ProxyTable {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** GET /api/proxies/<id>/<section> */
export interface ProxyTableResponse {
  readonly proxy: string;
  readonly section: ProxySection;
  readonly table: ProxyTable;
}

/** Every error answer of the API. */
export interface ApiError {
  readonly error: string;
}

/** GET /api/dashboard on the control plane's monitoring port: where the dashboard is and its token. */
export interface DashboardInfo {
  readonly url: string;
  readonly loginUrl: string;
  readonly token: string;
}

/** A service or workload as lists and pages name it. */
export interface MeshObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** One row of GET /api/services?window=: a service of the registry (Kubernetes Service or ServiceEntry). */
export interface ServiceRow extends MeshObjectRef {
  /** Its host names (one for a Kubernetes Service; a ServiceEntry's hosts). */
  readonly hosts: readonly string[];
  readonly source: 'Kubernetes' | 'ServiceEntry';
  /** The Service's own `app` label. */
  readonly app?: string;
  /** Workloads its selector picks, and their connected proxies. */
  readonly workloads: number;
  readonly proxies: number;
  /** Inbound requests per second over the window, as its proxies report them (reporter=destination). */
  readonly requestsPerSecond: number;
  /** Share of those requests that failed, 0..1; null without requests. */
  readonly errorRate: number | null;
}

/** One row of GET /api/workloads?window=. */
export interface WorkloadRow extends MeshObjectRef {
  /** Where the workload is known from: a Deployment of the config, a WorkloadEntry, a registered workload, a Pod, or only its proxy. */
  readonly kind: WorkloadKindName;
  /** `app` and `version` as Istio reads them (the canonical-name and canonical-revision labels first). */
  readonly app?: string;
  readonly version?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Names of the services (same namespace) that select it. */
  readonly services: readonly string[];
  readonly proxies: number;
  readonly requestsPerSecond: number;
  readonly errorRate: number | null;
}

export type WorkloadKindName = 'Deployment' | 'WorkloadEntry' | 'Workload' | 'Pod' | 'Proxy';

export interface ServicesResponse {
  readonly timestamp: string;
  readonly windowMs: number;
  readonly services: readonly ServiceRow[];
}

export interface WorkloadsResponse {
  readonly timestamp: string;
  readonly windowMs: number;
  readonly workloads: readonly WorkloadRow[];
}

/**
 * One direction of a service's or workload's traffic over time: a value per chart time (`TrafficView.times`),
 * null where there was nothing to compute.
 */
export interface TrafficCharts {
  readonly requestsPerSecond: readonly (number | null)[];
  /** Failed requests over all requests, 0..1: HTTP 0, 4xx and 5xx, and gRPC statuses 1-16 (Kiali's rule). */
  readonly errorRate: readonly (number | null)[];
  /** Request duration quantiles (histogram_quantile of istio_request_duration_milliseconds), in ms. */
  readonly latencyMs: { readonly p50: readonly (number | null)[]; readonly p95: readonly (number | null)[]; readonly p99: readonly (number | null)[] };
}

/** The other end of some of the traffic, over the whole window. */
export interface TrafficPeer {
  /** A graph node id: `workload:<ns>/<name>`, `service:<ns>/<name>`, `service:<host>` or `unknown`. */
  readonly id: string;
  readonly kind: 'workload' | 'service' | 'unknown';
  readonly namespace: string;
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly errorRate: number | null;
  readonly p95LatencyMs: number | null;
}

export interface DirectionTraffic {
  readonly charts: TrafficCharts;
  /** Inbound: the sources; outbound: the destination services. Busiest first. */
  readonly peers: readonly TrafficPeer[];
}

/** Inbound (reporter=destination) and outbound (reporter=source) traffic, as Kiali's metrics pages read them. */
export interface TrafficView {
  readonly timestamp: string;
  readonly windowMs: number;
  /** Chart times in ms since the epoch, `stepMs` apart; each point is a rate over the `rateIntervalMs` before it. */
  readonly times: readonly number[];
  readonly stepMs: number;
  readonly rateIntervalMs: number;
  readonly inbound: DirectionTraffic;
  readonly outbound: DirectionTraffic;
}

/** A resource of the config that applies to the service or workload; `id` is its GET /api/config id (the /config/<id> page). */
export interface AppliedConfig {
  readonly id: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Why it applies: `hosts: reviews`, `selects app=reviews`, `namespace-wide`, `mesh-wide (root namespace istio-system)`... */
  readonly why: string;
}

export interface ServicePortView {
  readonly name: string;
  readonly port: number;
  /** HTTP, TCP, ... or `auto-detect`. */
  readonly protocol: string;
}

/** GET /api/services/<ns>/<name>?window= */
export interface ServiceDetail {
  /** Its row of the list, counted over the same window. */
  readonly service: ServiceRow;
  readonly ports: readonly ServicePortView[];
  readonly labels: Readonly<Record<string, string>>;
  readonly selector?: Readonly<Record<string, string>>;
  readonly workloads: readonly WorkloadRow[];
  /** The proxies of its workloads. */
  readonly proxies: readonly ProxyRow[];
  readonly config: readonly AppliedConfig[];
  /** Inbound: requests to the service; outbound: what its workloads send. */
  readonly traffic: TrafficView;
}

/** GET /api/workloads/<ns>/<name>?window= */
export interface WorkloadDetail {
  readonly workload: WorkloadRow;
  /** Its instances as the registry knows them (pods, WorkloadEntries). */
  readonly instances: readonly { readonly name: string; readonly address: string }[];
  readonly proxies: readonly ProxyRow[];
  readonly config: readonly AppliedConfig[];
  readonly traffic: TrafficView;
}
