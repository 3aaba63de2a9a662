// MeshConfig: the mesh-wide settings istiod reads from its `istio` ConfigMap, reduced to those Isthmus
// uses, with Istio's defaults (pkg/config/mesh/mesh.go DefaultMeshConfig).

export type OutboundTrafficPolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface MeshConfig {
  /** Where mesh-wide config lives (Istio's `istio-system`). */
  readonly rootNamespace: string;
  readonly trustDomain: string;
  /** Cluster DNS suffix: `cluster.local`. */
  readonly domainSuffix: string;
  readonly outboundTrafficPolicy: OutboundTrafficPolicyMode;
  /** Upstream connect timeout (DefaultMeshConfig ConnectTimeout: 10s). */
  readonly connectTimeoutMs: number;
  /** Automatic mTLS to workloads that have a sidecar when no DestinationRule sets TLS (enableAutoMtls). */
  readonly enableAutoMtls: boolean;
  /** Ingress class / gateway label Istio uses for `istio: ingressgateway`. */
  readonly ingressSelector: string;
  /** Gateway API controller name Isthmus implements (`istio.io/gateway-controller`). */
  readonly gatewayControllerName: string;
  /** Where proxies write access logs ('' = none; `/dev/stdout` is Istio's usual choice). */
  readonly accessLogFile: string;
  readonly accessLogEncoding: 'TEXT' | 'JSON';
  /** A custom Envoy format string ('' = Istio's default for the encoding). */
  readonly accessLogFormat: string;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  domainSuffix: 'cluster.local',
  outboundTrafficPolicy: 'ALLOW_ANY',
  connectTimeoutMs: 10_000,
  enableAutoMtls: true,
  ingressSelector: 'ingressgateway',
  gatewayControllerName: 'istio.io/gateway-controller',
  accessLogFile: '',
  accessLogEncoding: 'TEXT',
  accessLogFormat: '',
});
