// Istio's resource annotations: name, maturity, deprecation and the kinds each may be applied to.
// Transcribed from istio/api annotation/annotations.yaml (via annotation.AllResourceAnnotations()); the
// `resources` order is Istio's, since IST0107 prints it ("can only be applied to GatewayClass, Gateway").

export type FeatureStatus = 'Alpha' | 'Beta' | 'Stable' | undefined;

export interface AnnotationDef {
  readonly name: string;
  readonly status: FeatureStatus;
  readonly deprecated: boolean;
  /** Kinds the annotation applies to; `Any` means every kind. */
  readonly resources: readonly string[];
}

export const ISTIO_ANNOTATIONS: readonly AnnotationDef[] = [
  { name: 'alpha.istio.io/canonical-serviceaccounts', status: 'Alpha', deprecated: true, resources: ['Service'] },
  { name: 'alpha.istio.io/kubernetes-serviceaccounts', status: 'Alpha', deprecated: true, resources: ['Service'] },
  { name: 'ambient.istio.io/bypass-inbound-capture', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'ambient.istio.io/dns-capture', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'ambient.istio.io/redirection', status: 'Beta', deprecated: false, resources: ['Pod'] },
  { name: 'ambient.istio.io/waypoint-inbound-binding', status: 'Alpha', deprecated: false, resources: ['GatewayClass', 'Gateway'] },
  { name: 'galley.istio.io/analyze-suppress', status: 'Alpha', deprecated: false, resources: ['Any'] },
  { name: 'gateway.istio.io/controller-version', status: 'Alpha', deprecated: false, resources: ['Any'] },
  { name: 'gateway.istio.io/name-override', status: 'Alpha', deprecated: false, resources: ['Gateway'] },
  { name: 'gateway.istio.io/service-account', status: 'Alpha', deprecated: false, resources: ['Gateway'] },
  { name: 'inject.istio.io/templates', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'istio.io/autoRegistrationGroup', status: 'Alpha', deprecated: false, resources: ['WorkloadEntry'] },
  { name: 'istio.io/connectedAt', status: 'Alpha', deprecated: false, resources: ['WorkloadEntry'] },
  { name: 'istio.io/disconnectedAt', status: 'Alpha', deprecated: false, resources: ['WorkloadEntry'] },
  { name: 'istio.io/dry-run', status: 'Alpha', deprecated: false, resources: ['AuthorizationPolicy'] },
  { name: 'istio.io/reroute-virtual-interfaces', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'istio.io/rev', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'istio.io/use-waypoint-canary-weight', status: 'Alpha', deprecated: false, resources: ['Service', 'ServiceEntry', 'Namespace'] },
  { name: 'istio.io/workloadController', status: 'Alpha', deprecated: false, resources: ['WorkloadEntry'] },
  { name: 'kubernetes.io/ingress.class', status: 'Stable', deprecated: false, resources: ['Ingress'] },
  { name: 'networking.istio.io/exportTo', status: 'Alpha', deprecated: false, resources: ['Service'] },
  { name: 'networking.istio.io/service-type', status: 'Alpha', deprecated: false, resources: ['Gateway'] },
  { name: 'networking.istio.io/traffic-distribution', status: 'Alpha', deprecated: false, resources: ['Namespace', 'Service', 'ServiceEntry'] },
  { name: 'prometheus.istio.io/merge-metrics', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'proxy.istio.io/config', status: 'Beta', deprecated: false, resources: ['Pod'] },
  { name: 'proxy.istio.io/overrides', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'readiness.status.sidecar.istio.io/applicationPorts', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'readiness.status.sidecar.istio.io/failureThreshold', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'readiness.status.sidecar.istio.io/initialDelaySeconds', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'readiness.status.sidecar.istio.io/periodSeconds', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/agentLogLevel', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/bootstrapOverride', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/componentLogLevel', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/discoveryAddress', status: 'Alpha', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/extraStatTags', status: 'Alpha', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/inject', status: 'Beta', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/interceptionMode', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/logLevel', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/nativeSidecar', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/proxyCPU', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/proxyCPULimit', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/proxyImage', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/proxyImageType', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/proxyMemory', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/proxyMemoryLimit', status: undefined, deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/rewriteAppHTTPProbers', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsCompression', status: 'Alpha', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsEvictionInterval', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsFlushInterval', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsHistogramBins', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsHistogramBuckets', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsInclusionPrefixes', status: 'Alpha', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsInclusionRegexps', status: 'Alpha', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/statsInclusionSuffixes', status: 'Alpha', deprecated: true, resources: ['Pod'] },
  { name: 'sidecar.istio.io/status', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/userVolume', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'sidecar.istio.io/userVolumeMount', status: undefined, deprecated: false, resources: ['Pod'] },
  { name: 'status.sidecar.istio.io/port', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'topology.istio.io/controlPlaneClusters', status: 'Alpha', deprecated: false, resources: ['Namespace'] },
  { name: 'traffic.istio.io/nodeSelector', status: 'Stable', deprecated: false, resources: ['Service'] },
  { name: 'traffic.sidecar.istio.io/excludeInboundPorts', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/excludeInterfaces', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/excludeOutboundIPRanges', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/excludeOutboundPorts', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/includeInboundPorts', status: undefined, deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/includeOutboundIPRanges', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/includeOutboundPorts', status: 'Alpha', deprecated: false, resources: ['Pod'] },
  { name: 'traffic.sidecar.istio.io/kubevirtInterfaces', status: 'Alpha', deprecated: true, resources: ['Pod'] },
];

const BY_NAME = new Map(ISTIO_ANNOTATIONS.map((a) => [a.name, a]));

export function lookupAnnotation(name: string): AnnotationDef | undefined {
  return BY_NAME.get(name);
}

/** Istio's istioAnnotation(): the prefix before the first `/` ends in `istio.io`, or kubernetes.io/ingress.class. */
export function isIstioAnnotation(name: string): boolean {
  if (name === 'kubernetes.io/ingress.class') return true;
  const prefix = name.split('/')[0] ?? '';
  return prefix.endsWith('istio.io');
}

/** Set by Istio itself, never reported (maturity.AlwaysIgnoredAnnotations). */
export const ALWAYS_IGNORED_ANNOTATIONS: ReadonlySet<string> = new Set([
  'sidecar.istio.io/status',
  'gateway.istio.io/controller-version',
  'istio.io/rev',
]);
