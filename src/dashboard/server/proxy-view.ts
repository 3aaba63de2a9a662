// The dashboard's proxy view: the connected proxies as `isthmus proxy-status` lists them (from the xDS
// server's sync status), and a proxy's listeners, routes, clusters and endpoints as `isthmus proxy-config`
// shows them. The tables are built by a `ProxyTables` the caller supplies: the CLI owns istioctl's table
// layouts (src/cli/proxy-config), and the composition root passes them in, so both print the same rows
// without the dashboard importing the CLI.

import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import type { SyncStatus } from '../../xds-server/sync-status.js';
import type { ProxyRow, ProxySection, ProxyTable, XdsTypeStatus } from '../shared/api-types.js';

/** Reads a proxy's admin (`http://host:port`) and builds one `proxy-config` table. */
export type ProxyTables = (adminUrl: string, section: ProxySection) => Promise<ProxyTable>;

const COLUMNS: readonly (readonly [string, string])[] = [
  ['CDS', CLUSTER_TYPE],
  ['LDS', LISTENER_TYPE],
  ['EDS', ENDPOINT_TYPE],
  ['RDS', ROUTE_TYPE],
];

export function proxyRows(entries: readonly SyncStatus[]): ProxyRow[] {
  const rows = entries.map((e): ProxyRow => {
    const parts = e.node_id.split('~');
    const dot = e.proxy.lastIndexOf('.');
    const status: Record<string, XdsTypeStatus> = {};
    for (const [name, type] of COLUMNS) status[name] = e.resources[type]?.status ?? 'IGNORED';
    const sds = e.resources[SECRET_TYPE];
    if (sds !== undefined) status['SDS'] = sds.status;
    return {
      id: e.proxy,
      nodeId: e.node_id,
      type: e.proxy_type ?? parts[0] ?? 'sidecar',
      namespace: dot >= 0 ? e.proxy.slice(dot + 1) : '',
      connectedAt: e.connected_at,
      admin: e.admin_address !== undefined && e.admin_address !== '',
      status,
    };
  });
  // Several streams of one proxy (an ADS stream and a SDS one) are one row.
  const byId = new Map<string, ProxyRow>();
  for (const r of rows) if (!byId.has(r.id)) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The admin URL of proxy `id` (`pod.namespace`), when it is connected and told its admin address. */
export function adminUrlOf(entries: readonly SyncStatus[], id: string): string | undefined {
  const e = entries.find((x) => x.proxy === id && x.admin_address !== undefined && x.admin_address !== '');
  if (e?.admin_address === undefined) return undefined;
  return /^https?:\/\//.test(e.admin_address) ? e.admin_address.replace(/\/+$/, '') : `http://${e.admin_address}`;
}
