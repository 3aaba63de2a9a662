// Which SDS secrets the proxy asks its ADS server for: the names in the TLS contexts of the accepted
// listeners (DownstreamTlsContext in filter_chains[].transport_socket and default_filter_chain) and
// clusters (UpstreamTlsContext in transport_socket and transport_socket_matches[]) whose sds_config is
// `ads` — or `self`, which for a resource that came over ADS is the same server (config_source.proto
// SelfConfigSource). Names with another source (Istio's node agent: `default`, `ROOTCA` over the
// `sds-grpc` cluster) or without sds_config (bootstrap static secrets) are not ADS's to serve.
// Results are memoized per message: unchanged resources keep their message object in the client's tables.

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { TransportSocket } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { ConfigSource } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import type { SdsSecretConfig } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';

/** A secret name and the config source it is fetched from (its initial_fetch_timeout applies to it). */
export interface SecretRef {
  readonly name: string;
  readonly source: ConfigSource | undefined;
}

const memo = new WeakMap<Listener | Cluster, { readonly refs: readonly SecretRef[]; readonly names: readonly string[] }>();

function isAds(c: SdsSecretConfig): boolean {
  const k = c.sdsConfig?.configSourceSpecifier.case;
  return c.name !== '' && (k === 'ads' || k === 'self');
}

function commonOf(ts: TransportSocket | undefined): CommonTlsContext | undefined {
  if (ts?.configType.case !== 'typedConfig') return undefined;
  const any: Any = ts.configType.value;
  try {
    if (any.typeUrl.endsWith(`/${DownstreamTlsContextSchema.typeName}`)) return anyUnpack(any, DownstreamTlsContextSchema)?.commonTlsContext;
    if (any.typeUrl.endsWith(`/${UpstreamTlsContextSchema.typeName}`)) return anyUnpack(any, UpstreamTlsContextSchema)?.commonTlsContext;
  } catch {
    // Undecodable: the resource's own validation or compilation reports it.
  }
  return undefined;
}

function addRefs(common: CommonTlsContext | undefined, out: SecretRef[]): void {
  if (common === undefined) return;
  for (const c of common.tlsCertificateSdsSecretConfigs) if (isAds(c)) out.push({ name: c.name, source: c.sdsConfig });
  const v = common.validationContextType;
  const vc = v.case === 'validationContextSdsSecretConfig' ? v.value : v.case === 'combinedValidationContext' ? v.value.validationContextSdsSecretConfig : undefined;
  if (vc !== undefined && isAds(vc)) out.push({ name: vc.name, source: vc.sdsConfig });
}

function entryOf(r: Listener | Cluster, sockets: () => (TransportSocket | undefined)[]): { readonly refs: readonly SecretRef[]; readonly names: readonly string[] } {
  let e = memo.get(r);
  if (e === undefined) {
    const refs: SecretRef[] = [];
    for (const ts of sockets()) addRefs(commonOf(ts), refs);
    e = { refs, names: [...new Set(refs.map((x) => x.name))] };
    memo.set(r, e);
  }
  return e;
}

const listenerSockets = (l: Listener) => (): (TransportSocket | undefined)[] => [...l.filterChains.map((fc) => fc.transportSocket), l.defaultFilterChain?.transportSocket];
const clusterSockets = (c: Cluster) => (): (TransportSocket | undefined)[] => [c.transportSocket, ...c.transportSocketMatches.map((m) => m.transportSocket)];

/** The secret names a listener's filter chains ask ADS for. */
export function listenerSecretNames(l: Listener): readonly string[] {
  return entryOf(l, listenerSockets(l)).names;
}

/** The secret names a cluster's transport sockets ask ADS for. */
export function clusterSecretNames(c: Cluster): readonly string[] {
  return entryOf(c, clusterSockets(c)).names;
}

/** Every secret name the listeners and clusters ask ADS for, sorted, without duplicates. */
export function sdsNamesOf(listeners: Iterable<Listener>, clusters: Iterable<Cluster>): string[] {
  const out = new Set<string>();
  for (const l of listeners) for (const n of listenerSecretNames(l)) out.add(n);
  for (const c of clusters) for (const n of clusterSecretNames(c)) out.add(n);
  return [...out].sort();
}

/** Every secret the listeners and clusters ask ADS for, with the sds_config naming it (for initial fetch timeouts). */
export function* sdsRefsOf(listeners: Iterable<Listener>, clusters: Iterable<Cluster>): Generator<SecretRef> {
  for (const l of listeners) yield* entryOf(l, listenerSockets(l)).refs;
  for (const c of clusters) yield* entryOf(c, clusterSockets(c)).refs;
}
