// What `proxy-status` and the debug endpoints report about connected proxies.
//  - SyncStatus is istiod's /debug/syncz entry (pilot/pkg/xds/debug.go SyncStatus: snake_case JSON,
//    empty fields omitted), plus a few Isthmus fields (node_id, istiod, connection_id, xds mode, and a
//    `status` per type in `resources`).
//  - ProxySyncDetail is Isthmus's /debug/proxy_status: per type, what the proxy acknowledged and what
//    it should have now (name -> version), so the CLI can show istioctl's "Clusters Match /
//    Listeners Don't Match" with the names that differ.
// Status per type follows istiod's debugSyncStatus (statusgen.go): ERROR when the last response was
// rejected, NOT SENT before any response, SYNCED when the last nonce sent was acknowledged, else STALE.

import type { XdsTypeUrl } from '../xds/type-urls.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, PUSH_ORDER, ROUTE_TYPE, shortTypeName } from '../xds/type-urls.js';
import type { Connection, NackRecord, WatchState, XdsMode } from './connection.js';
import { selectResources, versionsOf, type ProxyGeneration } from './generation.js';

export type ConfigStatus = 'SYNCED' | 'STALE' | 'NOT SENT' | 'ERROR';

export function configStatus(w: Pick<WatchState, 'nonceSent' | 'nonceAcked' | 'lastError'>): ConfigStatus {
  if (w.lastError !== undefined) return 'ERROR';
  if (w.nonceSent === '') return 'NOT SENT';
  return w.nonceAcked === w.nonceSent ? 'SYNCED' : 'STALE';
}

export interface ResourceSyncStatus {
  readonly sent?: string;
  readonly acked?: string;
  /** ISO time of the last response of this type. */
  readonly sentTime?: string;
  readonly lastError?: string;
  readonly status: ConfigStatus;
}

/** One /debug/syncz entry. */
export interface SyncStatus {
  readonly cluster_id?: string;
  /** Istio's proxy id: the third part of the node id (`reviews-v1-abc.default`). */
  readonly proxy: string;
  readonly proxy_type?: string;
  readonly istio_version?: string;
  readonly cluster_sent?: string;
  readonly cluster_acked?: string;
  readonly listener_sent?: string;
  readonly listener_acked?: string;
  readonly route_sent?: string;
  readonly route_acked?: string;
  readonly endpoint_sent?: string;
  readonly endpoint_acked?: string;
  /** By type URL, for every type the proxy subscribed to. */
  readonly resources: Readonly<Record<string, ResourceSyncStatus>>;
  /** Isthmus: the full xDS node id. */
  readonly node_id: string;
  /** Isthmus: the control plane instance serving the proxy (istioctl's ISTIOD column). */
  readonly istiod: string;
  readonly connection_id: string;
  readonly connected_at: string;
  readonly xds: XdsMode;
  /** Isthmus: the proxy's admin address (`host:port`) when its node metadata carries ISTHMUS_ADMIN_ADDRESS. */
  readonly admin_address?: string;
}

export interface NackView {
  readonly type: string;
  readonly nonce: string;
  readonly code: string;
  readonly message: string;
  readonly time: string;
}

export interface TypeSyncDetail {
  readonly type_url: XdsTypeUrl;
  /** CDS, LDS, ... */
  readonly type: string;
  readonly status: ConfigStatus;
  readonly nonce_sent: string;
  readonly nonce_acked: string;
  readonly last_error?: NackView;
  readonly subscribed: { readonly wildcard: boolean; readonly names: readonly string[] };
  /** What the proxy acknowledged: resource name -> version. */
  readonly acked: Readonly<Record<string, string>>;
  /** What it should have now under its subscription; null when the server has no config for it (no snapshot, or translation failed). */
  readonly expected: Readonly<Record<string, string>> | null;
}

/** /debug/proxy_status?proxyID= */
export interface ProxySyncDetail {
  readonly proxy: string;
  readonly node_id: string;
  readonly istiod: string;
  readonly connection_id: string;
  readonly xds: XdsMode;
  readonly snapshot_version?: string;
  readonly generation_error?: string;
  /** What translation skipped for this proxy and why (`path: message`). */
  readonly translation_issues?: readonly string[];
  readonly types: readonly TypeSyncDetail[];
  /** Recent rejections, oldest first. */
  readonly nacks: readonly NackView[];
}

/** Istio's cluster id of a proxy (node metadata CLUSTER_ID), `Kubernetes` as istiod's default. */
export function clusterIdOf(conn: Connection): string {
  const v = conn.proxy.metadata['CLUSTER_ID'];
  return typeof v === 'string' && v !== '' ? v : 'Kubernetes';
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

function nackView(n: NackRecord): NackView {
  return { type: shortTypeName(n.typeUrl), nonce: n.nonce, code: n.code, message: n.message, time: new Date(n.time).toISOString() };
}

function nonces(conn: Connection, typeUrl: XdsTypeUrl, prefix: string): Record<string, string> {
  const w = conn.watches.get(typeUrl);
  const out: Record<string, string> = {};
  if (w?.nonceSent) out[`${prefix}_sent`] = w.nonceSent;
  if (w?.nonceAcked) out[`${prefix}_acked`] = w.nonceAcked;
  return out;
}

function watchedInOrder(conn: Connection): WatchState[] {
  return PUSH_ORDER.flatMap((t) => {
    const w = conn.watches.get(t);
    return w === undefined ? [] : [w];
  });
}

export function syncStatusOf(conn: Connection, istiod: string): SyncStatus {
  const resources: Record<string, ResourceSyncStatus> = {};
  for (const w of watchedInOrder(conn)) {
    const sentTime = iso(w.lastSendTime);
    resources[w.typeUrl] = {
      ...(w.nonceSent !== '' ? { sent: w.nonceSent } : {}),
      ...(w.nonceAcked !== '' ? { acked: w.nonceAcked } : {}),
      ...(sentTime !== undefined ? { sentTime } : {}),
      ...(w.lastError !== undefined ? { lastError: w.lastError.message } : {}),
      status: configStatus(w),
    };
  }
  const p = conn.proxy;
  return {
    cluster_id: clusterIdOf(conn),
    proxy: p.workloadId,
    proxy_type: p.type,
    ...(p.istioVersion !== '' ? { istio_version: p.istioVersion } : {}),
    ...nonces(conn, CLUSTER_TYPE, 'cluster'),
    ...nonces(conn, LISTENER_TYPE, 'listener'),
    ...nonces(conn, ROUTE_TYPE, 'route'),
    ...nonces(conn, ENDPOINT_TYPE, 'endpoint'),
    resources,
    node_id: p.id,
    istiod,
    connection_id: conn.id,
    connected_at: new Date(conn.connectedAt).toISOString(),
    xds: conn.mode,
    ...(typeof p.metadata['ISTHMUS_ADMIN_ADDRESS'] === 'string' ? { admin_address: p.metadata['ISTHMUS_ADMIN_ADDRESS'] } : {}),
  };
}

export function proxySyncDetailOf(
  conn: Connection,
  istiod: string,
  generation: { readonly ok: true; readonly value: ProxyGeneration } | { readonly ok: false; readonly error: string } | undefined,
): ProxySyncDetail {
  const gen = generation?.ok === true ? generation.value : undefined;
  const types = watchedInOrder(conn).map((w): TypeSyncDetail => {
    const expected = gen === undefined ? null : Object.fromEntries(versionsOf(selectResources(gen.byType.get(w.typeUrl), (n) => w.subscription.covers(n))));
    // Delta marks names the client was told do not exist with ''; they are not acknowledged resources.
    const acked = Object.fromEntries([...w.acked].filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      type_url: w.typeUrl,
      type: shortTypeName(w.typeUrl),
      status: configStatus(w),
      nonce_sent: w.nonceSent,
      nonce_acked: w.nonceAcked,
      ...(w.lastError !== undefined ? { last_error: nackView(w.lastError) } : {}),
      subscribed: { wildcard: w.subscription.wildcard, names: w.subscription.names },
      acked,
      expected,
    };
  });
  return {
    proxy: conn.proxy.workloadId,
    node_id: conn.proxy.id,
    istiod,
    connection_id: conn.id,
    xds: conn.mode,
    ...(gen !== undefined ? { snapshot_version: gen.snapshotVersion } : {}),
    ...(generation?.ok === false ? { generation_error: generation.error } : {}),
    ...(gen !== undefined && gen.issues.length > 0 ? { translation_issues: gen.issues.map((i) => `${i.path}: ${i.message}`) } : {}),
    types,
    nacks: conn.nacks.map(nackView),
  };
}
