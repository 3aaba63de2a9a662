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
