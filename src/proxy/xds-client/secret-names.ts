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
import type { SdsSecretConfig } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';

const memo = new WeakMap<Listener | Cluster, readonly string[]>();

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

function addNames(common: CommonTlsContext | undefined, out: Set<string>): void {
  if (common === undefined) return;
  for (const c of common.tlsCertificateSdsSecretConfigs) if (isAds(c)) out.add(c.name);
  const v = common.validationContextType;
  const vc = v.case === 'validationContextSdsSecretConfig' ? v.value : v.case === 'combinedValidationContext' ? v.value.validationContextSdsSecretConfig : undefined;
  if (vc !== undefined && isAds(vc)) out.add(vc.name);
}

function namesOf(r: Listener | Cluster, sockets: () => (TransportSocket | undefined)[]): readonly string[] {
  let names = memo.get(r);
  if (names === undefined) {
    const out = new Set<string>();
    for (const ts of sockets()) addNames(commonOf(ts), out);
    names = [...out];
    memo.set(r, names);
  }
  return names;
}

/** The secret names a listener's filter chains ask ADS for. */
export function listenerSecretNames(l: Listener): readonly string[] {
  return namesOf(l, () => [...l.filterChains.map((fc) => fc.transportSocket), l.defaultFilterChain?.transportSocket]);
}

/** The secret names a cluster's transport sockets ask ADS for. */
export function clusterSecretNames(c: Cluster): readonly string[] {
  return namesOf(c, () => [c.transportSocket, ...c.transportSocketMatches.map((m) => m.transportSocket)]);
}

/** Every secret name the listeners and clusters ask ADS for, sorted, without duplicates. */
export function sdsNamesOf(listeners: Iterable<Listener>, clusters: Iterable<Cluster>): string[] {
  const out = new Set<string>();
  for (const l of listeners) for (const n of listenerSecretNames(l)) out.add(n);
  for (const c of clusters) for (const n of clusterSecretNames(c)) out.add(n);
  return [...out].sort();
}
