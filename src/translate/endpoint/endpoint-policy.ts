// What a DestinationRule says about the endpoints of one cluster (service port + subset), as Istio's
// EndpointBuilder derives it (pilot/pkg/xds/endpoints/endpoint_builder.go and mtls_checker.go): the subset's
// labels, the merged traffic policy (for locality failover and unhealthy-endpoint handling) and the TLS mode
// that decides whether endpoints keep their `tlsMode: istio` transport-socket metadata.

import { subsetTrafficPolicy, type ClientTLSMode, type DestinationRuleSpec, type TrafficPolicy } from '../../api/networking/destination-rule.js';
import type { PilotFeatures } from '../../model/pilot-features.js';
import type { Labels, Service } from '../../registry/types.js';

/** Istio's PILOT_DRAINING_LABEL: an endpoint carrying it is sent as DRAINING. */
export const DRAINING_LABEL = 'istio.io/draining';

/** getSubSetLabels: the subset's labels, or undefined (all endpoints) for no subset, an unknown one or empty labels. */
export function subsetLabels(dr: DestinationRuleSpec | undefined, subset: string | undefined): Labels | undefined {
  if (subset === undefined || subset === '' || dr === undefined) return undefined;
  const labels = dr.subsets?.find((s) => s.name === subset)?.labels;
  return labels === undefined || Object.keys(labels).length === 0 ? undefined : labels;
}

/** getSubsetTrafficPolicy: the DR policy for the port, overridden by the subset's (MergeSubsetTrafficPolicy). */
export function clusterTrafficPolicy(dr: DestinationRuleSpec | undefined, subset: string | undefined, port: number): TrafficPolicy | undefined {
  if (dr === undefined) return undefined;
  return subsetTrafficPolicy(dr, subset === '' ? undefined : subset, port);
}

function tlsModeForPort(tp: TrafficPolicy | undefined, port: number): ClientTLSMode | undefined {
  if (tp === undefined) return undefined;
  let mode = tp.tls !== undefined ? (tp.tls.mode ?? 'DISABLE') : undefined;
  const pl = (tp.portLevelSettings ?? []).find((p) => (p.port?.number ?? 0) === port && p.tls !== undefined);
  if (pl?.tls !== undefined) mode = pl.tls.mode ?? 'DISABLE';
  return mode;
}

/**
 * mtls_checker tlsModeForDestinationRule: the TLS mode the rule sets for this cluster, or undefined. A
 * subset without a mode for the port falls back to the rule's top-level mode.
 */
export function destinationRuleTlsMode(dr: DestinationRuleSpec | undefined, subset: string | undefined, port: number): ClientTLSMode | undefined {
  if (dr === undefined) return undefined;
  if (subset === undefined || subset === '') return tlsModeForPort(dr.trafficPolicy, port);
  const s = dr.subsets?.find((x) => x.name === subset);
  if (s === undefined) return undefined;
  return tlsModeForPort(s.trafficPolicy, port) ?? tlsModeForPort(dr.trafficPolicy, port);
}

/**
 * supportsUnhealthyEndpoints with Istio's default PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS=true: unhealthy
 * endpoints are sent (Envoy and gRPC skip them when balancing) unless outlier detection sets
 * minHealthPercent > 0, whose panic mode would otherwise route to them.
 */
export function sendsUnhealthyEndpoints(policy: TrafficPolicy | undefined): boolean {
  return !((policy?.outlierDetection?.minHealthPercent ?? 0) > 0);
}

/**
 * Service.SupportsDrainingEndpoints (pilot/pkg/model/service.go): the service carries a non-empty
 * PILOT_PERSISTENT_SESSION_LABEL or PILOT_PERSISTENT_SESSION_HEADER_LABEL label, so its DRAINING endpoints stay
 * in EDS. It depends on the label names only, not on PILOT_ENABLE_PERSISTENT_SESSION_FILTER; a label name set
 * to '' turns that kind off.
 */
export function sendsDrainingEndpoints(features: PilotFeatures, service: Service): boolean {
  const has = (label: string): boolean => label !== '' && Object.hasOwn(service.labels, label) && (service.labels[label] ?? '') !== '';
  return has(features.persistentSessionLabel) || has(features.persistentSessionHeaderLabel);
}
