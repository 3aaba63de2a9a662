// The config of Istio's TCP metadata exchange filter (`istio.metadata_exchange` as a network filter on listener
// chains and as an upstream filter on clusters; envoy.tcp.metadataexchange.config.MetadataExchange in a
// TypedStruct, istio/proxy source/extensions/filters/network/metadata_exchange/config/metadata_exchange.proto):
// the ALPN protocol that turns the exchange on. `enable_discovery` (peers looked up in istiod's workload
// discovery service when the exchange does not happen) finds nothing here, as on a sidecar without ambient's
// WDS. `additional_labels` (extra pod labels carried in the exchange) is refused: the proxy would silently send
// and read fewer labels than asked.

import type { JsonObject } from '@bufbuild/protobuf';

export const PEER_EXCHANGE_FILTER_TYPE = 'envoy.tcp.metadataexchange.config.MetadataExchange';

export interface PeerExchangeConfig {
  /** The ALPN protocol the connection must have negotiated (Istio: `istio-peer-exchange`). */
  readonly protocol: string;
}

const KNOWN = new Set(['protocol', 'enable_discovery', 'enableDiscovery', 'additional_labels', 'additionalLabels']);

/** Compiles the TypedStruct's value; problems name `path` and the field. */
export function compilePeerExchangeConfig(value: JsonObject, path: string, problems: string[]): PeerExchangeConfig {
  const protocol = value['protocol'];
  if (typeof protocol !== 'string' || protocol === '') problems.push(`${path}.protocol: must be a non-empty string (the ALPN protocol of the exchange, istio-peer-exchange)`);
  const discovery = value['enable_discovery'] ?? value['enableDiscovery'];
  if (discovery !== undefined && discovery !== null && typeof discovery !== 'boolean') problems.push(`${path}.enable_discovery: must be a boolean`);
  const labels = value['additional_labels'] ?? value['additionalLabels'];
  if (labels !== undefined && labels !== null) {
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) problems.push(`${path}.additional_labels: must be a list of strings`);
    else if (labels.length > 0) problems.push(`${path}.additional_labels: exchanging additional labels is not supported`);
  }
  for (const k of Object.keys(value)) if (!KNOWN.has(k)) problems.push(`${path}.${k}: unknown field of ${PEER_EXCHANGE_FILTER_TYPE}`);
  return { protocol: typeof protocol === 'string' ? protocol : '' };
}
