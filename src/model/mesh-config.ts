// MeshConfig: the mesh-wide settings istiod reads from its `istio` ConfigMap, reduced to those Isthmus
// uses, with Istio's defaults (pkg/config/mesh/mesh.go DefaultMeshConfig), and parseMeshConfig, which reads
// the user's mesh config document (Istio's field names) with every problem named by its field path.
// extensionProviders and defaultProviders (ext_authz, tracing, access logging, prometheus) are read in
// mesh-providers.ts, the field readers are in mesh-config-reader.ts.

import { error, type Result } from '../lib/issue.js';
import { isObj, Reader } from './mesh-config-reader.js';
import {
  BUILTIN_ENVOY_ACCESS_LOG,
  prometheusProviderNames,
  readAccessLogProviders,
  readDefaultProviders,
  readProviders,
  type AccessLogProvider,
  type DefaultProviders,
  type ExtensionProvider,
} from './mesh-providers.js';

export {
  BUILTIN_ENVOY_ACCESS_LOG,
  UNSUPPORTED_ACCESS_LOG_KINDS,
  type AccessLogProvider,
  type DefaultProviders,
  type ExtAuthzGrpcProvider,
  type ExtAuthzHttpProvider,
  type ExtAuthzRequestBody,
  type ExtensionProvider,
  type FileAccessLogFormat,
  type FileAccessLogProvider,
  type OpenTelemetryTracingProvider,
  type TracingHttpHeader,
  type UnsupportedAccessLogKind,
  type ZipkinTracingProvider,
} from './mesh-providers.js';

export type OutboundTrafficPolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface MeshConfig {
  /** Where mesh-wide config lives (Istio's `istio-system`). */
  readonly rootNamespace: string;
  readonly trustDomain: string;
  /**
   * Other trust domains the mesh's identities may carry (a trust domain migration): AuthorizationPolicy
   * principals, the SANs a client expects of a server and the client certificates a server accepts cover them too.
   */
  readonly trustDomainAliases: readonly string[];
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
  /** Named extension providers (ext_authz for CUSTOM AuthorizationPolicies); absent = none. */
  readonly extensionProviders?: readonly ExtensionProvider[];
  /** Providers used when no Telemetry names one (meshConfig.defaultProviders); absent = none. */
  readonly defaultProviders?: DefaultProviders;
  /** Names of the extension providers of type `prometheus` (istio.stats filters); absent = none. */
  readonly prometheusProviders?: readonly string[];
  /** The access-log extension providers, the built-in `envoy` included unless redefined; absent = none. */
  readonly accessLogProviders?: readonly AccessLogProvider[];
  /** pathNormalization.normalization: how the proxies' connection managers normalize request paths (DEFAULT is BASE). */
  readonly pathNormalization: PathNormalizationMode;
}

/** MeshConfig.ProxyPathNormalization.NormalizationType. */
export type PathNormalizationMode = 'DEFAULT' | 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
const PATH_NORMALIZATION_MODES: readonly PathNormalizationMode[] = ['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];

/** meshConfig.defaultProviders, the parts Isthmus uses. */

export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  trustDomainAliases: [],
  domainSuffix: 'cluster.local',
  outboundTrafficPolicy: 'ALLOW_ANY',
  connectTimeoutMs: 10_000,
  enableAutoMtls: true,
  ingressSelector: 'ingressgateway',
  gatewayControllerName: 'istio.io/gateway-controller',
  accessLogFile: '',
  accessLogEncoding: 'TEXT',
  accessLogFormat: '',
  extensionProviders: Object.freeze([]),
  // Istio's installation (istio-discovery configmap.yaml) sets defaultProviders.metrics: [prometheus], and its
  // DefaultMeshConfig declares the `prometheus` provider.
  defaultProviders: Object.freeze({ metrics: Object.freeze(['prometheus']) }),
  prometheusProviders: Object.freeze(['prometheus']),
  accessLogProviders: Object.freeze([BUILTIN_ENVOY_ACCESS_LOG]),
  pathNormalization: 'DEFAULT',
});

// ---- parsing the user's mesh config document

/**
 * The user's mesh config (Istio's MeshConfig field names, from YAML or JSON) over Istio's defaults. Fields
 * Isthmus does not use are ignored; every problem is reported with its field path.
 */
export function parseMeshConfig(input: unknown): Result<MeshConfig> {
  if (input === undefined || input === null) return { ok: true, value: DEFAULT_MESH_CONFIG, warnings: [] };
  if (!isObj(input)) return { ok: false, issues: [error('', 'mesh config must be an object')] };
  const r = new Reader();
  const d = DEFAULT_MESH_CONFIG;
  const otp = input['outboundTrafficPolicy'];
  let outbound: OutboundTrafficPolicyMode = d.outboundTrafficPolicy;
  if (isObj(otp)) {
    const m = r.str(otp, 'mode', 'outboundTrafficPolicy', outbound);
    if (m === 'ALLOW_ANY' || m === 'REGISTRY_ONLY') outbound = m;
    else r.issues.push(error('outboundTrafficPolicy.mode', `must be ALLOW_ANY or REGISTRY_ONLY, found ${JSON.stringify(m)}`));
  }
  let pathNormalization = d.pathNormalization;
  const pn = input['pathNormalization'];
  if (isObj(pn)) {
    const m = r.str(pn, 'normalization', 'pathNormalization', pathNormalization);
    if ((PATH_NORMALIZATION_MODES as readonly string[]).includes(m)) pathNormalization = m as PathNormalizationMode;
    else r.issues.push(error('pathNormalization.normalization', `must be one of ${PATH_NORMALIZATION_MODES.join(', ')}, found ${JSON.stringify(m)}`));
  }
  const enc = r.str(input, 'accessLogEncoding', '', d.accessLogEncoding);
  if (enc !== 'TEXT' && enc !== 'JSON') r.issues.push(error('accessLogEncoding', `must be TEXT or JSON, found ${JSON.stringify(enc)}`));
  const value: MeshConfig = Object.freeze({
    rootNamespace: r.str(input, 'rootNamespace', '', d.rootNamespace),
    trustDomain: r.str(input, 'trustDomain', '', d.trustDomain),
    trustDomainAliases: Object.freeze(r.strings(input, 'trustDomainAliases', '')),
    domainSuffix: r.str(input, 'domainSuffix', '', d.domainSuffix),
    outboundTrafficPolicy: outbound,
    connectTimeoutMs: r.duration(input, 'connectTimeout', '') ?? d.connectTimeoutMs,
    enableAutoMtls: r.bool(input, 'enableAutoMtls', '', d.enableAutoMtls),
    ingressSelector: r.str(input, 'ingressSelector', '', d.ingressSelector),
    gatewayControllerName: d.gatewayControllerName,
    accessLogFile: r.str(input, 'accessLogFile', '', d.accessLogFile),
    accessLogEncoding: enc === 'JSON' ? 'JSON' : 'TEXT',
    accessLogFormat: r.str(input, 'accessLogFormat', '', d.accessLogFormat),
    extensionProviders: Object.freeze(readProviders(r, input['extensionProviders'], 'extensionProviders')),
    defaultProviders: readDefaultProviders(r, input['defaultProviders'], d.defaultProviders ?? { metrics: [] }),
    prometheusProviders: prometheusProviderNames(r, input['extensionProviders'], d.prometheusProviders ?? []),
    accessLogProviders: readAccessLogProviders(r, input['extensionProviders'], d.accessLogProviders ?? []),
    pathNormalization,
  });
  return r.issues.length > 0 ? { ok: false, issues: r.issues } : { ok: true, value, warnings: [] };
}
