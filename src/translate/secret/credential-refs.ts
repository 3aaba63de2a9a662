// Which credential secrets a proxy's config asks the control plane for over ADS, and who asks: the SDS
// secret configs of the DownstreamTlsContexts a router's Gateway servers get (built with the listener
// builder's own buildGatewayTlsContext, so the names agree by construction: `kubernetes://<credentialName>`,
// `kubernetes://<credentialName>-cacert` for MUTUAL / OPTIONAL_MUTUAL, `caCertCredentialName`, each of
// `credentialNames`), and those of the UpstreamTlsContexts in the proxy's clusters (DestinationRule
// `credentialName`). Secrets of the node agent (`default`, `ROOTCA`, `file-cert:`, `file-root:`) come from
// its own SDS server and are not listed.

import { anyIs, anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Server, ServerTLSSettings } from '../../api/networking/gateway.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { TransportSocket } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { SdsSecretConfig } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { UpstreamTlsContextSchema, type CommonTlsContext } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { ProxyContext } from '../context.js';
import { credentialSecretConfig, SDS_CA_SUFFIX } from '../cluster/sds.js';
import { ISTIO_METADATA_KEY } from '../cluster/cluster-metadata.js';
import { buildGatewayTlsContext } from '../listener/downstream-tls.js';
import { mergeGateways } from '../listener/merge-gateways.js';

export interface CredentialRef {
  /** The SDS resource name, e.g. `kubernetes://bookinfo-credential`. */
  readonly resourceName: string;
  /** Issue path naming the config and field that asks for it: `Gateway istio-system/gw spec.servers[0].tls.credentialName`. */
  readonly path: string;
  /** Who asks, in words: `server 443 "https" of Gateway istio-system/gw`. */
  readonly origin: string;
  /** Namespace of the asking config, for hints (the Gateway's). */
  readonly configNamespace: string;
}

/** The SDS secret configs of a TLS context that are served over ADS (not by the node agent). */
export function adsSecretNames(common: CommonTlsContext | undefined): string[] {
  if (common === undefined) return [];
  const configs: SdsSecretConfig[] = [...common.tlsCertificateSdsSecretConfigs];
  const v = common.validationContextType;
  if (v.case === 'validationContextSdsSecretConfig') configs.push(v.value);
  else if (v.case === 'combinedValidationContext' && v.value.validationContextSdsSecretConfig !== undefined) configs.push(v.value.validationContextSdsSecretConfig);
  return configs.filter((c) => c.sdsConfig?.configSourceSpecifier.case === 'ads').map((c) => c.name);
}

/** The server's field (`tls.credentialName`, `tls.credentialNames[1]`, `tls.caCertCredentialName`) that yields `resourceName`. */
function credentialField(tls: ServerTLSSettings, resourceName: string): string {
  const fields: [string, string][] = [];
  if ((tls.caCertCredentialName ?? '') !== '') fields.push(['tls.caCertCredentialName', tls.caCertCredentialName ?? '']);
  (tls.credentialNames ?? []).forEach((n, i) => fields.push([`tls.credentialNames[${i}]`, n]));
  if ((tls.credentialName ?? '') !== '') fields.push(['tls.credentialName', tls.credentialName ?? '']);
  for (const [field, value] of fields) if (credentialSecretConfig(value).name === resourceName) return field;
  for (const [field, value] of fields) if (credentialSecretConfig(value + SDS_CA_SUFFIX).name === resourceName) return field;
  return 'tls';
}

function serverLabel(s: Server): string {
  return `server ${s.port.number} ${JSON.stringify(s.port.name)}`;
}

/** References from the Gateway servers a router serves (those mergeGateways kept). */
export function gatewayCredentialRefs(ctx: ProxyContext): CredentialRef[] {
  if (ctx.proxy.type !== 'router' || ctx.gateways.length === 0) return [];
  const merged = mergeGateways(ctx.gateways, ctx.snapshot.serviceTargets(ctx.scope));
  // Merged servers are the Gateway's own objects or copies with other hosts; both keep the `tls` object.
  const served = new Set<ServerTLSSettings>();
  for (const ms of merged.mergedServers.values()) for (const s of ms.servers) if (s.tls !== undefined) served.add(s.tls);
  const out: CredentialRef[] = [];
  for (const gw of ctx.gateways) {
    gw.servers.forEach((server, i) => {
      const tls = server.tls;
      if (tls === undefined || !served.has(tls)) return;
      for (const name of adsSecretNames(buildGatewayTlsContext(server)?.commonTlsContext)) {
        out.push({
          resourceName: name,
          path: `Gateway ${gw.key} spec.servers[${i}].${credentialField(tls, name)}`,
          origin: `${serverLabel(server)} of Gateway ${gw.key}`,
          configNamespace: gw.namespace,
        });
      }
    });
  }
  return out;
}

function upstreamCommon(socket: TransportSocket | undefined): CommonTlsContext | undefined {
  const any = socket?.configType.case === 'typedConfig' ? socket.configType.value : undefined;
  if (any === undefined || !anyIs(any, UpstreamTlsContextSchema)) return undefined;
  return anyUnpack(any, UpstreamTlsContextSchema)?.commonTlsContext;
}

/** `DestinationRule ns/name` from the cluster's `istio.config` metadata, else the cluster itself. */
function clusterOwner(c: Cluster): { path: string; namespace: string } {
  const config = c.metadata?.filterMetadata[ISTIO_METADATA_KEY]?.['config'];
  const m = typeof config === 'string' ? /^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)\/destination-rule\/([^/]+)$/.exec(config) : null;
  if (m !== null) return { path: `DestinationRule ${m[1] ?? ''}/${m[2] ?? ''}`, namespace: m[1] ?? '' };
  return { path: `Cluster ${c.name}`, namespace: '' };
}

/**
 * The references of one cluster, computed once per Cluster object: clusters are shared between proxies
 * and never mutated once built (translate/memo.ts), and unpacking every TLS context per proxy was most of
 * a router's secret translation.
 */
const refsOfCluster = new WeakMap<Cluster, readonly CredentialRef[]>();

function credentialRefsOf(c: Cluster): readonly CredentialRef[] {
  let refs = refsOfCluster.get(c);
  if (refs === undefined) {
    const sockets = [c.transportSocket, ...c.transportSocketMatches.map((m) => m.transportSocket)];
    const names = new Set(sockets.flatMap((s) => adsSecretNames(upstreamCommon(s))));
    const owner = names.size === 0 ? undefined : clusterOwner(c);
    refs = owner === undefined ? [] : [...names].map((name) => ({ resourceName: name, path: owner.path, origin: `cluster ${c.name}`, configNamespace: owner.namespace }));
    refsOfCluster.set(c, refs);
  }
  return refs;
}

/** References from the upstream TLS of `clusters` (DestinationRule credentialName). */
export function clusterCredentialRefs(clusters: readonly Cluster[]): CredentialRef[] {
  return clusters.flatMap((c) => credentialRefsOf(c));
}
