// istio.networking.v1alpha3.LoadBalancerSettings (istio/api networking/v1alpha3/destination_rule.proto),
// the `loadBalancer` of DestinationRule traffic policies: its schema (simple algorithms, consistent hash,
// locality and zone-aware failover, warmup), Istio's checks (the load-balancer part of
// validateTrafficPolicy in pkg/config/validation/validation.go, agent.ValidateLocalityLbSetting and
// ValidateZoneAwareLbSetting in pkg/config/validation/agent/validation.go, and the CRD rules from the
// proto markers), and the algorithm Istio uses when fields are unset.
//
// Failover needs outlier detection, which is the traffic policy's, so the checks take whether it is set.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { onlyOneOf } from '../istio-common.js';
import { durationString, enumOf, obj, uint32, z } from '../schema.js';
import { durationIssues, plainDurationErrors } from '../validation/common.js';
import { splitN } from '../validation/go-format.js';

/** protobuf uint64 (ring and table sizes), as a JSON number. */
const uint64 = z.number().int().min(0);

// ---------------------------------------------------------------------------------------------------
// Schemas

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

// ---------------------------------------------------------------------------------------------------
// Checks

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

/** agent.ValidateLocalityLbSetting, including its early returns. */
export function localityLbSettingIssues(path: string, lb: LocalityLoadBalancerSetting | undefined, hasOutlierDetection: boolean): Issue[] {
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
  out.push(...failoverIssues(path, failover, priority, hasOutlierDetection, 'locality lb', 'locality lb failover only specify region'));
  return out;
}

/** agent.ValidateZoneAwareLbSetting (istio master). */
function zoneAwareLbSettingIssues(path: string, lb: ZoneAwareLoadBalancerSetting | undefined, hasOutlierDetection: boolean): Issue[] {
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
  out.push(
    ...failoverIssues(
      path,
      failover,
      priority,
      hasOutlierDetection,
      'zone aware lb',
      'zone aware lb failover only specifies region; zone and subzone failover are handled automatically',
    ),
  );
  return out;
}

/**
 * The failover rules locality and zone-aware settings share: failover needs outlier detection (a warning),
 * and each failover goes between two different regions, named without zone or wildcard. `what` and
 * `regionOnly` carry the two settings' wording.
 */
function failoverIssues(
  path: string,
  failover: readonly { from?: string | undefined; to?: string | undefined }[],
  priority: readonly string[],
  hasOutlierDetection: boolean,
  what: string,
  regionOnly: string,
): Issue[] {
  const out: Issue[] = [];
  if ((failover.length > 0 || priority.length > 0) && !hasOutlierDetection)
    out.push(warning(path, 'outlier detection policy must be provided for failover'));
  failover.forEach((f, i) => {
    const fp = at(at(path, 'failover'), i);
    const from = f.from ?? '';
    const to = f.to ?? '';
    if (from === to) out.push(error(fp, `${what} failover settings must specify different regions`));
    if (from.includes('/') || to.includes('/')) out.push(error(fp, regionOnly));
    if (from.includes('*') || to.includes('*')) out.push(error(fp, `${what} failover region should not contain '*' wildcard`));
  });
  return out;
}

export function loadBalancerIssues(path: string, lb: LoadBalancerSettings | undefined, hasOutlierDetection: boolean): Issue[] {
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
  out.push(...localityLbSettingIssues(at(path, 'localityLbSetting'), lb.localityLbSetting, hasOutlierDetection));
  out.push(...zoneAwareLbSettingIssues(at(path, 'zoneAwareLbSetting'), lb.zoneAwareLbSetting, hasOutlierDetection));
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


// ---------------------------------------------------------------------------------------------------
// Istio's defaults, for translation

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
