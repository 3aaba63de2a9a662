// Which parents a route attaches to (pilot/pkg/config/kube/gateway/conversion.go extractParentReferenceInfo,
// toInternalParentReference, referenceAllowed, hostnameAllowedByIsolation, filteredReferences; the per-ref
// status collapse of conditions.go createRouteStatus):
// - a parentRef to a Gateway (the default kind) names every listener of it, each checked for port,
//   sectionName, hostnames (route hostnames against `<ns>/<listener hostname>`, so allowedRoutes namespaces
//   apply here) and route kind; a parentRef to a Service or ServiceEntry names the mesh (GAMMA);
//   references to other kinds are for another controller and are ignored;
// - a parentRef that no listener accepts is a problem with the best-ranked reason among its listeners
//   (NotAllowedByListeners, then NoMatchingListenerHostname, then NoMatchingParent), as Istio's status;
// - accepted parents come back sorted by internal name, as Istio generates VirtualServices in that order.

import { at } from '../../lib/issue.js';
import type { ParentReference } from '../../api/gateway-api/common.js';
import { REASON, type Reason } from './conditions.js';
import type { ConversionContext } from './context.js';
import type { ConvertedGateways } from './gateways.js';
import { hostMatches, hostSubsetOf, isWildcarded } from './hosts.js';
import { GATEWAY_API_GROUP, MESH_PARENT, type ParentInfo, type RouteKindName } from './parent-info.js';

export type ParentKind = 'Gateway' | 'Service' | 'ServiceEntry';

/** A route's reference resolved to one parent (Istio's routeParentReference). */
export interface RouteParent {
  readonly parent: ParentInfo;
  readonly kind: ParentKind;
  /** Namespace and name of the referenced Gateway, Service or ServiceEntry. */
  readonly namespace: string;
  readonly name: string;
  /** The reference as written, and where: `spec.parentRefs[i]`. */
  readonly ref: ParentReference;
  readonly path: string;
  /** Hostnames of the Gateway's other listeners on the same port and protocol (route isolation). */
  readonly bannedHostnames: readonly string[];
}

export interface ParentProblem {
  readonly reason: Reason;
  readonly message: string;
  readonly path: string;
  readonly severity: 'error' | 'warning';
}

export interface RouteParents {
  /** Accepted parents, sorted by internal name. */
  readonly accepted: readonly RouteParent[];
  readonly problems: readonly ParentProblem[];
}

export interface RouteInfo {
  readonly kind: RouteKindName;
  readonly namespace: string;
  readonly parentRefs: readonly ParentReference[];
  /** Route hostnames (empty: any). TCPRoutes have none. */
  readonly hostnames: readonly string[];
}

interface Denial {
  readonly reason: Reason;
  readonly message: string;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** toInternalParentReference: the parent kind a reference names, undefined for kinds Istio does not handle. */
function parentKind(ref: ParentReference): ParentKind | undefined {
  const group = ref.group ?? GATEWAY_API_GROUP;
  const kind = ref.kind ?? 'Gateway';
  if (group === GATEWAY_API_GROUP && kind === 'Gateway') return 'Gateway';
  if (group === '' && kind === 'Service') return 'Service';
  if (group === 'networking.istio.io' && kind === 'ServiceEntry') return 'ServiceEntry';
  return undefined;
}

/** referenceAllowed */
function referenceAllowed(ctx: ConversionContext, parent: ParentInfo, kind: ParentKind, ref: ParentReference, namespace: string, route: RouteInfo): Denial | undefined {
  if (kind === 'Service') {
    if (ctx.kubeService(namespace, ref.name) === undefined) return { reason: REASON.NoMatchingParent, message: `parent service: ${JSON.stringify(ref.name)} not found` };
  } else if (kind === 'ServiceEntry') {
    if (ctx.serviceEntryHosts(namespace, ref.name) === undefined) return { reason: REASON.NoMatchingParent, message: `parent service entry: ${JSON.stringify(ref.name)} not found` };
  } else {
    if ((ref.port ?? 0) !== 0 && ref.port !== parent.port) return { reason: REASON.NoMatchingParent, message: `port ${ref.port ?? 0} not found` };
    if ((ref.sectionName ?? '') !== '' && ref.sectionName !== parent.sectionName) {
      return { reason: REASON.NoMatchingParent, message: `sectionName ${JSON.stringify(ref.sectionName)} not found` };
    }
    const hostnames = route.hostnames.length === 0 ? ['*'] : route.hostnames;
    let matched = false;
    let hostMatched = false;
    for (const routeHost of hostnames) {
      for (const ph of parent.hostnames) {
        const slash = ph.indexOf('/');
        const pns = slash < 0 ? '*' : ph.slice(0, slash);
        const phost = slash < 0 ? ph : ph.slice(slash + 1);
        const hostOk = hostMatches(phost, routeHost);
        hostMatched ||= hostOk;
        if (hostOk && (pns === '*' || pns === route.namespace)) matched = true;
      }
    }
    if (!matched) {
      const listener = JSON.stringify(parent.originalHostname);
      return hostMatched
        ? { reason: REASON.NotAllowedByListeners, message: `hostnames matched parent hostname ${listener}, but namespace ${JSON.stringify(route.namespace)} is not allowed by the parent` }
        : { reason: REASON.NoMatchingListenerHostname, message: `no hostnames matched parent hostname ${listener}` };
    }
  }
  if (!parent.allowedKinds.some((k) => k.group === GATEWAY_API_GROUP && k.kind === route.kind)) {
    return { reason: REASON.NotAllowedByListeners, message: `kind ${GATEWAY_API_GROUP}/v1, Kind=${route.kind} is not allowed` };
  }
  return undefined;
}

/** hostnameAllowedByIsolation: a route host also claimed by a more specific listener on the same port goes only there. */
export function hostnameAllowedByIsolation(p: RouteParent, routeHost: string): boolean {
  const ours = p.parent.originalHostname;
  if (ours !== '' && !isWildcarded(ours)) return true;
  if (ours !== '' && !hostMatches(routeHost, ours)) return false;
  for (const other of p.bannedHostnames) {
    if (ours.length > other.length) continue;
    if (hostSubsetOf(routeHost, other)) return false;
  }
  return true;
}

const RANK: Readonly<Record<string, number>> = {
  [REASON.NotAllowedByListeners]: 1,
  [REASON.NoMatchingListenerHostname]: 2,
  [REASON.NoMatchingParent]: 4,
};

/** The one condition Istio reports for a reference none of whose listeners accepted the route (equal messages once). */
function collapse(denials: readonly Denial[]): Denial | undefined {
  let best: Denial | undefined;
  for (const d of denials) {
    if (best === undefined || (RANK[d.reason] ?? 0) < (RANK[best.reason] ?? 0)) best = d;
    else if (RANK[d.reason] === RANK[best.reason] && !best.message.split('; ').includes(d.message)) best = { ...best, message: `${best.message}; ${d.message}` };
  }
  return best;
}

function parentRefString(ref: ParentReference, namespace: string): string {
  return `${ref.group ?? GATEWAY_API_GROUP}/${ref.kind ?? 'Gateway'}/${ref.name}/${ref.sectionName ?? ''}/${ref.port ?? 0}.${ref.namespace ?? namespace}`;
}

export function routeParents(ctx: ConversionContext, gateways: ConvertedGateways, route: RouteInfo): RouteParents {
  const all: (RouteParent & { denied?: Denial })[] = [];
  const problems: ParentProblem[] = [];
  route.parentRefs.forEach((ref, i) => {
    const path = at('spec.parentRefs', i);
    const kind = parentKind(ref);
    if (kind === undefined) return;
    const namespace = ref.namespace ?? route.namespace;
    let candidates: readonly ParentInfo[];
    if (kind === 'Gateway') {
      candidates = gateways.parents.get(`${namespace}/${ref.name}`) ?? [];
      if (!gateways.known.has(`${namespace}/${ref.name}`)) {
        problems.push({ reason: REASON.NoMatchingParent, message: `parent gateway ${namespace}/${ref.name} not found`, path, severity: 'warning' });
      }
    } else candidates = [MESH_PARENT];
    const denials: Denial[] = [];
    let accepted = false;
    for (const parent of candidates) {
      const banned = new Set<string>();
      for (const other of candidates) {
        if (other !== parent && other.port === parent.port && other.protocol === parent.protocol) banned.add(other.originalHostname);
      }
      banned.delete(parent.originalHostname);
      const denied = referenceAllowed(ctx, parent, kind, ref, namespace, route);
      all.push({ parent, kind, namespace, name: ref.name, ref, path, bannedHostnames: [...banned], ...(denied !== undefined ? { denied } : {}) });
      if (denied === undefined) accepted = true;
      else denials.push(denied);
    }
    const worst = accepted ? undefined : collapse(denials);
    if (worst !== undefined) problems.push({ ...worst, path, severity: 'error' });
  });
  const sorted = all
    .map((p, i) => ({ p, i, key: parentRefString(p.ref, route.namespace) }))
    .sort((a, b) => cmp(a.key, b.key) || a.i - b.i)
    .map((x) => x.p);
  const accepted = sorted
    .filter((p) => p.denied === undefined)
    .map(({ denied: _d, ...p }) => p)
    .sort((a, b) => cmp(a.parent.internalName, b.parent.internalName));
  return { accepted, problems };
}
