// networking.istio.io DestinationRule: schema, Istio's validation (ValidateDestinationRule and the
// traffic-policy helpers in istio/istio pkg/config/validation/validation.go, ValidateTLS and
// ValidateLocalityLbSetting in pkg/config/validation/agent/validation.go, plus the CRD rules generated
// from destination_rule.proto markers), and pure helpers giving the values Istio uses when a field is
// unset, for the translation to proxy configuration.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { exportToIssues, onlyOneOf, workloadSelectorIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind, type ValidationContext } from '../kind.js';
import type { Resource } from '../resource.js';
import { durationString, enumOf, int32, obj, stringMap, uint32, z } from '../schema.js';
import { durationErrors, fqdnErrors, ipAddressErrors, percentErrors, plainDurationErrors, portErrors, wildcardDomainErrors } from '../validation/common.js';
import { parseGoDuration } from '../validation/duration.js';
import { isIstioDns1123Label } from './workload-common.js';
import { labelsIssues } from './workload-entry.js';

/** protobuf uint64 (ring and table sizes), as a JSON number. */
const uint64 = z.number().int().min(0);

// ---------------------------------------------------------------------------------------------------
// Schemas (istio/api networking/v1alpha3/destination_rule.proto)

/** istio.networking.v1alpha3.PortSelector */
const PortSelectorSchema = obj({ number: uint32.optional() });

const HttpCookieSchema = obj({
  name: z.string(),
  path: z.string().optional(),
  /** Zero or absent means a session cookie. */
  ttl: durationString.optional(),
  attributes: z.array(obj({ name: z.string(), value: z.string().optional() })).optional(),
});

export const ConsistentHashLBSchema = obj({
  // oneof hash_key
  httpHeaderName: z.string().optional(),
  httpCookie: HttpCookieSchema.optional(),
  useSourceIp: z.boolean().optional(),
  httpQueryParameterName: z.string().optional(),
  // oneof hash_algorithm
  ringHash: obj({ minimumRingSize: uint64.optional() }).optional(),
  maglev: obj({ tableSize: uint64.optional() }).optional(),
  /** Deprecated: use ringHash.minimumRingSize. */
  minimumRingSize: uint64.optional(),
});
export type ConsistentHashLB = z.infer<typeof ConsistentHashLBSchema>;

export const LocalityLoadBalancerSettingSchema = obj({
  distribute: z.array(obj({ from: z.string().optional(), to: z.record(z.string(), uint32).optional() })).optional(),
  failover: z.array(obj({ from: z.string().optional(), to: z.string().optional() })).optional(),
  failoverPriority: z.array(z.string()).optional(),
  enabled: z.boolean().optional(),
});
export type LocalityLoadBalancerSetting = z.infer<typeof LocalityLoadBalancerSettingSchema>;

/** Declared for completeness (istio/api master, 1.31-dev). */
export const ZoneAwareLoadBalancerSettingSchema = obj({
  enabled: z.boolean().optional(),
  failover: z.array(obj({ from: z.string().optional(), to: z.string().optional() })).optional(),
  failoverPriority: z.array(z.string()).optional(),
  minClusterSize: uint64.min(1).optional(),
});
export type ZoneAwareLoadBalancerSetting = z.infer<typeof ZoneAwareLoadBalancerSettingSchema>;

export const WarmupConfigurationSchema = obj({
  duration: durationString,
  minimumPercent: z.number().min(0).optional(),
  aggression: z.number().optional(),
});

export const SIMPLE_LBS = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;
export type SimpleLB = (typeof SIMPLE_LBS)[number];

export const LoadBalancerSettingsSchema = obj({
  // oneof lb_policy
  simple: enumOf(SIMPLE_LBS).optional(),
  consistentHash: ConsistentHashLBSchema.optional(),
  localityLbSetting: LocalityLoadBalancerSettingSchema.optional(),
  zoneAwareLbSetting: ZoneAwareLoadBalancerSettingSchema.optional(),
  /** Deprecated: use warmup. */
  warmupDurationSecs: durationString.optional(),
  warmup: WarmupConfigurationSchema.optional(),
});
export type LoadBalancerSettings = z.infer<typeof LoadBalancerSettingsSchema>;

export const H2_UPGRADE_POLICIES = ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const;

export const ConnectionPoolSettingsSchema = obj({
  tcp: obj({
    maxConnections: int32.optional(),
    connectTimeout: durationString.optional(),
    tcpKeepalive: obj({ probes: uint32.optional(), time: durationString.optional(), interval: durationString.optional() }).optional(),
    maxConnectionDuration: durationString.optional(),
    /** `0s` disables the timeout. */
    idleTimeout: durationString.optional(),
  }).optional(),
  http: obj({
    http1MaxPendingRequests: int32.optional(),
    http2MaxRequests: int32.optional(),
    maxRequestsPerConnection: int32.optional(),
    maxRetries: int32.optional(),
    idleTimeout: durationString.optional(),
    h2UpgradePolicy: enumOf(H2_UPGRADE_POLICIES).optional(),
    useClientProtocol: z.boolean().optional(),
    maxConcurrentStreams: int32.optional(),
    /** istio/api master (1.31-dev). */
    http2KeepAlive: obj({ interval: durationString.optional(), timeout: durationString.optional() }).optional(),
  }).optional(),
});
export type ConnectionPoolSettings = z.infer<typeof ConnectionPoolSettingsSchema>;

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

function durationIssues(path: string, d: string | undefined): Issue[] {
  return d === undefined ? [] : durationErrors(d).map((m) => error(path, m));
}

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

function connectionPoolIssues(path: string, cp: ConnectionPoolSettings | undefined): Issue[] {
  if (cp === undefined) return [];
  if (cp.http === undefined && cp.tcp === undefined) return [error(path, 'connection pool must have at least one field')];
  const out: Issue[] = [];
  const h = cp.http;
  if (h !== undefined) {
    const hp = at(path, 'http');
    const nonNegative: [keyof typeof h, string][] = [
      ['http1MaxPendingRequests', 'http1 max pending requests must be non-negative'],
      ['http2MaxRequests', 'http2 max requests must be non-negative'],
      ['maxRequestsPerConnection', 'max requests per connection must be non-negative'],
      ['maxRetries', 'max retries must be non-negative'],
    ];
    for (const [f, msg] of nonNegative) if (((h[f] as number | undefined) ?? 0) < 0) out.push(error(at(hp, f), msg));
    out.push(...durationIssues(at(hp, 'idleTimeout'), h.idleTimeout));
    if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol === true)
      out.push(error(at(hp, 'useClientProtocol'), 'use client protocol must not be true when H2UpgradePolicy is UPGRADE'));
    if ((h.maxConcurrentStreams ?? 0) < 0) out.push(error(at(hp, 'maxConcurrentStreams'), 'max concurrent streams must be non-negative'));
    const ka = h.http2KeepAlive;
    if (ka !== undefined) {
      const kp = at(hp, 'http2KeepAlive');
      if (ka.interval === undefined) out.push(error(at(kp, 'interval'), 'http2 keepalive interval is required'));
      else out.push(...durationIssues(at(kp, 'interval'), ka.interval));
      if (ka.timeout === undefined) out.push(error(at(kp, 'timeout'), 'http2 keepalive timeout is required'));
      else out.push(...durationIssues(at(kp, 'timeout'), ka.timeout));
    }
  }
  const t = cp.tcp;
  if (t !== undefined) {
    const tp = at(path, 'tcp');
    if ((t.maxConnections ?? 0) < 0) out.push(error(at(tp, 'maxConnections'), 'max connections must be non-negative'));
    out.push(...durationIssues(at(tp, 'connectTimeout'), t.connectTimeout));
    out.push(...durationIssues(at(tp, 'maxConnectionDuration'), t.maxConnectionDuration));
    if (t.idleTimeout !== undefined) {
      // `0s` disables the idle timeout, so only a non-zero value is range-checked.
      const p = parseGoDuration(t.idleTimeout);
      if (!p.ok || Math.trunc(p.ns / 1e6) !== 0) out.push(...durationIssues(at(tp, 'idleTimeout'), t.idleTimeout));
    }
    if (t.tcpKeepalive !== undefined) {
      out.push(...durationIssues(at(at(tp, 'tcpKeepalive'), 'time'), t.tcpKeepalive.time));
      out.push(...durationIssues(at(at(tp, 'tcpKeepalive'), 'interval'), t.tcpKeepalive.interval));
    }
  }
  return out;
}

/** Envoy's isPrime, as Istio copies it for maglev table sizes. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let f = 3; f <= limit; f += 2) if (x % f === 0) return false;
  return true;
}

const TOPOLOGY_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];

/** agent.validateLocalities: the first problem, or undefined. */
function localitiesError(localities: readonly string[]): string | undefined {
  // region -> zone -> subzone, '*' marking "everything below".
  const seen = new Map<string, Map<string, Map<string, boolean>>>();
  for (const locality of localities) {
    const stars = (locality.match(/\*/g) ?? []).length;
    if (stars > 0 && (stars > 1 || !locality.endsWith('*'))) return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
    if (seen.has('*')) return `locality ${locality} overlap with previous specified ones`;
    const items = splitN(locality, '/', 3);
    if (items.some((i) => i === '')) return `locality ${locality} must not contain empty region/zone/subzone info`;
    const [region = '', zone = '', subZone = ''] = items;
    const overlap = `locality ${locality} overlap with previous specified ones`;
    const r = seen.get(region);
    if (items.length === 1) {
      if (r !== undefined) return overlap;
      seen.set(region, new Map([['*', new Map([['*', true]])]]));
    } else if (items.length === 2) {
      if (r !== undefined) {
        if (r.has('*') || r.has(zone)) return overlap;
        r.set(zone, new Map([['*', true]]));
      } else seen.set(region, new Map([[zone, new Map([['*', true]])]]));
    } else if (r !== undefined) {
      if (r.has('*')) return overlap;
      const z2 = r.get(zone);
      if (z2 !== undefined) {
        if (z2.get('*') === true || z2.get(subZone) === true) return overlap;
        z2.set(subZone, true);
      } else r.set(zone, new Map([[subZone, true]]));
    } else seen.set(region, new Map([[zone, new Map([[subZone, true]])]]));
  }
  return undefined;
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/** agent.ValidateLocalityLbSetting, including its early returns. */
export function localityLbSettingIssues(path: string, lb: LocalityLoadBalancerSetting | undefined, outlier: OutlierDetection | undefined): Issue[] {
  if (lb === undefined) return [];
  const out: Issue[] = [];
  const distribute = lb.distribute ?? [];
  const failover = lb.failover ?? [];
  const priority = lb.failoverPriority ?? [];
  if (distribute.length > 0 && failover.length > 0) return [error(path, "can not simultaneously specify 'distribute' and 'failover'")];
  if (failover.length > 0) {
    const i = priority.findIndex((l) => TOPOLOGY_LABELS.includes(l));
    if (i >= 0)
      return [
        error(at(at(path, 'failoverPriority'), i), `can not simultaneously set 'failover' and topology label '${priority[i] ?? ''}' in 'failover_priority'`),
      ];
  }
  for (let i = 0; i < distribute.length; i++) {
    const d = distribute[i];
    if (d === undefined) continue;
    const dp = at(at(path, 'distribute'), i);
    let total = 0;
    for (const [loc, w] of Object.entries(d.to ?? {})) {
      if (w <= 0 || w > 100) return [...out, error(at(at(dp, 'to'), loc), 'locality weight must be in range [1, 100]')];
      total += w;
    }
    if (total !== 100) return [...out, error(at(dp, 'to'), `total locality weight ${total} != 100`)];
    const e = localitiesError(Object.keys(d.to ?? {}));
    if (e !== undefined) out.push(error(at(dp, 'to'), e));
  }
  const src = localitiesError(distribute.map((d) => d.from ?? ''));
  if (src !== undefined) out.push(error(at(path, 'distribute'), src));
  if ((failover.length > 0 || priority.length > 0) && outlier === undefined)
    out.push(warning(path, 'outlier detection policy must be provided for failover'));
  failover.forEach((f, i) => {
    const fp = at(at(path, 'failover'), i);
    const from = f.from ?? '';
    const to = f.to ?? '';
    if (from === to) out.push(error(fp, 'locality lb failover settings must specify different regions'));
    if (from.includes('/') || to.includes('/')) out.push(error(fp, 'locality lb failover only specify region'));
    if (from.includes('*') || to.includes('*')) out.push(error(fp, "locality lb failover region should not contain '*' wildcard"));
  });
  return out;
}

/** agent.ValidateZoneAwareLbSetting (istio master). */
function zoneAwareLbSettingIssues(path: string, lb: ZoneAwareLoadBalancerSetting | undefined, outlier: OutlierDetection | undefined): Issue[] {
  if (lb === undefined) return [];
  const out: Issue[] = [];
  const failover = lb.failover ?? [];
  const priority = lb.failoverPriority ?? [];
  priority.forEach((l, i) => {
    if (TOPOLOGY_LABELS.includes(l))
      out.push(
        error(
          at(at(path, 'failoverPriority'), i),
          `'failover_priority' for zone aware lb must not use topology label '${l}'; region- and zone-level routing are handled automatically`,
        ),
      );
  });
  if ((failover.length > 0 || priority.length > 0) && outlier === undefined)
    out.push(warning(path, 'outlier detection policy must be provided for failover'));
  failover.forEach((f, i) => {
    const fp = at(at(path, 'failover'), i);
    const from = f.from ?? '';
    const to = f.to ?? '';
    if (from === to) out.push(error(fp, 'zone aware lb failover settings must specify different regions'));
    if (from.includes('/') || to.includes('/'))
      out.push(error(fp, 'zone aware lb failover only specifies region; zone and subzone failover are handled automatically'));
    if (from.includes('*') || to.includes('*')) out.push(error(fp, "zone aware lb failover region should not contain '*' wildcard"));
  });
  return out;
}

function loadBalancerIssues(path: string, lb: LoadBalancerSettings | undefined, outlier: OutlierDetection | undefined): Issue[] {
  if (lb === undefined) return [];
  const out: Issue[] = [];
  out.push(...onlyOneOf(path, lb, ['simple', 'consistentHash']));
  // CRD rule (destination_rule.proto).
  if (lb.warmupDurationSecs !== undefined && lb.warmup !== undefined) out.push(error(path, 'only one of warmupDurationSecs or warmup can be set'));
  const ch = lb.consistentHash;
  if (ch !== undefined) {
    const cp = at(path, 'consistentHash');
    out.push(...onlyOneOf(cp, ch, ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName']));
    out.push(...onlyOneOf(cp, ch, ['ringHash', 'maglev']));
    const cookie = ch.httpCookie;
    if (cookie !== undefined) {
      const kp = at(cp, 'httpCookie');
      if (cookie.name === '') out.push(error(at(kp, 'name'), 'name required for HttpCookie'));
      if (cookie.ttl !== undefined) for (const m of plainDurationErrors(cookie.ttl)) out.push(error(at(kp, 'ttl'), m));
      const names = new Set<string>();
      (cookie.attributes ?? []).forEach((a, i) => {
        const ap = at(at(kp, 'attributes'), i);
        if (a.name === '') out.push(error(at(ap, 'name'), 'cookie attribute name cannot be empty'));
        else if (names.has(a.name)) out.push(error(at(ap, 'name'), `duplicate cookie attribute name: ${a.name}`));
        else names.add(a.name);
      });
    }
    if ((ch.minimumRingSize ?? 0) !== 0) {
      out.push(
        warning(at(cp, 'minimumRingSize'), "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead"),
      );
      if (ch.ringHash !== undefined || ch.maglev !== undefined)
        out.push(error(at(cp, 'minimumRingSize'), 'only one of MinimumRingSize or Maglev/Ringhash can be specified'));
    }
    if (ch.maglev !== undefined) {
      const size = ch.maglev.tableSize ?? 0;
      const mp = at(at(cp, 'maglev'), 'tableSize');
      if (size === 0) out.push(error(mp, 'tableSize must be set for maglev'));
      if (size >= 5000011) out.push(error(mp, 'tableSize must be less than 5000011 for maglev'));
      if (!isPrime(size)) out.push(error(mp, 'tableSize must be a prime number for maglev'));
    }
  }
  if (lb.localityLbSetting !== undefined && lb.zoneAwareLbSetting !== undefined)
    out.push(error(path, 'only one of localityLbSetting and zoneAwareLbSetting can be set'));
  out.push(...localityLbSettingIssues(at(path, 'localityLbSetting'), lb.localityLbSetting, outlier));
  out.push(...zoneAwareLbSettingIssues(at(path, 'zoneAwareLbSetting'), lb.zoneAwareLbSetting, outlier));
  // CRD: every Duration not marked `duration-validation:none` must be >= 1ms.
  out.push(...durationIssues(at(path, 'warmupDurationSecs'), lb.warmupDurationSecs));
  const warm = lb.warmup;
  if (warm !== undefined) {
    const wp = at(path, 'warmup');
    out.push(...durationIssues(at(wp, 'duration'), warm.duration));
    if ((warm.minimumPercent ?? 0) > 100) out.push(error(at(wp, 'minimumPercent'), 'minimumPercent value should be less than or equal to 100'));
    if (warm.aggression !== undefined && warm.aggression <= 0) out.push(error(at(wp, 'aggression'), 'aggression should be greater than 0'));
  }
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
    out.push(...loadBalancerIssues(at(p, 'loadBalancer'), t.loadBalancer, t.outlierDetection));
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
  out.push(...loadBalancerIssues(at(path, 'loadBalancer'), tp.loadBalancer, tp.outlierDetection));
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
    out.push(...labelsIssues(at(p, 'labels'), s.labels));
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

const MAX_UINT32 = 4294967295;

/**
 * Connection pool values when unset: Istio's circuit-breaker thresholds (getDefaultCircuitBreakerThresholds:
 * all 2^32-1), mesh connectTimeout 10s, idle timeouts 1h, maxRequestsPerConnection 0 = unlimited,
 * maxConcurrentStreams 2^31-1 (destination_rule.proto comments). Values <= 0 in the resource mean "default".
 */
export const connectionPoolDefaults = Object.freeze({
  maxConnections: MAX_UINT32,
  connectTimeout: '10s',
  tcpIdleTimeout: '1h',
  http1MaxPendingRequests: MAX_UINT32,
  http2MaxRequests: MAX_UINT32,
  maxRequestsPerConnection: 0,
  maxRetries: MAX_UINT32,
  httpIdleTimeout: '1h',
  maxConcurrentStreams: 2147483647,
});

/** Retry budget defaults (applyRetryBudget: 20%, minimum concurrency 3). */
export const retryBudgetDefaults = Object.freeze({ percent: 20, minRetryConcurrency: 3 });

/** Warmup defaults (destination_rule.proto WarmupConfiguration: minimumPercent 10, aggression 1.0). */
export const warmupDefaults = Object.freeze({ minimumPercent: 10, aggression: 1.0 });

/** The simple algorithm Istio uses: unset/UNSPECIFIED is LEAST_REQUEST (defaultLBAlgorithm), LEAST_CONN is its deprecated alias. */
export function effectiveSimpleLb(lb: LoadBalancerSettings | undefined): Exclude<SimpleLB, 'UNSPECIFIED' | 'LEAST_CONN'> {
  const s = lb?.simple;
  if (s === undefined || s === 'UNSPECIFIED' || s === 'LEAST_CONN') return 'LEAST_REQUEST';
  return s;
}

export type EffectiveHashAlgorithm = { readonly kind: 'ringHash'; readonly minimumRingSize: number } | { readonly kind: 'maglev'; readonly tableSize: number };

/**
 * Consistent-hash algorithm (ApplyRingHashLoadBalancer): maglev when set (table size 65537 by default,
 * Envoy's), otherwise ring hash with minimumRingSize from ringHash, else the deprecated field, else 1024.
 */
export function effectiveHashAlgorithm(ch: ConsistentHashLB): EffectiveHashAlgorithm {
  if (ch.maglev !== undefined) return { kind: 'maglev', tableSize: (ch.maglev.tableSize ?? 0) !== 0 ? (ch.maglev.tableSize ?? 0) : 65537 };
  const size = ch.ringHash !== undefined ? (ch.ringHash.minimumRingSize ?? 0) : (ch.minimumRingSize ?? 0);
  return { kind: 'ringHash', minimumRingSize: size !== 0 ? size : 1024 };
}

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
