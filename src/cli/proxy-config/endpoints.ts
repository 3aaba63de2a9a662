// `proxy-config endpoints`: istioctl's ENDPOINT STATUS OUTLIER CHECK CLUSTER table
// (istioctl/pkg/writer/envoy/clusters/clusters.go), read from the admin's /clusters: Envoy's JSON
// (`?format=json`, envoy.admin.v3.Clusters) or, from a proxy that answers in text, the text form
// (`<cluster>::<host>::health_flags::<flags>`, flags per Envoy's HostUtility::healthFlagsToString).
// STATUS is the EDS health; OUTLIER CHECK is FAILED while outlier detection ejects the host.
// Also the EDS table that `proxy-config all` prints from the dump's EndpointsConfigDump
// (configdump/endpoint.go): NAME STATUS LOCALITY CLUSTER.

import { dumpEndpointConfigs, type ConfigDump, type Table } from './config-dump.js';
import { addressParts, asObject, bool, field, list, obj, str, type JsonObject } from './json-fields.js';
import { clusterOrder } from './istio-names.js';

/** envoy.config.core.v3.HealthStatus by number. */
const HEALTH_NAMES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'];

export function healthName(v: unknown): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return HEALTH_NAMES[v] ?? String(v);
  return 'UNKNOWN';
}

export interface HostStatus {
  /** The address without the port; `unix://<path>` for a pipe, `envoy://<listener>/<id>` for an internal one. */
  readonly address: string;
  readonly port: number;
  /** The EDS health status name: HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED or UNKNOWN. */
  readonly status: string;
  readonly failedOutlierCheck: boolean;
}

export interface ClusterStatus {
  readonly name: string;
  readonly hosts: readonly HostStatus[];
  /** The cluster as envoy.admin.v3.ClusterStatus JSON, for `-o json|yaml`. */
  readonly json: JsonObject;
}

function hostOf(h: JsonObject): HostStatus {
  const a = addressParts(obj(h, 'address'));
  const health = obj(h, 'health_status');
  return {
    address: a.kind === 'pipe' ? `unix://${a.address}` : a.kind === 'none' ? 'unknown' : a.address,
    port: a.kind === 'socket' ? a.port : 0,
    status: healthName(field(health, 'eds_health_status')),
    failedOutlierCheck: bool(health, 'failed_outlier_check'),
  };
}

/** The EDS status Envoy's JSON reports for a text health_flags value (ClustersHandler::setHealthFlag). */
function statusOfFlags(flags: string): { status: string; outlier: boolean; activeHc: boolean } {
  const has = (f: string): boolean => flags.split('/').includes(f);
  const status = has('failed_eds_health') ? 'UNHEALTHY' : has('degraded_eds_health') ? 'DEGRADED' : has('eds_status_draining') ? 'DRAINING' : 'HEALTHY';
  return { status, outlier: has('failed_outlier_check'), activeHc: has('failed_active_hc') };
}

function splitHostPort(host: string): { address: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:([0-9]+)$/.exec(host);
  return m !== null ? { address: m[1] ?? '', port: Number(m[2]) } : { address: host, port: 0 };
}

/** Envoy's text /clusters, as envoy.admin.v3.Clusters JSON. */
function clustersFromText(text: string): JsonObject {
  const clusters = new Map<string, Map<string, Record<string, string>>>();
  for (const line of text.split('\n')) {
    // `<cluster>::<host>::<stat>::<value>`; an IPv6 host (`[::1]:80`) has `::` of its own.
    const parts = line.split('::');
    if (parts.length < 4) continue;
    const cluster = parts[0] ?? '';
    const value = parts[parts.length - 1] ?? '';
    const stat = parts[parts.length - 2] ?? '';
    const host = parts.slice(1, -2).join('::');
    let hosts = clusters.get(cluster);
    if (hosts === undefined) clusters.set(cluster, (hosts = new Map()));
    // Only entries with health_flags are hosts; `default_priority::max_connections` and the like are not.
    if (stat === 'health_flags' || hosts.has(host)) hosts.set(host, { ...(hosts.get(host) ?? {}), [stat]: value.trim() });
  }
  const statuses = [...clusters].map(([name, hosts]) => ({
    name,
    host_statuses: [...hosts]
      .filter(([, stats]) => stats['health_flags'] !== undefined)
      .map(([host, stats]) => {
        const { address, port } = splitHostPort(host);
        const flags = statusOfFlags(stats['health_flags'] ?? '');
        return {
          address: { socket_address: { address, port_value: port } },
          health_status: { eds_health_status: flags.status, ...(flags.outlier ? { failed_outlier_check: true } : {}), ...(flags.activeHc ? { failed_active_health_check: true } : {}) },
          ...(stats['weight'] !== undefined ? { weight: Number(stats['weight']) } : {}),
          locality: { region: stats['region'] ?? '', zone: stats['zone'] ?? '', sub_zone: stats['sub_zone'] ?? '' },
        };
      }),
  }));
  return { cluster_statuses: statuses };
}

/** The clusters of a /clusters response, JSON or text; undefined when it is neither. */
export function parseClusterStatuses(body: string): ClusterStatus[] | undefined {
  let root: JsonObject | undefined;
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      root = asObject(JSON.parse(trimmed));
    } catch {
      return undefined;
    }
    if (root === undefined || (field(root, 'cluster_statuses') === undefined && Object.keys(root).length > 0)) return undefined;
  } else if (trimmed === '' || trimmed.includes('::')) {
    root = clustersFromText(trimmed);
  } else {
    return undefined;
  }
  return list(root, 'cluster_statuses').map((c) => ({ name: str(c, 'name'), hosts: list(c, 'host_statuses').map(hostOf), json: c }));
}

/** The endpoints of the dump's load assignments as cluster statuses (no outlier state: OK). */
export function statusesFromDump(d: ConfigDump): ClusterStatus[] {
  return dumpEndpointConfigs(d).map((cla) => {
    const lbs = list(cla, 'endpoints').flatMap((l) => list(l, 'lb_endpoints'));
    const hosts = lbs.map((lb) => ({
      address: obj(obj(lb, 'endpoint'), 'address') ?? {},
      health_status: { eds_health_status: healthName(field(lb, 'health_status')) },
    }));
    const json = { name: str(cla, 'cluster_name'), host_statuses: hosts };
    return { name: json.name, hosts: hosts.map(hostOf), json };
  });
}

export interface EndpointFilter {
  /** The endpoint address, exactly (ignoring case). */
  readonly address?: string;
  readonly port?: number;
  /** The cluster name, exactly (ignoring case). */
  readonly cluster?: string;
  /** The health status name (healthy, unhealthy ...), ignoring case. */
  readonly status?: string;
}

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const set = (s: string | undefined): s is string => s !== undefined && s !== '';

function hostMatches(h: HostStatus, cluster: string, f: EndpointFilter): boolean {
  if (set(f.address) && !eq(h.address, f.address)) return false;
  if (f.port !== undefined && f.port !== 0 && h.port !== f.port) return false;
  if (set(f.cluster) && !eq(cluster, f.cluster)) return false;
  if (set(f.status) && !eq(h.status, f.status)) return false;
  return true;
}

export function endpointTable(statuses: readonly ClusterStatus[], f: EndpointFilter = {}): Table {
  const rows = statuses
    .flatMap((c) => c.hosts.filter((h) => hostMatches(h, c.name, f)).map((h) => ({ ...h, cluster: c.name })))
    .sort((a, b) => (a.address !== b.address ? (a.address < b.address ? -1 : 1) : a.port !== b.port ? a.port - b.port : a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0))
    .map((e) => [e.port !== 0 ? `${e.address}:${e.port}` : e.address, e.status, e.failedOutlierCheck ? 'FAILED' : 'OK', e.cluster]);
  return { headers: ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], rows };
}

/** `-o json|yaml`: each cluster with at least one endpoint passing `f`, whole. */
export function endpointData(statuses: readonly ClusterStatus[], f: EndpointFilter = {}): JsonObject[] {
  return statuses.filter((c) => c.hosts.some((h) => hostMatches(h, c.name, f))).map((c) => c.json);
}

/** `address:port` (socket), the pipe path, or the internal address of an LbEndpoint and its extra addresses. */
function lbEndpointAddresses(lb: JsonObject): string[] {
  const ep = obj(lb, 'endpoint');
  const addrs = [obj(ep, 'address'), ...list(ep, 'additional_addresses').map((a) => obj(a, 'address'))];
  return addrs.map((a) => {
    const p = addressParts(a);
    if (p.kind === 'socket') return `${p.address}:${p.port}`;
    return p.kind === 'none' ? 'unknown' : p.address;
  });
}

function localityString(l: JsonObject | undefined): string {
  const region = str(l, 'region');
  const zone = str(l, 'zone');
  if (zone === '') return region;
  const sub = str(l, 'sub_zone');
  return sub === '' ? `${region}/${zone}` : `${region}/${zone}/${sub}`;
}

/** The EDS table of `proxy-config all`: one row per endpoint of the dump's load assignments. */
export function edsTable(d: ConfigDump, f: EndpointFilter = {}, withName = false): Table {
  const rows: string[][] = [];
  const clas = dumpEndpointConfigs(d).sort((a, b) => clusterOrder(str(a, 'cluster_name'), str(b, 'cluster_name')));
  for (const cla of clas) {
    const cluster = str(cla, 'cluster_name');
    for (const l of list(cla, 'endpoints')) {
      for (const lb of list(l, 'lb_endpoints')) {
        const addrs = lbEndpointAddresses(lb);
        const status = healthName(field(lb, 'health_status'));
        const port = addressParts(obj(obj(lb, 'endpoint'), 'address')).port;
        if (set(f.address) && !addrs.some((a) => eq(a, f.address as string))) continue;
        if (f.port !== undefined && f.port !== 0 && port !== f.port) continue;
        if (set(f.cluster) && !eq(cluster, f.cluster)) continue;
        if (set(f.status) && !eq(status, f.status)) continue;
        const name = addrs.join(',');
        rows.push([withName ? `endpoint/${name}` : name, status, localityString(obj(l, 'locality')), cluster]);
      }
    }
  }
  return { headers: ['NAME', 'STATUS', 'LOCALITY', 'CLUSTER'], rows };
}
