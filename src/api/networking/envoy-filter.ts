// networking.istio.io EnvoyFilter (v1alpha3 only): schema and Istio's validation (ValidateEnvoyFilter in
// istio/istio pkg/config/validation/envoyfilter/envoyfilter.go) plus the CRD's CEL rules (istio/api
// kubernetes/customresourcedefinitions.gen.yaml). Not ported: building the patch value into the Envoy proto
// named by applyTo (xds.BuildXDSObjectFromStruct) and its type_url deprecation checks, which need Envoy's
// descriptors. The per-patch operation/applyTo mismatches that istioctl analyze reports (IST0152-IST0154)
// are given here as warnings, since the webhook admits them.
// Defaults: `match.context` unset is ANY; `priority` unset is 0.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { alphaWorkloadSelectorIssues, AlphaWorkloadSelectorSchema, onlyOneOf, policyTargetReferenceIssues, PolicyTargetReferenceSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, int32, obj, stringMap, uint32, z } from '../schema.js';
import { regexErrors } from '../validation/common.js';

// ---------------------------------------------------------------------------------------------------
// Schemas (istio/api networking/v1alpha3/envoy_filter.proto)

export const APPLY_TO = [
  'INVALID',
  'LISTENER',
  'FILTER_CHAIN',
  'NETWORK_FILTER',
  'HTTP_FILTER',
  'ROUTE_CONFIGURATION',
  'VIRTUAL_HOST',
  'HTTP_ROUTE',
  'CLUSTER',
  'EXTENSION_CONFIG',
  'BOOTSTRAP',
  'LISTENER_FILTER',
] as const;
export type ApplyTo = (typeof APPLY_TO)[number];

export const PATCH_CONTEXTS = ['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY', 'WAYPOINT'] as const;
export type PatchContext = (typeof PATCH_CONTEXTS)[number];

export const PATCH_OPERATIONS = [
  'INVALID',
  'MERGE',
  'ADD',
  'REMOVE',
  'INSERT_BEFORE',
  'INSERT_AFTER',
  'INSERT_FIRST',
  'REPLACE',
  'MERGE_AND_REPLACE_LIST',
] as const;
export type PatchOperation = (typeof PATCH_OPERATIONS)[number];

export const FILTER_CLASSES = ['UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS'] as const;
export const ROUTE_ACTIONS = ['ANY', 'ROUTE', 'REDIRECT', 'DIRECT_RESPONSE'] as const;

const NameOnly = obj({ name: z.string().optional() });

export const ProxyMatchSchema = obj({ proxyVersion: z.string().optional(), metadata: stringMap.optional() });

export const ClusterMatchSchema = obj({
  portNumber: uint32.optional(),
  service: z.string().optional(),
  subset: z.string().optional(),
  name: z.string().optional(),
});

export const RouteConfigurationMatchSchema = obj({
  portNumber: uint32.optional(),
  portName: z.string().optional(),
  gateway: z.string().optional(),
  vhost: obj({
    name: z.string().optional(),
    domainName: z.string().optional(),
    route: obj({ name: z.string().optional(), action: enumOf(ROUTE_ACTIONS).optional() }).optional(),
  }).optional(),
  name: z.string().optional(),
});

const FilterMatchSchema = obj({ name: z.string().optional(), subFilter: NameOnly.optional() });

export const ListenerMatchSchema = obj({
  portNumber: uint32.optional(),
  portName: z.string().optional(),
  filterChain: obj({
    name: z.string().optional(),
    sni: z.string().optional(),
    transportProtocol: z.string().optional(),
    applicationProtocols: z.string().optional(),
    filter: FilterMatchSchema.optional(),
    destinationPort: uint32.optional(),
  }).optional(),
  listenerFilter: z.string().optional(),
  name: z.string().optional(),
});

export const WaypointMatchSchema = obj({
  portNumber: uint32.optional(),
  route: NameOnly.optional(),
  filter: FilterMatchSchema.optional(),
});

export const EnvoyConfigObjectMatchSchema = obj({
  context: enumOf(PATCH_CONTEXTS).optional(),
  proxy: ProxyMatchSchema.optional(),
  // oneof object_types
  listener: ListenerMatchSchema.optional(),
  routeConfiguration: RouteConfigurationMatchSchema.optional(),
  cluster: ClusterMatchSchema.optional(),
  waypoint: WaypointMatchSchema.optional(),
});
export type EnvoyConfigObjectMatch = z.infer<typeof EnvoyConfigObjectMatchSchema>;

export const PatchSchema = obj({
  operation: enumOf(PATCH_OPERATIONS).optional(),
  /** google.protobuf.Struct: an Envoy config fragment, kept as written. */
  value: z.looseObject({}).optional(),
  filterClass: enumOf(FILTER_CLASSES).optional(),
});
export type Patch = z.infer<typeof PatchSchema>;

export const EnvoyConfigObjectPatchSchema = obj({
  applyTo: enumOf(APPLY_TO).optional(),
  match: EnvoyConfigObjectMatchSchema.optional(),
  patch: PatchSchema.optional(),
});
export type EnvoyConfigObjectPatch = z.infer<typeof EnvoyConfigObjectPatchSchema>;

export const EnvoyFilterSpecSchema = obj({
  workloadSelector: AlphaWorkloadSelectorSchema.optional(),
  targetRefs: z.array(PolicyTargetReferenceSchema).max(16).optional(),
  configPatches: z.array(EnvoyConfigObjectPatchSchema).optional(),
  priority: int32.optional(),
});
export type EnvoyFilterSpec = z.infer<typeof EnvoyFilterSpecSchema>;

const BodySchema = obj({ spec: EnvoyFilterSpecSchema.default({}), status: z.unknown().optional() });
export type EnvoyFilterBody = z.infer<typeof BodySchema>;
export type EnvoyFilter = Resource<EnvoyFilterBody>;

// ---------------------------------------------------------------------------------------------------
// Checks

/** wellknown.HTTPConnectionManager */
export const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';

/** Deprecated filter names and their canonical names (istio/istio pkg/config/xds/deprecated.go, reversed). */
const DEPRECATED_FILTER_NAMES: Readonly<Record<string, string>> = {
  'envoy.buffer': 'envoy.filters.http.buffer',
  'envoy.cors': 'envoy.filters.http.cors',
  'envoy.csrf': 'envoy.filters.http.csrf',
  'envoy.http_dynamo_filter': 'envoy.filters.http.dynamo',
  'envoy.fault': 'envoy.filters.http.fault',
  'envoy.grpc_http1_bridge': 'envoy.filters.http.grpc_http1_bridge',
  'envoy.grpc_json_transcoder': 'envoy.filters.http.grpc_json_transcoder',
  'envoy.grpc_web': 'envoy.filters.http.grpc_web',
  'envoy.gzip': 'envoy.filters.http.gzip',
  'envoy.health_check': 'envoy.filters.http.health_check',
  'envoy.ip_tagging': 'envoy.filters.http.ip_tagging',
  'envoy.lua': 'envoy.filters.http.lua',
  'envoy.rate_limit': 'envoy.filters.http.ratelimit',
  'envoy.router': 'envoy.filters.http.router',
  'envoy.squash': 'envoy.filters.http.squash',
  'envoy.listener.http_inspector': 'envoy.filters.listener.http_inspector',
  'envoy.listener.original_dst': 'envoy.filters.listener.original_dst',
  'envoy.listener.original_src': 'envoy.filters.listener.original_src',
  'envoy.listener.proxy_protocol': 'envoy.filters.listener.proxy_protocol',
  'envoy.listener.tls_inspector': 'envoy.filters.listener.tls_inspector',
  'envoy.client_ssl_auth': 'envoy.filters.network.client_ssl_auth',
  'envoy.http_connection_manager': HTTP_CONNECTION_MANAGER,
  'envoy.mongo_proxy': 'envoy.filters.network.mongo_proxy',
  'envoy.ratelimit': 'envoy.filters.network.ratelimit',
  'envoy.redis_proxy': 'envoy.filters.network.redis_proxy',
  'envoy.tcp_proxy': 'envoy.filters.network.tcp_proxy',
};

/**
 * validateListenerMatchName. `envoy.ext_authz` was both the HTTP and the network filter's old name (Istio's
 * reversed map picks either); a network filter match gets the network name, a sub-filter match the HTTP one.
 */
function deprecatedNameIssues(path: string, name: string | undefined, isSubFilter: boolean): Issue[] {
  if (name === undefined) return [];
  const canonical =
    name === 'envoy.ext_authz' ? (isSubFilter ? 'envoy.filters.http.ext_authz' : 'envoy.filters.network.ext_authz') : DEPRECATED_FILTER_NAMES[name];
  return canonical === undefined ? [] : [warning(path, `using deprecated filter name ${JSON.stringify(name)}; use ${JSON.stringify(canonical)} instead`)];
}

/** pilot/pkg/model maxProxyVersionLen */
const MAX_PROXY_VERSION_LEN = 1024;

const LISTENER_CLASS: readonly ApplyTo[] = ['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER'];
const ROUTE_CLASS: readonly ApplyTo[] = ['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'];
const RELATIVE_IGNORED: readonly ApplyTo[] = ['ROUTE_CONFIGURATION', 'HTTP_ROUTE'];

function hasObjectMatch(m: EnvoyConfigObjectMatch): boolean {
  return m.listener !== undefined || m.routeConfiguration !== undefined || m.cluster !== undefined || m.waypoint !== undefined;
}

/** CRD rules on `match` (they apply whatever the context). */
function matchCrdIssues(path: string, m: EnvoyConfigObjectMatch): Issue[] {
  const out: Issue[] = [...onlyOneOf(path, m, ['listener', 'routeConfiguration', 'cluster', 'waypoint'])];
  if ((m.context === 'WAYPOINT') !== (m.waypoint !== undefined)) out.push(error(path, 'only support waypointMatch when context is WAYPOINT'));
  const p = m.waypoint?.portNumber;
  if (p !== undefined && !(p > 0 && p <= 65535)) out.push(error(at(at(path, 'waypoint'), 'portNumber'), 'port must be between 1-65535'));
  return out;
}

/** The Go validator's per-patch checks; it stops at the first problem of a patch (its `continue`s). */
function patchIssues(path: string, cp: EnvoyConfigObjectPatch): Issue[] {
  const out: Issue[] = [];
  const m = cp.match;
  if (m?.context === 'WAYPOINT') return out; // Istio does not validate waypoint patches yet.
  if (cp.applyTo === undefined || cp.applyTo === 'INVALID') return [error(at(path, 'applyTo'), 'Envoy filter: missing applyTo')];
  if (cp.patch === undefined) return [error(at(path, 'patch'), 'Envoy filter: missing patch')];
  const op = cp.patch.operation;
  if (op === undefined || op === 'INVALID') return [error(at(at(path, 'patch'), 'operation'), 'Envoy filter: missing patch operation')];
  if (op !== 'REMOVE' && cp.patch.value === undefined)
    return [error(at(at(path, 'patch'), 'value'), 'Envoy filter: missing patch value for non-remove operation')];

  const pv = m?.proxy?.proxyVersion ?? '';
  if (pv !== '') {
    const pvPath = at(at(at(path, 'match'), 'proxy'), 'proxyVersion');
    if (pv.length > MAX_PROXY_VERSION_LEN)
      out.push(warning(pvPath, `Envoy filter: proxyVersion match exceeds ${MAX_PROXY_VERSION_LEN} characters and will be ignored`));
    else {
      const re = regexErrors(pv);
      if (re.length > 0) return [...out, error(pvPath, `Envoy filter: invalid regex for proxy version, [${re.join('; ')}]`)];
    }
  }

  const mp = at(path, 'match');
  if (LISTENER_CLASS.includes(cp.applyTo)) {
    if (m !== undefined && hasObjectMatch(m)) {
      if (m.listener === undefined) return [...out, error(mp, 'Envoy filter: applyTo for listener class objects cannot have non listener match')];
      const filter = m.listener.filterChain?.filter;
      if (filter !== undefined) {
        const fp = at(at(at(mp, 'listener'), 'filterChain'), 'filter');
        if (cp.applyTo === 'LISTENER' || cp.applyTo === 'FILTER_CHAIN')
          out.push(warning(fp, `Envoy filter: filter match has no effect when used with ${cp.applyTo}`));
        if ((filter.name ?? '') === '') return [...out, error(at(fp, 'name'), 'Envoy filter: filter match has no name to match on')];
        if (filter.subFilter !== undefined) {
          if (cp.applyTo !== 'HTTP_FILTER') return [...out, error(at(fp, 'subFilter'), 'Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only')];
          if (filter.name !== HTTP_CONNECTION_MANAGER && filter.name !== 'envoy.http_connection_manager')
            return [...out, error(at(fp, 'name'), `Envoy filter: subfilter match requires filter match with ${HTTP_CONNECTION_MANAGER}`)];
          if ((filter.subFilter.name ?? '') === '')
            return [...out, error(at(at(fp, 'subFilter'), 'name'), 'Envoy filter: subfilter match has no name to match on')];
        }
        out.push(...deprecatedNameIssues(at(fp, 'name'), filter.name, false));
        out.push(...deprecatedNameIssues(at(at(fp, 'subFilter'), 'name'), filter.subFilter?.name, true));
      }
    }
  } else if (ROUTE_CLASS.includes(cp.applyTo)) {
    if (m !== undefined && hasObjectMatch(m) && m.routeConfiguration === undefined)
      out.push(error(mp, 'Envoy filter: applyTo for http route class objects cannot have non route configuration match'));
  } else if (cp.applyTo === 'CLUSTER') {
    if (m !== undefined && hasObjectMatch(m) && m.cluster === undefined)
      out.push(error(mp, 'Envoy filter: applyTo for cluster class objects cannot have non cluster match'));
  }
  return out;
}

/** istioctl analyze's per-patch operation checks (IST0152, IST0153, IST0154), as warnings. */
function operationWarnings(path: string, cp: EnvoyConfigObjectPatch): Issue[] {
  const op = cp.patch?.operation;
  const applyTo = cp.applyTo;
  if (applyTo === undefined || op === undefined) return [];
  const p = at(at(path, 'patch'), 'operation');
  if (op === 'ADD' && RELATIVE_IGNORED.includes(applyTo))
    return [warning(p, 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.')];
  if (op === 'REMOVE' && RELATIVE_IGNORED.includes(applyTo))
    return [warning(p, 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.')];
  if (op === 'REPLACE' && applyTo !== 'NETWORK_FILTER' && applyTo !== 'HTTP_FILTER' && applyTo !== 'VIRTUAL_HOST')
    return [warning(p, 'The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER.')];
  return [];
}

export function validateEnvoyFilter(r: EnvoyFilter): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [
    warning(
      '',
      'EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.',
    ),
  ];
  out.push(
    ...alphaWorkloadSelectorIssues(
      'spec.workloadSelector',
      spec.workloadSelector,
      'Envoy filter: workload selector specified without labels, will be applied to all services in namespace',
    ),
  );
  // CRD rule on spec.
  if (spec.workloadSelector !== undefined && spec.targetRefs !== undefined) out.push(error('spec', 'only one of targetRefs or workloadSelector can be set'));
  (spec.targetRefs ?? []).forEach((ref, i) => {
    // Istio's webhook does not restrict EnvoyFilter targetRef kinds (the CRD requires kind and name and no
    // namespace); a kind outside the documented ones is only warned about, since Istio would ignore it.
    for (const iss of policyTargetReferenceIssues(`spec.targetRefs[${i}]`, ref))
      out.push(iss.message.startsWith('targetRef must be to one of') ? warning(iss.path, iss.message) : iss);
    if ((ref.kind ?? '') === '') out.push(error(`spec.targetRefs[${i}].kind`, 'required field is missing'));
  });
  (spec.configPatches ?? []).forEach((cp, i) => {
    const path = `spec.configPatches[${i}]`;
    if (cp.match !== undefined) out.push(...matchCrdIssues(at(path, 'match'), cp.match));
    out.push(...patchIssues(path, cp));
    out.push(...operationWarnings(path, cp));
  });
  return out;
}

/** `match.context` as Istio reads it: unset is ANY. */
export function effectivePatchContext(cp: EnvoyConfigObjectPatch): PatchContext {
  return cp.match?.context ?? 'ANY';
}

export const ENVOY_FILTER = defineKind<EnvoyFilterBody>({
  group: 'networking.istio.io',
  kind: 'EnvoyFilter',
  versions: ['v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateEnvoyFilter,
});
