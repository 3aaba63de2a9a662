// Types and checks shared by the Kubernetes Gateway API kinds (gateway.networking.k8s.io): the string
// types of apis/v1/shared_types.go and object_reference_types.go (Hostname, Group, Kind, ...) with their
// OpenAPI patterns, ParentReference, BackendRef, header matches and filters, and the CEL rules that the
// CRDs attach to them (config/crd/standard/*.yaml), reported with the CEL rule's own `message`.
//
// OpenAPI failures use Kubernetes-style wording (`should match '<pattern>'`, `Duplicate value: ...`).
// CEL rules are checked after applying the CRD defaults they depend on (backendRef `group: ""` and
// `kind: Service`, parentRef `group: gateway.networking.k8s.io` and `kind: Gateway`, ...), as the API
// server evaluates them on the defaulted object; the typed model keeps what the user wrote.

import { at, error, type Issue } from '../../lib/issue.js';
import { enumOf, obj, stringMap, z } from '../schema.js';

// ---- patterns (kubebuilder:validation:Pattern markers in apis/v1/shared_types.go) -----------------

const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
export const PATTERNS = {
  /** Hostname: optional leading `*.` wildcard label. */
  hostname: `^(\\*\\.)?${DNS_SUBDOMAIN}$`,
  /** PreciseHostname: no wildcard. */
  preciseHostname: `^${DNS_SUBDOMAIN}$`,
  group: `^$|^${DNS_SUBDOMAIN}$`,
  kind: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$',
  namespace: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  sectionName: `^${DNS_SUBDOMAIN}$`,
  headerName: "^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$",
  /** GatewayController / address type domain-prefixed paths. */
  controllerName: `^${DNS_SUBDOMAIN}\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`,
  /** Gateway API Duration (GEP-2257). */
  duration: '^([0-9]{1,5}(h|m|s|ms)){1,4}$',
} as const;

/** A string that must match `pattern` (a CRD `pattern`), reported as Kubernetes does. */
export function patterned(pattern: string, flags = ''): z.ZodString {
  return z.string().regex(new RegExp(pattern, flags), {
    error: (iss) => `Invalid value: ${JSON.stringify(iss.input)}: should match '${pattern}'`,
  });
}

export const HostnameSchema = patterned(PATTERNS.hostname).min(1).max(253);
export const PreciseHostnameSchema = patterned(PATTERNS.preciseHostname).min(1).max(253);
export const GroupSchema = patterned(PATTERNS.group).max(253);
export const KindSchema = patterned(PATTERNS.kind).min(1).max(63);
export const ObjectNameSchema = z.string().min(1).max(253);
export const NamespaceSchema = patterned(PATTERNS.namespace).min(1).max(63);
export const SectionNameSchema = patterned(PATTERNS.sectionName).min(1).max(253);
export const PortNumberSchema = z.number().int().min(1).max(65535);
export const HeaderNameSchema = patterned(PATTERNS.headerName).min(1).max(256);
export const GatewayDurationSchema = patterned(PATTERNS.duration);

// ---- references ----------------------------------------------------------------------------------

/** ParentReference (shared_types.go). Defaults: group gateway.networking.k8s.io, kind Gateway. */
export const ParentReferenceSchema = obj({
  group: GroupSchema.optional(),
  kind: KindSchema.optional(),
  namespace: NamespaceSchema.optional(),
  name: ObjectNameSchema,
  sectionName: SectionNameSchema.optional(),
  port: PortNumberSchema.optional(),
});
export type ParentReference = z.infer<typeof ParentReferenceSchema>;

/** BackendObjectReference (object_reference_types.go). Defaults: group "" (core), kind Service. */
export const BackendObjectReferenceSchema = obj({
  group: GroupSchema.optional(),
  kind: KindSchema.optional(),
  name: ObjectNameSchema,
  namespace: NamespaceSchema.optional(),
  port: PortNumberSchema.optional(),
});
export type BackendObjectReference = z.infer<typeof BackendObjectReferenceSchema>;

/** BackendRef (shared_types.go): a BackendObjectReference plus a weight (default 1, 0..1000000). */
export const BackendRefSchema = obj({
  ...BackendObjectReferenceSchema.shape,
  weight: z.number().int().min(0).max(1000000).optional(),
});
export type BackendRef = z.infer<typeof BackendRefSchema>;

/** LocalObjectReference (object_reference_types.go): group, kind and name all required. */
export const LocalObjectReferenceSchema = obj({ group: GroupSchema, kind: KindSchema, name: ObjectNameSchema });
export type LocalObjectReference = z.infer<typeof LocalObjectReferenceSchema>;

/** SecretObjectReference (object_reference_types.go). Defaults: group "", kind Secret. */
export const SecretObjectReferenceSchema = obj({
  group: GroupSchema.optional(),
  kind: KindSchema.optional(),
  name: ObjectNameSchema,
  namespace: NamespaceSchema.optional(),
});
export type SecretObjectReference = z.infer<typeof SecretObjectReferenceSchema>;

/** ObjectReference (object_reference_types.go): group and kind required, namespace optional. */
export const ObjectReferenceSchema = obj({
  group: GroupSchema,
  kind: KindSchema,
  name: ObjectNameSchema,
  namespace: NamespaceSchema.optional(),
});
export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;

/** metav1.LabelSelector as embedded in the CRDs. */
export const LabelSelectorSchema = obj({
  matchLabels: stringMap.optional(),
  matchExpressions: z
    .array(obj({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() }))
    .optional(),
});
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

// ---- header matches and filters shared by HTTPRoute and GRPCRoute -----------------------------------

/** HTTPHeaderMatch (httproute_types.go); GRPCHeaderMatch has the same shape. */
export const HTTPHeaderMatchSchema = obj({
  type: enumOf(['Exact', 'RegularExpression']).optional(),
  name: HeaderNameSchema,
  value: z.string().min(1).max(4096),
});
export type HTTPHeaderMatch = z.infer<typeof HTTPHeaderMatchSchema>;

/** HTTPHeader (httproute_types.go). */
export const HTTPHeaderSchema = obj({ name: HeaderNameSchema, value: z.string().min(1).max(4096) });
export type HTTPHeader = z.infer<typeof HTTPHeaderSchema>;

/** HTTPHeaderFilter (httproute_types.go): `set` and `add` are list-maps keyed by name, `remove` a set. */
export const HTTPHeaderFilterSchema = obj({
  set: z.array(HTTPHeaderSchema).max(16).optional(),
  add: z.array(HTTPHeaderSchema).max(16).optional(),
  remove: z.array(z.string()).max(16).optional(),
});
export type HTTPHeaderFilter = z.infer<typeof HTTPHeaderFilterSchema>;

/** Fraction (shared_types.go). Default denominator 100. */
export const FractionSchema = obj({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).optional() });
export type Fraction = z.infer<typeof FractionSchema>;

/** HTTPRequestMirrorFilter (httproute_types.go), also used by GRPCRoute. */
export const HTTPRequestMirrorFilterSchema = obj({
  backendRef: BackendObjectReferenceSchema,
  percent: z.number().int().min(0).max(100).optional(),
  fraction: FractionSchema.optional(),
});
export type HTTPRequestMirrorFilter = z.infer<typeof HTTPRequestMirrorFilterSchema>;

// ---- checks -----------------------------------------------------------------------------------------

type GroupKind = { group?: string | undefined; kind?: string | undefined };

/** Effective group of a backend-style reference (`""` when omitted: the core group). */
export function backendGroup(ref: GroupKind): string {
  return ref.group ?? '';
}

/** Effective kind of a backend reference (`Service` when omitted). */
export function backendKind(ref: GroupKind): string {
  return ref.kind ?? 'Service';
}

/** CEL on BackendObjectReference/BackendRef: a core Service reference needs a port. */
export function backendRefIssues(path: string, ref: BackendObjectReference): Issue[] {
  return backendGroup(ref) === '' && backendKind(ref) === 'Service' && ref.port === undefined
    ? [error(path, 'Must have port for Service reference')]
    : [];
}

interface ParentKey {
  readonly parent: string;
  readonly section: string;
  readonly sectionUnset: boolean;
  readonly portUnset: boolean;
}

function parentKey(p: ParentReference, withPort: boolean): ParentKey {
  return {
    parent: JSON.stringify([p.group ?? 'gateway.networking.k8s.io', p.kind ?? 'Gateway', p.name, p.namespace ?? '']),
    section: JSON.stringify([p.sectionName ?? '', withPort ? (p.port ?? 0) : 0]),
    sectionUnset: (p.sectionName ?? '') === '',
    portUnset: !withPort || (p.port ?? 0) === 0,
  };
}

/**
 * CEL on CommonRouteSpec.parentRefs: two references to the same parent must each name a (distinct)
 * sectionName. `withPort` is the experimental channel's variant (v1alpha2 routes), where a port also
 * distinguishes them and the messages say "sectionName or port".
 */
export function parentRefsIssues(path: string, refs: readonly ParentReference[] | undefined, withPort = false): Issue[] {
  if (refs === undefined) return [];
  const out: Issue[] = [];
  const what = withPort ? 'sectionName or port' : 'sectionName';
  const keys = refs.map((r) => parentKey(r, withPort));
  keys.forEach((k, i) => {
    for (let j = 0; j < i; j++) {
      const o = keys[j];
      if (o === undefined || o.parent !== k.parent) continue;
      if (o.sectionUnset !== k.sectionUnset || o.portUnset !== k.portUnset) {
        out.push(error(at(path, i), `${what} must be specified when parentRefs includes 2 or more references to the same parent`));
        return;
      }
      if (o.section === k.section) {
        out.push(error(at(path, i), `${what} must be unique when parentRefs includes 2 or more references to the same parent`));
        return;
      }
    }
  });
  return out;
}

/** `x-kubernetes-list-type: map`: items must be unique by `key`. */
export function listMapIssues<T>(path: string, items: readonly T[] | undefined, key: (t: T) => string, keyName = 'name'): Issue[] {
  if (items === undefined) return [];
  const seen = new Set<string>();
  const out: Issue[] = [];
  items.forEach((it, i) => {
    const k = key(it);
    if (seen.has(k)) out.push(error(at(path, i), `Duplicate value: {"${keyName}":${JSON.stringify(k)}}`));
    seen.add(k);
  });
  return out;
}

/** `x-kubernetes-list-type: set`: items must be unique. */
export function listSetIssues(path: string, items: readonly (string | number)[] | undefined): Issue[] {
  if (items === undefined) return [];
  const seen = new Set<string | number>();
  const out: Issue[] = [];
  items.forEach((it, i) => {
    if (seen.has(it)) out.push(error(at(path, i), `Duplicate value: ${JSON.stringify(it)}`));
    seen.add(it);
  });
  return out;
}

export function headerMatchesIssues(path: string, headers: readonly HTTPHeaderMatch[] | undefined): Issue[] {
  return listMapIssues(path, headers, (h) => h.name);
}

function headerFilterIssues(path: string, f: HTTPHeaderFilter): Issue[] {
  return [
    ...listMapIssues(at(path, 'set'), f.set, (h) => h.name),
    ...listMapIssues(at(path, 'add'), f.add, (h) => h.name),
    ...listSetIssues(at(path, 'remove'), f.remove),
  ];
}

/** CEL on HTTPRequestMirrorFilter and Fraction. */
function mirrorFilterIssues(path: string, m: HTTPRequestMirrorFilter): Issue[] {
  const out = backendRefIssues(at(path, 'backendRef'), m.backendRef);
  if (m.percent !== undefined && m.fraction !== undefined)
    out.push(error(path, 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter'));
  if (m.fraction !== undefined && m.fraction.numerator > (m.fraction.denominator ?? 100))
    out.push(error(at(path, 'fraction'), 'numerator must be less than or equal to denominator'));
  return out;
}

/**
 * The CEL rules that tie a route filter's `type` to its config field:
 * "filter.X must be nil if the filter.type is not T" / "filter.X must be specified for T filter.type".
 */
function filterTypeIssues(path: string, filter: Record<string, unknown>, fieldsByType: Readonly<Record<string, string>>): Issue[] {
  const out: Issue[] = [];
  const type = filter['type'];
  for (const [t, field] of Object.entries(fieldsByType)) {
    const has = filter[field] !== undefined;
    if (has && type !== t) out.push(error(at(path, field), `filter.${field} must be nil if the filter.type is not ${t}`));
    if (!has && type === t) out.push(error(path, `filter.${field} must be specified for ${t} filter.type`));
  }
  return out;
}

/** CEL on a filters list: "<Type> filter cannot be repeated" for each of `types`. */
function repeatedFilterIssues(path: string, filters: readonly { type: string }[] | undefined, types: readonly string[]): Issue[] {
  if (filters === undefined) return [];
  const out: Issue[] = [];
  for (const t of types) if (filters.filter((f) => f.type === t).length > 1) out.push(error(path, `${t} filter cannot be repeated`));
  return out;
}

/** CEL on HTTPRoute/GRPCRoute `rules`: at most 128 matches across all rules. */
export function totalMatchesIssues(path: string, counts: readonly number[]): Issue[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return total > 128
    ? [error(path, 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128')]
    : [];
}

/**
 * One filters list (a rule's or a backendRef's) of HTTPRoute or GRPCRoute: the types that cannot repeat,
 * each filter's type/field CEL rules, and the header-modifier and mirror filters both kinds have. `more`
 * adds the kind's own checks on one filter (at its path).
 */
export function routeFiltersIssues<F extends SharedRouteFilter>(
  path: string,
  filters: readonly F[] | undefined,
  fieldsByType: Readonly<Record<string, string>>,
  notRepeatable: readonly string[],
  more: (path: string, filter: F) => Issue[] = () => [],
): Issue[] {
  if (filters === undefined) return [];
  const out = repeatedFilterIssues(path, filters, notRepeatable);
  filters.forEach((f, i) => {
    const p = at(path, i);
    out.push(...filterTypeIssues(p, f, fieldsByType));
    if (f.requestHeaderModifier !== undefined) out.push(...headerFilterIssues(at(p, 'requestHeaderModifier'), f.requestHeaderModifier));
    if (f.responseHeaderModifier !== undefined) out.push(...headerFilterIssues(at(p, 'responseHeaderModifier'), f.responseHeaderModifier));
    if (f.requestMirror !== undefined) out.push(...mirrorFilterIssues(at(p, 'requestMirror'), f.requestMirror));
    out.push(...more(p, f));
  });
  return out;
}

/** The filter fields HTTPRoute and GRPCRoute share. */
type SharedRouteFilter = {
  type: string;
  requestHeaderModifier?: HTTPHeaderFilter | undefined;
  responseHeaderModifier?: HTTPHeaderFilter | undefined;
  requestMirror?: HTTPRequestMirrorFilter | undefined;
};

/** TCPRoute/TLSRoute v1alpha2 CEL: rule names are unique within the route. */
function uniqueRuleNameIssues(path: string, rules: readonly { name?: string | undefined }[]): Issue[] {
  const seen = new Set<string>();
  for (const r of rules) {
    if (r.name === undefined) continue;
    if (seen.has(r.name)) return [error(path, 'Rule name must be unique within the route')];
    seen.add(r.name);
  }
  return [];
}

/** A route's `rules` count check used where the schema does not bound it (version-dependent limits). */
function maxItemsIssues(path: string, items: readonly unknown[] | undefined, max: number): Issue[] {
  return items !== undefined && items.length > max ? [error(path, `must have at most ${max} entries`)] : [];
}

/** A TCPRoute or TLSRoute rule (tcproute_types.go, tlsroute_types.go): an optional name and 1..16 backendRefs. */
export const BackendRefsRuleSchema = obj({
  name: SectionNameSchema.optional(),
  backendRefs: z.array(BackendRefSchema).min(1).max(16),
});
export type BackendRefsRule = z.infer<typeof BackendRefsRuleSchema>;

/**
 * The rules of a TCPRoute or TLSRoute, whose limits depend on the version: at most `maxRules` rules, names
 * unique when `uniqueNames` (v1alpha2), and each backendRef's CEL rule.
 */
export function backendRefsRulesIssues(path: string, rules: readonly BackendRefsRule[], maxRules: number, uniqueNames: boolean): Issue[] {
  const out = maxItemsIssues(path, rules, maxRules);
  if (uniqueNames) out.push(...uniqueRuleNameIssues(path, rules));
  rules.forEach((rule, i) => rule.backendRefs.forEach((b, j) => out.push(...backendRefIssues(at(at(at(path, i), 'backendRefs'), j), b))));
  return out;
}

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
