// CORS configuration: compiles Envoy's CORS policy (the `envoy.extensions.filters.http.cors.v3.CorsPolicy`
// that Istio puts in route and virtual-host typed_per_filter_config, or the legacy route/vhost `cors`
// field) into an immutable CorsPolicyConfig, and merges the policies that apply to one route into the
// effective policy, once, when the route table is built. It owns the StringMatcher compiler the fault
// filter's header matchers reuse. It never throws: problems are `<field path>: <reason>` so the update is
// NACKed with all of them. The request path lives in engine.ts.
//
// Envoy: docs configuration/http/http_filters/cors_filter, source/extensions/filters/http/cors/cors_filter.cc
// and source/common/router/config_impl.h (CorsPolicyImplBase).

import type { RE2JS } from 're2js';
import { re2js } from '../../lib/on-demand-libraries.js';
import type { Cors, CorsPolicy } from '../../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { CorsPolicy as RouteCorsPolicy } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RuntimeFractionalPercent } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { StringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { FractionalPercent_DenominatorType, type FractionalPercent } from '../../../xds/gen/envoy/type/v3/percent_pb.js';

export type CompileResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: string[] };

/** A FractionalPercent as numbers: enabled when `random * denominator < numerator`. */
export interface Fraction {
  readonly numerator: number;
  /** 100, 10,000 or 1,000,000. */
  readonly denominator: number;
}

/** A compiled envoy.type.matcher.v3.StringMatcher. */
export interface CompiledStringMatcher {
  readonly match: (value: string) => boolean;
}

export interface CorsPolicyConfig {
  readonly allowOrigins: readonly CompiledStringMatcher[];
  /** Some origin matcher matches the literal `*`: Envoy then allows every origin (isOriginAllowed). */
  readonly allowAnyOrigin: boolean;
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
  readonly allowCredentials?: boolean;
  readonly allowPrivateNetworkAccess?: boolean;
  /** Unset means true (Envoy's default since 1.30, and what Istio emits unless unmatchedPreflights: IGNORE). */
  readonly forwardNotMatchingPreflights?: boolean;
  /** Unset means always enabled; no runtime layer exists, so the default value is the rate. */
  readonly filterEnabled?: Fraction;
  /** Unset means never shadowed. Shadow mode only counts origin_valid/origin_invalid. */
  readonly shadowEnabled?: Fraction;
}

/** The filter itself (envoy.filters.http.cors) has no settings; policies come from routes. */
export type CorsFilterConfig = Readonly<Record<string, never>>;

const EMPTY_FILTER_CONFIG: CorsFilterConfig = Object.freeze({});

export function compileCorsFilter(_config: Cors): CompileResult<CorsFilterConfig> {
  return { ok: true, value: EMPTY_FILTER_CONFIG };
}

const DENOMINATORS: Readonly<Record<number, number>> = {
  [FractionalPercent_DenominatorType.HUNDRED]: 100,
  [FractionalPercent_DenominatorType.TEN_THOUSAND]: 10_000,
  [FractionalPercent_DenominatorType.MILLION]: 1_000_000,
};

/** A FractionalPercent; an unset one is 0% (proto3 default instance), as Envoy reads it. */
export function compileFraction(p: FractionalPercent | undefined, path: string, problems: string[]): Fraction {
  if (p === undefined) return ZERO_FRACTION;
  const denominator = DENOMINATORS[p.denominator];
  if (denominator === undefined) {
    problems.push(`${path}.denominator: value must be one of the defined enum values (got ${p.denominator})`);
    return ZERO_FRACTION;
  }
  return Object.freeze({ numerator: p.numerator, denominator });
}

const ZERO_FRACTION: Fraction = Object.freeze({ numerator: 0, denominator: 100 });

function compileRuntimeFraction(p: RuntimeFractionalPercent, path: string, problems: string[]): Fraction {
  // runtime_key is accepted but never consulted: without a runtime layer Envoy uses default_value.
  if (p.defaultValue === undefined) {
    problems.push(`${path}.default_value: value is required`);
    return ZERO_FRACTION;
  }
  return compileFraction(p.defaultValue, `${path}.default_value`, problems);
}

// Envoy folds ASCII only (absl::AsciiStrToLower); origins and header values are ASCII in practice.
function lowerAscii(s: string): string {
  return s.toLowerCase();
}

/**
 * envoy.type.matcher.v3.StringMatcher (source/common/common/matchers.h): exact, prefix, suffix, contains
 * with ignore_case; safe_regex is RE2 matched against the whole value, and refuses ignore_case as Envoy
 * does ("ignore_case has no effect for safe_regex."). `custom` extensions are refused so the update is
 * NACKed rather than matched wrongly.
 */
export function compileStringMatcher(m: StringMatcher, path: string, problems: string[]): CompiledStringMatcher {
  const p = m.matchPattern;
  const ic = m.ignoreCase;
  switch (p.case) {
    case 'exact': {
      const want = ic ? lowerAscii(p.value) : p.value;
      return { match: ic ? (v) => lowerAscii(v) === want : (v) => v === want };
    }
    case 'prefix':
    case 'suffix':
    case 'contains': {
      if (p.value === '') problems.push(`${path}.${p.case}: value length must be at least 1 characters`);
      const want = ic ? lowerAscii(p.value) : p.value;
      const test =
        p.case === 'prefix'
          ? (v: string) => v.startsWith(want)
          : p.case === 'suffix'
            ? (v: string) => v.endsWith(want)
            : (v: string) => v.includes(want);
      return { match: ic ? (v) => test(lowerAscii(v)) : test };
    }
    case 'safeRegex': {
      if (ic) problems.push(`${path}.ignore_case: ignore_case has no effect for safe_regex.`);
      const re = compileRegex(p.value.regex, `${path}.safe_regex.regex`, problems);
      return { match: (v) => re?.matches(v) ?? false };
    }
    case 'custom':
      problems.push(`${path}.custom: custom string matchers are not supported`);
      return NEVER;
    case undefined:
      problems.push(`${path}.match_pattern: value is required`);
      return NEVER;
  }
}

const NEVER: CompiledStringMatcher = { match: () => false };

/** An RE2 regex compiled once; undefined (with a problem) when empty or invalid. */
export function compileRegex(regex: string, path: string, problems: string[]): RE2JS | undefined {
  if (regex === '') {
    problems.push(`${path}: value length must be at least 1 bytes`);
    return undefined;
  }
  try {
    return re2js().RE2JS.compile(regex);
  } catch (e) {
    problems.push(`${path}: invalid regex ${JSON.stringify(regex)}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/**
 * Compiles one policy, either the filter's typed_per_filter_config CorsPolicy or the legacy
 * route/virtual-host `cors` field (whose filter_enabled sits in a oneof). `path` prefixes problems.
 */
export function compileCorsPolicy(policy: CorsPolicy | RouteCorsPolicy, path = ''): CompileResult<CorsPolicyConfig> {
  const problems: string[] = [];
  const at = (field: string): string => (path === '' ? field : `${path}.${field}`);
  const allowOrigins = policy.allowOriginStringMatch.map((m, i) => compileStringMatcher(m, at(`allow_origin_string_match[${i}]`), problems));
  const enabled = 'enabledSpecifier' in policy ? (policy.enabledSpecifier.case === 'filterEnabled' ? policy.enabledSpecifier.value : undefined) : policy.filterEnabled;
  const out: { -readonly [K in keyof CorsPolicyConfig]: CorsPolicyConfig[K] } = {
    allowOrigins: Object.freeze(allowOrigins),
    allowAnyOrigin: allowOrigins.some((m) => m.match('*')),
    allowMethods: policy.allowMethods,
    allowHeaders: policy.allowHeaders,
    exposeHeaders: policy.exposeHeaders,
    maxAge: policy.maxAge,
  };
  if (policy.allowCredentials !== undefined) out.allowCredentials = policy.allowCredentials;
  if (policy.allowPrivateNetworkAccess !== undefined) out.allowPrivateNetworkAccess = policy.allowPrivateNetworkAccess;
  if (policy.forwardNotMatchingPreflights !== undefined) out.forwardNotMatchingPreflights = policy.forwardNotMatchingPreflights;
  if (enabled !== undefined) out.filterEnabled = compileRuntimeFraction(enabled, at('filter_enabled'), problems);
  if (policy.shadowEnabled !== undefined) out.shadowEnabled = compileRuntimeFraction(policy.shadowEnabled, at('shadow_enabled'), problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: Object.freeze(out) };
}

/**
 * The effective policy of one route, computed once per route (CorsFilter::initializeCorsPolicies and its
 * accessors). `typedPerFilter` are the typed_per_filter_config policies most specific first (weighted
 * cluster, route, virtual host, route configuration); `legacy` are the route's then the virtual host's
 * `cors` fields, consulted only when no typed_per_filter_config policy applies. Each string field and each
 * list comes from the first policy that sets it (non-empty), each optional bool from the first that sets
 * it, and filter_enabled/shadow_enabled from the most specific policy alone. Undefined: CORS is off.
 */
export function mergeCorsPolicies(
  typedPerFilter: readonly CorsPolicyConfig[],
  legacy: readonly CorsPolicyConfig[] = [],
): CorsPolicyConfig | undefined {
  const policies = typedPerFilter.length > 0 ? typedPerFilter : legacy;
  const first = policies[0];
  if (first === undefined) return undefined;
  if (policies.length === 1) return first;
  const origins = policies.find((p) => p.allowOrigins.length > 0);
  const str = (k: 'allowMethods' | 'allowHeaders' | 'exposeHeaders' | 'maxAge'): string => policies.find((p) => p[k] !== '')?.[k] ?? '';
  const bool = (k: 'allowCredentials' | 'allowPrivateNetworkAccess' | 'forwardNotMatchingPreflights'): boolean | undefined =>
    policies.find((p) => p[k] !== undefined)?.[k];
  const out: { -readonly [K in keyof CorsPolicyConfig]: CorsPolicyConfig[K] } = {
    allowOrigins: origins?.allowOrigins ?? [],
    allowAnyOrigin: origins?.allowAnyOrigin ?? false,
    allowMethods: str('allowMethods'),
    allowHeaders: str('allowHeaders'),
    exposeHeaders: str('exposeHeaders'),
    maxAge: str('maxAge'),
  };
  const credentials = bool('allowCredentials');
  if (credentials !== undefined) out.allowCredentials = credentials;
  const pna = bool('allowPrivateNetworkAccess');
  if (pna !== undefined) out.allowPrivateNetworkAccess = pna;
  const forward = bool('forwardNotMatchingPreflights');
  if (forward !== undefined) out.forwardNotMatchingPreflights = forward;
  if (first.filterEnabled !== undefined) out.filterEnabled = first.filterEnabled;
  if (first.shadowEnabled !== undefined) out.shadowEnabled = first.shadowEnabled;
  return Object.freeze(out);
}
