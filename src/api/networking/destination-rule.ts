// networking.istio.io DestinationRule: schema, Istio's validation (ValidateDestinationRule and the
// traffic-policy helpers in istio/istio pkg/config/validation/validation.go, ValidateTLS in
// pkg/config/validation/agent/validation.go, plus the CRD rules generated from destination_rule.proto
// markers), and pure helpers giving the values Istio uses when a field is unset, for the translation to
// proxy configuration. The traffic policy's load balancer lives in load-balancer.ts and its connection
// pool in connection-pool.ts (Sidecar shares the latter).

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { exportToIssues, workloadSelectorIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind, type ValidationContext } from '../kind.js';
import type { Resource } from '../resource.js';
import { durationString, enumOf, int32, obj, stringMap, uint32, z } from '../schema.js';
import { durationIssues, fqdnErrors, ipAddressErrors, percentErrors, plainDurationErrors, portErrors, wildcardDomainErrors } from '../validation/common.js';
import { isIstioDns1123Label, istioLabelsIssues } from '../validation/istio-labels.js';
import { connectionPoolIssues, ConnectionPoolSettingsSchema } from './connection-pool.js';
import { loadBalancerIssues, LoadBalancerSettingsSchema } from './load-balancer.js';

// ---------------------------------------------------------------------------------------------------
// Schemas (istio/api networking/v1alpha3/destination_rule.proto)

/** istio.networking.v1alpha3.PortSelector */
const PortSelectorSchema = obj({ number: uint32.optional() });


export const OutlierDetectionSchema = obj({
  /** Deprecated: use consecutiveGatewayErrors or consecutive5xxErrors. */
  consecutiveErrors: int32.optional(),
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: uint32.optional(),
  consecutiveGatewayErrors: uint32.optional(),
  consecutive5xxErrors: uint32.optional(),
  interval: durationString.optional(),
  baseEjectionTime: durationString.optional(),
  maxEjectionPercent: int32.optional(),
  minHealthPercent: int32.optional(),
  /** istio/api master (1.31-dev); each code 100..599 (CRD). */
  outlierDetectionHttpErrorCodes: z.array(uint32.min(100).max(599)).optional(),
});
export type OutlierDetection = z.infer<typeof OutlierDetectionSchema>;

export const CLIENT_TLS_MODES = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const;
export type ClientTLSMode = (typeof CLIENT_TLS_MODES)[number];

export const ClientTLSSettingsSchema = obj({
  mode: enumOf(CLIENT_TLS_MODES).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: z.array(z.string()).optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});
export type ClientTLSSettings = z.infer<typeof ClientTLSSettingsSchema>;

export const PortTrafficPolicySchema = obj({
  port: PortSelectorSchema.optional(),
  loadBalancer: LoadBalancerSettingsSchema.optional(),
  connectionPool: ConnectionPoolSettingsSchema.optional(),
  outlierDetection: OutlierDetectionSchema.optional(),
  tls: ClientTLSSettingsSchema.optional(),
});
export type PortTrafficPolicy = z.infer<typeof PortTrafficPolicySchema>;

export const TrafficPolicySchema = obj({
  loadBalancer: LoadBalancerSettingsSchema.optional(),
  connectionPool: ConnectionPoolSettingsSchema.optional(),
  outlierDetection: OutlierDetectionSchema.optional(),
  tls: ClientTLSSettingsSchema.optional(),
  portLevelSettings: z.array(PortTrafficPolicySchema).max(4096).optional(),
  tunnel: obj({ protocol: z.string().optional(), targetHost: z.string(), targetPort: uint32 }).optional(),
  proxyProtocol: obj({ version: enumOf(['V1', 'V2']).optional() }).optional(),
  retryBudget: obj({
    percent: z.number().min(0).max(100).optional(),
    minRetryConcurrency: uint32.optional(),
    /** istio/api master (1.31-dev). */
    budgetInterval: durationString.optional(),
  }).optional(),
});
export type TrafficPolicy = z.infer<typeof TrafficPolicySchema>;

export const SubsetSchema = obj({
  name: z.string(),
  labels: stringMap.optional(),
  trafficPolicy: TrafficPolicySchema.optional(),
});
export type Subset = z.infer<typeof SubsetSchema>;

export const DestinationRuleSpecSchema = obj({
  host: z.string(),
  trafficPolicy: TrafficPolicySchema.optional(),
  subsets: z.array(SubsetSchema).optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: WorkloadSelectorSchema.optional(),
});
export type DestinationRuleSpec = z.infer<typeof DestinationRuleSpecSchema>;

const BodySchema = obj({ spec: DestinationRuleSpecSchema, status: z.unknown().optional() });
export type DestinationRuleBody = z.infer<typeof BodySchema>;
export type DestinationRule = Resource<DestinationRuleBody>;

// ---------------------------------------------------------------------------------------------------
// Validation

/** Empty lists decode to nil in protobuf, so Istio treats `[]` as unset. */
function nonEmpty<T>(xs: readonly T[] | undefined): boolean {
  return xs !== undefined && xs.length > 0;
}

function outlierDetectionIssues(path: string, od: OutlierDetection | undefined): Issue[] {
  if (od === undefined) return [];
  const out: Issue[] = [];
  out.push(...durationIssues(at(path, 'baseEjectionTime'), od.baseEjectionTime));
  if ((od.consecutiveErrors ?? 0) !== 0)
    out.push(
      warning(
        at(path, 'consecutiveErrors'),
        'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead',
      ),
    );
  if (od.splitExternalLocalOriginErrors !== true && (od.consecutiveLocalOriginFailures ?? 0) > 0)
    out.push(
      error(
        at(path, 'consecutiveLocalOriginFailures'),
        'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
      ),
    );
  out.push(...durationIssues(at(path, 'interval'), od.interval));
  for (const m of percentErrors(od.maxEjectionPercent ?? 0)) out.push(error(at(path, 'maxEjectionPercent'), m));
  for (const m of percentErrors(od.minHealthPercent ?? 0)) out.push(error(at(path, 'minHealthPercent'), m));
  return out;
}

const CONFIGMAP_URI = 'configmap://';

/** agent.ValidateTLS (ClientTLSSettings). */
export function clientTlsIssues(path: string, namespace: string, tls: ClientTLSSettings | undefined): Issue[] {
  if (tls === undefined) return [];
  const out: Issue[] = [];
  const mode = tls.mode ?? 'DISABLE';
  const cred = tls.credentialName ?? '';
  const caCerts = tls.caCertificates ?? '';
  const hasSans = tls.subjectAltNames !== undefined && tls.subjectAltNames.length > 0;
  if (cred.startsWith(CONFIGMAP_URI)) {
    // credentials.ParseResourceName: configmap://namespace/name, namespace required.
    const split = cred.slice(CONFIGMAP_URI.length).split('/');
    const cp = at(path, 'credentialName');
    let parseErr: string | undefined;
    if (split.length <= 1) parseErr = `invalid resource name ${JSON.stringify(cred)}. Expected namespace and name`;
    else if (split[0] === '') parseErr = `invalid resource name ${JSON.stringify(cred)}. Expected namespace`;
    else if (split[1] === '') parseErr = `invalid resource name ${JSON.stringify(cred)}. Expected name`;
    if (parseErr !== undefined) out.push(error(cp, `invalid configmap:// credentialName: ${parseErr}`));
    else if (split[0] !== namespace || namespace === '')
      out.push(error(cp, `invalid configmap:// credentialName: namespace must match the configuration namespace ${JSON.stringify(namespace)}`));
  }
  if (tls.insecureSkipVerify === true) {
    if (mode === 'SIMPLE' && (caCerts !== '' || cred !== '' || hasSans))
      out.push(error(path, 'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true'));
    if (mode === 'MUTUAL' && (caCerts !== '' || hasSans))
      out.push(error(path, 'cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true'));
  }
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && cred !== '') {
    if ((tls.clientCertificate ?? '') !== '' || caCerts !== '' || (tls.privateKey ?? '') !== '' || (tls.caCrl ?? '') !== '')
      out.push(error(path, 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set'));
    return out;
  }
  if (mode === 'MUTUAL') {
    if ((tls.clientCertificate ?? '') === '') out.push(error(at(path, 'clientCertificate'), 'client certificate required for mutual tls'));
    if ((tls.privateKey ?? '') === '') out.push(error(at(path, 'privateKey'), 'private key required for mutual tls'));
  }
  return out;
}

function portTrafficPoliciesIssues(path: string, namespace: string, pls: readonly PortTrafficPolicy[] | undefined): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<number>();
  (pls ?? []).forEach((t, i) => {
    const p = at(path, i);
    if (t.port === undefined) out.push(error(p, 'portTrafficPolicy must have valid port'));
    else {
      // Not rejected by Istio; only the first setting for a port is used (GetPortLevelTrafficPolicy).
      const n = t.port.number ?? 0;
      if (seen.has(n)) out.push(warning(at(at(p, 'port'), 'number'), `port-level settings for port ${n} are duplicated; only the first applies`));
      seen.add(n);
    }
    if (t.outlierDetection === undefined && t.connectionPool === undefined && t.loadBalancer === undefined && t.tls === undefined) {
      out.push(error(p, 'port traffic policy must have at least one field'));
      return;
    }
    out.push(...outlierDetectionIssues(at(p, 'outlierDetection'), t.outlierDetection));
    out.push(...connectionPoolIssues(at(p, 'connectionPool'), t.connectionPool));
    out.push(...loadBalancerIssues(at(p, 'loadBalancer'), t.loadBalancer, t.outlierDetection !== undefined));
    out.push(...clientTlsIssues(at(p, 'tls'), namespace, t.tls));
  });
  return out;
}

function tunnelIssues(path: string, tunnel: TrafficPolicy['tunnel']): Issue[] {
  if (tunnel === undefined) return [];
  const out: Issue[] = [];
  const protocol = tunnel.protocol ?? '';
  if (protocol !== '' && protocol !== 'CONNECT' && protocol !== 'POST') out.push(error(at(path, 'protocol'), 'tunnel protocol must be "CONNECT" or "POST"'));
  const fqdn = fqdnErrors(tunnel.targetHost);
  const ip = ipAddressErrors(tunnel.targetHost);
  if (fqdn.length > 0 && ip.length > 0)
    out.push(error(at(path, 'targetHost'), `tunnel target host must be valid FQDN or IP address: ${fqdn.join('; ')}; ${ip.join('; ')}`));
  for (const m of portErrors(tunnel.targetPort)) out.push(error(at(path, 'targetPort'), `tunnel target port is invalid: ${m}`));
  return out;
}

/** validateTrafficPolicy, with its early returns. */
export function trafficPolicyIssues(path: string, namespace: string, tp: TrafficPolicy | undefined): Issue[] {
  if (tp === undefined) return [];
  if (
    tp.outlierDetection === undefined &&
    tp.connectionPool === undefined &&
    tp.loadBalancer === undefined &&
    tp.tls === undefined &&
    !nonEmpty(tp.portLevelSettings) &&
    tp.tunnel === undefined &&
    tp.proxyProtocol === undefined &&
    tp.retryBudget === undefined
  )
    return [error(path, 'traffic policy must have at least one field')];
  if (tp.tunnel !== undefined && tp.proxyProtocol !== undefined) return [error(path, 'tunnel and proxyProtocol must not be set together')];
  const out: Issue[] = [];
  out.push(...outlierDetectionIssues(at(path, 'outlierDetection'), tp.outlierDetection));
  out.push(...connectionPoolIssues(at(path, 'connectionPool'), tp.connectionPool));
  out.push(...loadBalancerIssues(at(path, 'loadBalancer'), tp.loadBalancer, tp.outlierDetection !== undefined));
  out.push(...clientTlsIssues(at(path, 'tls'), namespace, tp.tls));
  out.push(...portTrafficPoliciesIssues(at(path, 'portLevelSettings'), namespace, tp.portLevelSettings));
  out.push(...tunnelIssues(at(path, 'tunnel'), tp.tunnel));
  // retryBudget.budgetInterval is exempt from the CRD's 1ms rule (`0ms` is the default) but must parse.
  const bi = tp.retryBudget?.budgetInterval;
  if (bi !== undefined) for (const m of plainDurationErrors(bi)) out.push(error(at(at(path, 'retryBudget'), 'budgetInterval'), m));
  return out;
}

export function validateDestinationRule(r: DestinationRule, ctx: ValidationContext): Issue[] {
  const spec = r.spec;
  const namespace = ctx.namespace ?? r.metadata.namespace ?? 'default';
  const out: Issue[] = [];
  for (const m of wildcardDomainErrors(spec.host)) out.push(error('spec.host', m));
  out.push(...trafficPolicyIssues('spec.trafficPolicy', namespace, spec.trafficPolicy));
  const names = new Set<string>();
  (spec.subsets ?? []).forEach((s, i) => {
    const p = at('spec.subsets', i);
    if (names.has(s.name)) out.push(error(at(p, 'name'), `duplicate subset names: ${s.name}`));
    names.add(s.name);
    // validateSubsetName uses Istio's DNS-1123 label (upper case allowed).
    if (s.name === '') out.push(error(at(p, 'name'), 'subset name cannot be empty'));
    else if (!isIstioDns1123Label(s.name)) out.push(error(at(p, 'name'), `subset name is invalid: ${s.name}`));
    out.push(...istioLabelsIssues(at(p, 'labels'), s.labels));
    out.push(...trafficPolicyIssues(at(p, 'trafficPolicy'), namespace, s.trafficPolicy));
  });
  out.push(...exportToIssues('spec.exportTo', namespace, spec.exportTo, { isDestinationRuleWithSelector: spec.workloadSelector !== undefined }));
  out.push(...workloadSelectorIssues('spec.workloadSelector', spec.workloadSelector));
  return out;
}

export const DESTINATION_RULE = defineKind<DestinationRuleBody>({
  group: 'networking.istio.io',
  kind: 'DestinationRule',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateDestinationRule,
});

// ---------------------------------------------------------------------------------------------------
// Istio's defaults, for translation. Pure; each documents where the value comes from.

/**
 * Outlier detection values in effect when a DestinationRule sets `outlierDetection` but leaves fields out:
 * Envoy's defaults, which Istio keeps (pilot applyOutlierDetection; destination_rule.proto comments).
 * consecutiveGatewayErrors 0 means disabled (Envoy enforces gateway failures at 0% by default);
 * minHealthPercent 0 disables Envoy's panic threshold.
 */
export interface EffectiveOutlierDetection {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  splitExternalLocalOriginErrors: boolean;
  /** Go duration string. */
  interval: string;
  /** Go duration string. */
  baseEjectionTime: string;
  maxEjectionPercent: number;
  minHealthPercent: number;
}
export const outlierDetectionDefaults: Readonly<EffectiveOutlierDetection> = Object.freeze({
  consecutive5xxErrors: 5,
  consecutiveGatewayErrors: 0,
  consecutiveLocalOriginFailures: 5,
  splitExternalLocalOriginErrors: false,
  interval: '10s',
  baseEjectionTime: '30s',
  maxEjectionPercent: 10,
  minHealthPercent: 0,
});

/**
 * The outlier detection Istio programs for `od` (pilot/pkg/networking/core/cluster_traffic_policy.go
 * applyOutlierDetection), or undefined when none is configured (no ejection at all).
 * maxEjectionPercent and consecutiveLocalOriginFailures of 0 fall back to the default (Istio only sets
 * them when > 0); consecutive5xxErrors / consecutiveGatewayErrors of 0 disable that detector.
 */
export function effectiveOutlierDetection(od: OutlierDetection | undefined): EffectiveOutlierDetection | undefined {
  if (od === undefined) return undefined;
  const d = outlierDetectionDefaults;
  return {
    consecutive5xxErrors: od.consecutive5xxErrors ?? d.consecutive5xxErrors,
    consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? d.consecutiveGatewayErrors,
    consecutiveLocalOriginFailures: (od.consecutiveLocalOriginFailures ?? 0) > 0 ? (od.consecutiveLocalOriginFailures ?? 0) : d.consecutiveLocalOriginFailures,
    splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors ?? false,
    interval: od.interval ?? d.interval,
    baseEjectionTime: od.baseEjectionTime ?? d.baseEjectionTime,
    maxEjectionPercent: (od.maxEjectionPercent ?? 0) > 0 ? (od.maxEjectionPercent ?? 0) : d.maxEjectionPercent,
    minHealthPercent: Math.max(0, od.minHealthPercent ?? 0),
  };
}

/** Retry budget defaults (applyRetryBudget: 20%, minimum concurrency 3). */
export const retryBudgetDefaults = Object.freeze({ percent: 20, minRetryConcurrency: 3 });

/**
 * The policy for one port (GetPortLevelTrafficPolicy): the first port-level setting for `port` replaces
 * the whole destination-level policy (only loadBalancer, connectionPool, outlierDetection and tls are kept
 * from it; unset fields take defaults, nothing is inherited).
 */
export function portLevelTrafficPolicy(policy: TrafficPolicy | undefined, port: number | undefined): { policy: TrafficPolicy | undefined; portLevel: boolean } {
  if (port === undefined || policy === undefined) return { policy, portLevel: false };
  const pl = (policy.portLevelSettings ?? []).find((p) => p.port !== undefined && (p.port.number ?? 0) === port);
  if (pl === undefined) return { policy, portLevel: false };
  const { port: _port, ...rest } = pl;
  return { policy: rest, portLevel: true };
}

/**
 * The traffic policy Istio applies to a subset on a port (MergeSubsetTrafficPolicy / MergeTrafficPolicy):
 * the destination policy (port-level applied), then each subset field overrides; a subset port-level
 * setting overrides loadBalancer, connectionPool, outlierDetection and tls together, even when unset.
 */
export function subsetTrafficPolicy(spec: DestinationRuleSpec, subsetName: string | undefined, port?: number): TrafficPolicy | undefined {
  const original = portLevelTrafficPolicy(spec.trafficPolicy, port).policy;
  const subset = subsetName === undefined ? undefined : spec.subsets?.find((s) => s.name === subsetName);
  if (subset?.trafficPolicy === undefined) return original;
  const { policy: sp, portLevel } = portLevelTrafficPolicy(subset.trafficPolicy, port);
  if (original === undefined) return sp;
  if (sp === undefined) return original;
  const merged: TrafficPolicy = { ...original };
  const override = <K extends 'connectionPool' | 'outlierDetection' | 'loadBalancer' | 'tls'>(k: K): void => {
    if (sp[k] !== undefined || portLevel) {
      if (sp[k] === undefined) delete merged[k];
      else merged[k] = sp[k];
    }
  };
  override('connectionPool');
  override('outlierDetection');
  override('loadBalancer');
  override('tls');
  if (sp.tunnel !== undefined) merged.tunnel = sp.tunnel;
  if (sp.proxyProtocol !== undefined) merged.proxyProtocol = sp.proxyProtocol;
  if (sp.retryBudget !== undefined) merged.retryBudget = sp.retryBudget;
  return merged;
}
