// The part every route kind shares (pilot/pkg/config/kube/gateway/route_collections.go computeRoute,
// buildMeshAndGatewayRoutes): resolve the route's parents, convert its rules once for gateway parents
// (ReferenceGrants enforced) and once for the mesh (not enforced) as needed, and report what went wrong —
// parents that did not accept it, rules that failed (then nothing of the route is applied), backends that
// are invalid (the rules still apply) — as snapshot issues on the route.

import type { Issue } from '../../lib/issue.js';
import type { ParentReference } from '../../api/gateway-api/common.js';
import type { VirtualServiceSpec } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../snapshot.js';
import { toIssue, type ConfigError, type ResourceId } from './conditions.js';
import type { ConversionContext } from './context.js';
import type { ConvertedGateways } from './gateways.js';
import type { RouteKindName } from './parent-info.js';
import { routeParents, type RouteParent } from './parents.js';
import type { BackendScope } from './backends.js';

/** A converted route kind's rules, or the error that fails the whole route. */
export type Conversion<R> = { readonly routes: R[]; readonly invalid: ConfigError[] } | { readonly error: ConfigError };

export interface RouteSource {
  readonly kind: RouteKindName;
  readonly namespace: string;
  readonly name: string;
  readonly creationTimestamp: string;
  readonly parentRefs: readonly ParentReference[];
  readonly hostnames: readonly string[];
}

export interface ComputedRoute<R> {
  readonly parents: readonly RouteParent[];
  /** The rules converted for gateway parents and for the mesh (empty when not needed or failed). */
  readonly gateway: readonly R[];
  readonly mesh: readonly R[];
}

function idOf(src: RouteSource): ResourceId {
  return { kind: src.kind, namespace: src.namespace, name: src.name };
}

/** computeRoute: parents and rules of one route; problems are appended to `problems`. */
export function computeRoute<R>(
  ctx: ConversionContext,
  gateways: ConvertedGateways,
  src: RouteSource,
  convert: (scope: BackendScope) => Conversion<R>,
  problems: Issue[],
): ComputedRoute<R> {
  const id = idOf(src);
  const parents = routeParents(ctx, gateways, { kind: src.kind, namespace: src.namespace, parentRefs: src.parentRefs, hostnames: src.hostnames });
  for (const p of parents.problems) problems.push(toIssue(id, p, p.severity));
  const needMesh = parents.accepted.some((p) => p.kind !== 'Gateway');
  const needGateway = parents.accepted.some((p) => p.kind === 'Gateway');
  const seen = new Set<string>();
  const run = (mesh: boolean): R[] => {
    const c = convert({ ctx, routeKind: src.kind, namespace: src.namespace, enforceRefGrant: !mesh });
    const report = (e: ConfigError, suffix = ''): void => {
      const issue = toIssue(id, { ...e, message: e.message + suffix });
      const key = `${issue.path}\n${issue.message}`;
      if (!seen.has(key)) problems.push(issue);
      seen.add(key);
    };
    if ('error' in c) {
      report(c.error, '; the route is not applied');
      return [];
    }
    for (const e of c.invalid) report(e);
    return c.routes;
  };
  const gateway = needGateway ? run(false) : [];
  const mesh = needMesh ? run(true) : [];
  return { parents: parents.accepted, gateway, mesh };
}

/** The hosts a mesh parent stands for: the Service's FQDN, or the ServiceEntry's hosts. */
export function meshHosts(ctx: ConversionContext, p: RouteParent): readonly string[] {
  if (p.kind === 'ServiceEntry') return ctx.serviceEntryHosts(p.namespace, p.name) ?? [];
  return [`${p.name}.${p.namespace}.svc.${ctx.domainSuffix}`];
}

/**
 * Who sees a generated mesh VirtualService: Istio applies gateway-semantics routes for a service only to
 * proxies in the route's namespace, unless the route lives in the service's namespace (a producer route).
 */
export function meshExportTo(p: RouteParent, routeNamespace: string): string[] {
  return p.namespace === routeNamespace ? ['*'] : [routeNamespace];
}

export interface ViewInput {
  readonly name: string;
  readonly namespace: string;
  readonly creationTimestamp: string;
  readonly spec: VirtualServiceSpec;
  readonly exportTo: readonly string[];
}

export function virtualServiceView(v: ViewInput): VirtualServiceView {
  return Object.freeze({
    ref: { kind: 'VirtualService', namespace: v.namespace, name: v.name },
    namespace: v.namespace,
    name: v.name,
    hosts: v.spec.hosts ?? [],
    gateways: v.spec.gateways ?? [],
    spec: v.spec,
    exportTo: v.exportTo,
    creationTimestamp: v.creationTimestamp,
    semantics: 'gateway',
  });
}
