// backendRefs as VirtualService destinations (pilot/pkg/config/kube/gateway/conversion.go buildDestination,
// buildHTTPDestination, buildGRPCDestination, buildTCPDestination, isInvalidBackend):
// - a Service `<name>` (the default kind) is `<name>.<ns>.svc.<domainSuffix>` on the given port; an Istio
//   `Hostname` names a registry host directly; `ServiceImport` is treated as the Service of that name;
// - weight 0 backends are left out; a single remaining backend carries no weight (all of the traffic);
// - backends in another namespace need a ReferenceGrant on gateway routes (mesh routes do not check);
// - a missing or not permitted backend, or one of an unknown kind, is an invalid backend: the rule keeps
//   routing and that backend's share answers 500, since its cluster does not exist (Istio keeps the
//   destination; a RefNotPermitted or unknown-kind one has an empty host, the cluster `UnknownService`).
//   Anything else (no port, a hostname as a Service name) fails the whole route.

import { at } from '../../lib/issue.js';
import type { BackendObjectReference, BackendRef, HTTPHeaderFilter } from '../../api/gateway-api/common.js';
import type { Destination, HeaderOperations, Headers, HTTPRouteDestination, RouteDestination } from '../../api/networking/virtual-service.js';
import { REASON, type ConfigError } from './conditions.js';
import type { ConversionContext } from './context.js';
import { GATEWAY_API_GROUP, type RouteKindName } from './parent-info.js';

/** Where a route's backends are resolved: the route's kind and namespace, and whether ReferenceGrants apply. */
export interface BackendScope {
  readonly ctx: ConversionContext;
  readonly routeKind: RouteKindName;
  readonly namespace: string;
  readonly enforceRefGrant: boolean;
}

export type BackendResult =
  | { readonly ok: true; readonly destination: Destination; readonly invalid?: ConfigError }
  | { readonly ok: false; readonly error: ConfigError };

/** buildDestination for the reference at `path`. */
export function buildDestination(scope: BackendScope, to: BackendObjectReference, path: string): BackendResult {
  const { ctx, namespace: ns } = scope;
  const group = to.group ?? '';
  const kind = to.kind ?? 'Service';
  if (scope.enforceRefGrant && to.namespace !== undefined && to.namespace !== ns) {
    const from = { group: GATEWAY_API_GROUP, kind: scope.routeKind, namespace: ns };
    if (!ctx.referenceAllowed(from, { group, kind, namespace: to.namespace, name: to.name })) {
      const message = `backendRef ${to.name}/${to.namespace} not accessible to a ${scope.routeKind} in namespace "${ns}" (missing a ReferenceGrant?)`;
      return { ok: true, destination: {}, invalid: { reason: REASON.RefNotPermitted, message, path } };
    }
  }
  const namespace = to.namespace ?? ns;
  let hostname: string;
  let invalid: ConfigError | undefined;
  const notFound = (h: string): ConfigError => ({ reason: REASON.BackendNotFound, message: `backend(${h}) not found`, path });
  if (group === '' && kind === 'Service') {
    if (to.name.includes('.')) {
      return { ok: false, error: { reason: REASON.InvalidDestination, message: 'service name invalid; the name of the Service must be used, not the hostname.', path } };
    }
    hostname = `${to.name}.${namespace}.svc.${ctx.domainSuffix}`;
    if (ctx.kubeService(namespace, to.name) === undefined) invalid = notFound(hostname);
  } else if (group === 'networking.istio.io' && kind === 'Hostname') {
    if (to.namespace !== undefined) return { ok: false, error: { reason: REASON.InvalidDestination, message: 'namespace may not be set with Hostname type', path } };
    hostname = to.name;
    if (ctx.lookupHostname(hostname, namespace) === undefined) invalid = notFound(hostname);
  } else if (group === 'multicluster.x-k8s.io' && kind === 'ServiceImport') {
    hostname = `${to.name}.${namespace}.svc.${ctx.domainSuffix}`;
    if (ctx.kubeService(namespace, to.name) === undefined) invalid = notFound(hostname);
  } else {
    const message = `referencing unsupported backendRef: group ${JSON.stringify(to.group ?? '')} kind ${JSON.stringify(to.kind ?? '')}`;
    return { ok: true, destination: {}, invalid: { reason: REASON.InvalidKind, message, path } };
  }
  if (to.port === undefined) return { ok: false, error: { reason: REASON.InvalidDestination, message: 'port is required in backendRef', path } };
  return { ok: true, destination: { host: hostname, port: { number: to.port } }, ...(invalid !== undefined ? { invalid } : {}) };
}

function isValidHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c !== 0x09 && (c < 0x20 || c === 0x7f)) return false;
  }
  return true;
}

/** headerListToMap: names lower-cased, later duplicates ignored. */
function headerMap(list: readonly { name: string; value: string }[] | undefined): Record<string, string> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const h of list) {
    const k = h.name.toLowerCase();
    if (!Object.hasOwn(out, k)) out[k] = h.value;
  }
  return out;
}

/** createHeadersFilter */
export function headerOperations(f: HTTPHeaderFilter | undefined, path: string): HeaderOperations | ConfigError | undefined {
  if (f === undefined) return undefined;
  for (const h of [...(f.set ?? []), ...(f.add ?? [])]) {
    if (!isValidHeaderValue(h.value)) return { reason: REASON.InvalidFilter, message: `header ${JSON.stringify(h.name)} value contains invalid characters`, path };
  }
  const add = headerMap(f.add);
  const set = headerMap(f.set);
  return { ...(add !== undefined ? { add } : {}), ...(f.remove !== undefined ? { remove: [...f.remove] } : {}), ...(set !== undefined ? { set } : {}) };
}

/** Whether a conversion step returned a problem rather than a value. */
export function isConfigError(x: unknown): x is ConfigError {
  return typeof x === 'object' && x !== null && 'reason' in x;
}

type FilteredBackendRef = BackendRef & {
  filters?: readonly { type: string; requestHeaderModifier?: HTTPHeaderFilter | undefined; responseHeaderModifier?: HTTPHeaderFilter | undefined }[] | undefined;
};

export interface Destinations<D> {
  readonly route: D[];
  /** Invalid backends (the rule still routes). */
  readonly invalid: ConfigError[];
}

function weighted<T extends BackendRef>(refs: readonly T[]): { ref: T; weight: number; index: number }[] {
  const kept = refs.map((ref, index) => ({ ref, weight: ref.weight ?? 1, index })).filter((x) => x.weight !== 0);
  if (kept.length === 1 && kept[0] !== undefined) kept[0].weight = 0;
  return kept;
}

/** buildHTTPDestination / buildGRPCDestination: `rulePath` is `spec.rules[i]`. A ConfigError fails the route. */
export function httpDestinations(scope: BackendScope, refs: readonly FilteredBackendRef[], rulePath: string): Destinations<HTTPRouteDestination> | ConfigError {
  const out: Destinations<HTTPRouteDestination> = { route: [], invalid: [] };
  for (const { ref, weight, index } of weighted(refs)) {
    const path = at(at(rulePath, 'backendRefs'), index);
    const r = buildDestination(scope, ref, path);
    if (!r.ok) return r.error;
    if (r.invalid !== undefined) out.invalid.push(r.invalid);
    const headers: Headers = {};
    for (const [j, f] of (ref.filters ?? []).entries()) {
      const fp = at(at(path, 'filters'), j);
      if (f.type === 'RequestHeaderModifier' || f.type === 'ResponseHeaderModifier') {
        const ops = headerOperations(f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier, fp);
        if (isConfigError(ops)) return ops;
        if (ops === undefined) continue;
        if (f.type === 'RequestHeaderModifier') headers.request = ops;
        else headers.response = ops;
      } else return { reason: REASON.InvalidFilter, message: `unsupported filter type ${JSON.stringify(f.type)}`, path: fp };
    }
    out.route.push({
      destination: r.destination,
      ...(weight !== 0 ? { weight } : {}),
      ...(headers.request !== undefined || headers.response !== undefined ? { headers } : {}),
    });
  }
  return out;
}

/** buildTCPDestination (TCPRoute and TLSRoute rules). */
export function tcpDestinations(scope: BackendScope, refs: readonly BackendRef[], rulePath: string): Destinations<RouteDestination> | ConfigError {
  const out: Destinations<RouteDestination> = { route: [], invalid: [] };
  for (const { ref, weight, index } of weighted(refs)) {
    const r = buildDestination(scope, ref, at(at(rulePath, 'backendRefs'), index));
    if (!r.ok) return r.error;
    if (r.invalid !== undefined) out.invalid.push(r.invalid);
    out.route.push({ destination: r.destination, ...(weight !== 0 ? { weight } : {}) });
  }
  return out;
}

/** weightSum: what the backends of a rule weigh together (each defaults to 1). */
export function weightSum(refs: readonly BackendRef[] | undefined): number {
  return (refs ?? []).reduce((s, r) => s + (r.weight ?? 1), 0);
}
