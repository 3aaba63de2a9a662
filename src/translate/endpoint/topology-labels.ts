// Istio's synthetic topology labels and telemetry names for endpoints and proxies. Istio augments the labels
// of every endpoint and of the proxy with its locality, cluster and network
// (pilot/pkg/serviceregistry/util/label AugmentLabels) before failoverPriority compares them, and stamps
// each endpoint with a compressed workload identity for telemetry
// (pilot/pkg/networking/util AppendLbEndpointMetadata, pkg/kube/labels CanonicalService).

import type { Proxy } from '../../model/proxy.js';
import type { Endpoint, Labels, Locality } from '../../registry/types.js';

export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_SUBZONE = 'topology.istio.io/subzone';
export const LABEL_CLUSTER = 'topology.istio.io/cluster';
export const LABEL_NETWORK = 'topology.istio.io/network';

/** Istio's default cluster id (istiod's CLUSTER_ID), which every endpoint of this single-cluster mesh carries. */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

/** AugmentLabels: a copy of `labels` plus the non-empty locality parts, the cluster id and (if unset) the network. */
export function augmentLabels(labels: Labels, locality: Locality, clusterId: string, network: string): Labels {
  const out: Record<string, string> = { ...labels };
  if (locality.region !== '') out[LABEL_REGION] = locality.region;
  if (locality.zone !== '') out[LABEL_ZONE] = locality.zone;
  if (locality.subZone !== '') out[LABEL_SUBZONE] = locality.subZone;
  if (clusterId !== '') out[LABEL_CLUSTER] = clusterId;
  if (network !== '' && (out[LABEL_NETWORK] ?? '') === '') out[LABEL_NETWORK] = network;
  return out;
}

/** `region/zone/subzone` as Istio keys and sorts localities by (the raw locality label). */
export function localityKey(l: Locality): string {
  return `${l.region}/${l.zone}/${l.subZone}`;
}

const NAME_LABELS = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'];
const REVISION_LABELS = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'];

function firstLabel(labels: Labels, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = labels[k];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** CanonicalService: name (falling back to the workload name) and revision (falling back to `latest`). */
export function canonicalService(labels: Labels, workloadName: string): { name: string; revision: string } {
  return { name: firstLabel(labels, NAME_LABELS) ?? workloadName, revision: firstLabel(labels, REVISION_LABELS) ?? 'latest' };
}

/** `workload;namespace;canonical-name;canonical-revision;cluster`, the revision left empty when it is `latest`. */
export function workloadTelemetryLabel(labels: Labels, workloadName: string, namespace: string, clusterId: string): string {
  const cs = canonicalService(labels, workloadName);
  const revision = cs.revision === 'latest' ? '' : cs.revision;
  return `${workloadName};${namespace};${cs.name};${revision};${clusterId}`;
}

function metadataString(md: Readonly<Record<string, unknown>>, key: string): string {
  const v = md[key];
  return typeof v === 'string' ? v : '';
}

/** The proxy as locality load balancing sees it: its locality and labels augmented like Istio's proxy labels. */
export function proxyLocalityView(proxy: Proxy): { locality: Locality; labels: Labels } {
  const clusterId = metadataString(proxy.metadata, 'CLUSTER_ID') || DEFAULT_CLUSTER_ID;
  return { locality: proxy.locality, labels: augmentLabels(proxy.labels, proxy.locality, clusterId, metadataString(proxy.metadata, 'NETWORK')) };
}

/** An endpoint's labels as failoverPriority compares them. */
export function endpointTopologyLabels(ep: Endpoint): Labels {
  return augmentLabels(ep.labels, ep.locality, DEFAULT_CLUSTER_ID, ep.network);
}

const usesFailoverPriority = new WeakMap<object, boolean>();

/**
 * The part of a proxy's locality view that locality load balancing can read, as a cache key: its
 * locality, plus its labels only when the DestinationRule ranks endpoints by labels (failoverPriority).
 */
export function localityViewerKey(ctx: { readonly proxy: Proxy }, dr: { readonly spec: object } | undefined): string {
  const v = proxyLocalityView(ctx.proxy);
  const loc = `${v.locality.region}/${v.locality.zone}/${v.locality.subZone}`;
  if (dr === undefined) return loc;
  let uses = usesFailoverPriority.get(dr);
  if (uses === undefined) {
    uses = JSON.stringify(dr.spec).includes('"failoverPriority"');
    usesFailoverPriority.set(dr, uses);
  }
  return uses ? `${loc}|${JSON.stringify(Object.entries(v.labels).sort())}` : loc;
}

/** What a proxy's IPs decide about DNS lookups: v6 when it has only IPv6 addresses. */
export function ipFamilyKey(ips: readonly string[]): string {
  return ips.length > 0 && ips.every((ip) => ip.includes(':')) ? 'v6' : 'v4';
}
