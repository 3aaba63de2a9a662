// `proxy-config clusters`: istioctl's cluster table (istioctl/pkg/writer/envoy/configdump/cluster.go),
// SERVICE FQDN PORT SUBSET DIRECTION TYPE DESTINATION RULE, one row per cluster of the dump sorted by
// host, subset, port and direction. Subset-key names are split into their parts; other names
// (`BlackHoleCluster`) fill SERVICE FQDN with `-` elsewhere. TYPE is the discovery type (STATIC when the
// dump omits it, as proto3 JSON omits defaults); DESTINATION RULE comes from the cluster's istio metadata.

import { dumpClusters, type ConfigDump, type Table } from './config-dump.js';
import { field, obj, sorted, str, withoutType, type JsonObject } from './json-fields.js';
import { clusterOrder, describeManagement, parseClusterKey } from './istio-names.js';

export interface ClusterFilter {
  /** Substring of the cluster name. */
  readonly fqdn?: string;
  /** Port: the name must contain `|<port>|`. */
  readonly port?: number;
  /** Substring of the cluster name. */
  readonly subset?: string;
  /** Substring of the cluster name (`inbound`, `outbound`). */
  readonly direction?: string;
}

/** istioctl's ClusterFilter.Verify: substring tests on the name. */
export function clusterMatches(name: string, f: ClusterFilter): boolean {
  if (f.fqdn !== undefined && f.fqdn !== '' && !name.includes(f.fqdn)) return false;
  if (f.direction !== undefined && f.direction !== '' && !name.includes(f.direction)) return false;
  if (f.subset !== undefined && f.subset !== '' && !name.includes(f.subset)) return false;
  if (f.port !== undefined && f.port !== 0 && !name.includes(`|${f.port}|`)) return false;
  return true;
}

/** The clusters of the dump that pass `f`, sorted as istioctl sorts them. */
export function selectClusters(d: ConfigDump, f: ClusterFilter = {}): JsonObject[] {
  const all = sorted(dumpClusters(d), (a, b) => clusterOrder(str(a, 'name'), str(b, 'name')));
  return all.filter((c) => clusterMatches(str(c, 'name'), f));
}

/** Cluster.type, or STATIC when absent (the proto3 default) or when a custom cluster_type is used. */
export function clusterType(c: JsonObject): string {
  const t = field(c, 'type');
  return typeof t === 'string' && t !== '' ? t : 'STATIC';
}

export function clusterTable(d: ConfigDump, f: ClusterFilter = {}, withName = false): Table {
  const headers = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];
  const rows = selectClusters(d, f).map((c) => {
    const name = str(c, 'name');
    const key = parseClusterKey(name);
    const dr = describeManagement(obj(c, 'metadata'));
    const cells =
      key !== undefined
        ? [key.host, String(key.port), key.subset === '' ? '-' : key.subset, key.direction, clusterType(c), dr]
        : [name, '-', '-', '-', clusterType(c), dr];
    return withName ? [`cluster/${name}`, ...cells] : cells;
  });
  return { headers: withName ? ['NAME', ...headers] : headers, rows };
}

/** `-o json|yaml`: the selected Cluster messages. */
export function clusterData(d: ConfigDump, f: ClusterFilter = {}): JsonObject[] {
  return selectClusters(d, f).map(withoutType);
}
