// VirtualService views as the snapshot serves them (Istio's pilot/pkg/model/virtualservice.go and
// virtualservice_controller.go): short names resolved (ResolveVirtualServiceShortnames), gateway
// references as `namespace/name`, and root VirtualServices with their delegates merged
// (MergeHTTPRoutes: each delegate route inherits what it does not set from the root route; its matches
// must be narrower than the root's, else it is dropped as a conflict). A missing or invisible delegate
// drops only the root route that names it, and is reported.

import { error, type Issue } from '../lib/issue.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualService, VirtualServiceSpec } from '../api/networking/virtual-service.js';
import { MESH_GATEWAY } from '../api/networking/virtual-service.js';
import type { VirtualServiceView } from './snapshot.js';
import { exportToOf } from '../registry/service-entry.js';

/** ResolveShortnameToFQDN: `reviews` in `default` -> `reviews.default.svc.<suffix>`; dotted names and wildcards as they are. */
export function resolveShortname(host: string, namespace: string, domainSuffix: string): string {
  if (host === '' || host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/** resolveGatewayName: `gw` -> `ns/gw`, `other/gw` as is, legacy `gw.other.svc.cluster.local` -> `other/gw`. */
export function resolveGatewayName(gateway: string, namespace: string): string {
  if (gateway === MESH_GATEWAY) return gateway;
  const slash = gateway.indexOf('/');
  if (slash >= 0) {
    const ns = gateway.slice(0, slash);
    return `${ns === '.' ? namespace : ns}/${gateway.slice(slash + 1)}`;
  }
  const parts = gateway.split('.');
  if (parts.length >= 2) return `${parts[1]}/${parts[0]}`;
  return `${namespace}/${gateway}`;
}

function resolveSpec(spec: VirtualServiceSpec, ns: string, suffix: string): VirtualServiceSpec {
  const host = (h: string | undefined): string | undefined => (h === undefined ? undefined : resolveShortname(h, ns, suffix));
  const gws = (g: readonly string[] | undefined): string[] | undefined => g?.map((x) => resolveGatewayName(x, ns));
  const dest = <T extends { destination?: { host?: string | undefined } | undefined }>(d: T): T =>
    d.destination === undefined ? d : { ...d, destination: { ...d.destination, host: host(d.destination.host) } };
  return {
    ...spec,
    ...(spec.hosts !== undefined ? { hosts: spec.hosts.map((h) => resolveShortname(h, ns, suffix)) } : {}),
    ...(spec.gateways !== undefined ? { gateways: gws(spec.gateways) } : {}),
    ...(spec.http !== undefined
      ? {
          http: spec.http.map((r) => ({
            ...r,
            ...(r.match !== undefined ? { match: r.match.map((m) => (m.gateways === undefined ? m : { ...m, gateways: gws(m.gateways) })) } : {}),
            ...(r.route !== undefined ? { route: r.route.map(dest) } : {}),
            ...(r.mirror !== undefined ? { mirror: { ...r.mirror, host: host(r.mirror.host) } } : {}),
            ...(r.mirrors !== undefined ? { mirrors: r.mirrors.map(dest) } : {}),
          })),
        }
      : {}),
    ...(spec.tcp !== undefined
      ? { tcp: spec.tcp.map((r) => ({ ...r, ...(r.match !== undefined ? { match: r.match.map((m) => (m.gateways === undefined ? m : { ...m, gateways: gws(m.gateways) })) } : {}), ...(r.route !== undefined ? { route: r.route.map(dest) } : {}) })) }
      : {}),
    ...(spec.tls !== undefined
      ? { tls: spec.tls.map((r) => ({ ...r, ...(r.match !== undefined ? { match: r.match.map((m) => (m.gateways === undefined ? m : { ...m, gateways: gws(m.gateways) })) } : {}), ...(r.route !== undefined ? { route: r.route.map(dest) } : {}) })) }
      : {}),
  } as VirtualServiceSpec;
}

// ---- delegate merging ------------------------------------------------------------------------------

function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (root === undefined || leaf === undefined) return false;
  if (root.regex) {
    if (leaf.regex || leaf.prefix || leaf.exact) return true;
  }
  if (leaf.regex) {
    if (root.regex || root.prefix || root.exact) return true;
  }
  if (root.exact) return Boolean(leaf.prefix) || leaf.exact !== root.exact;
  if (root.prefix) {
    if (leaf.prefix) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}

function hasConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) if (stringMatchConflict(root[f], leaf[f])) return true;
  for (const f of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    for (const [k, v] of Object.entries(leaf[f] ?? {})) if (stringMatchConflict(root[f]?.[k], v)) return true;
  }
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return true;
  if ((root.port ?? 0) > 0 && (leaf.port ?? 0) > 0 && root.port !== leaf.port) return true;
  if ((root.sourceNamespace ?? '') !== '' && leaf.sourceNamespace !== root.sourceNamespace) return true;
  for (const [k, v] of Object.entries(leaf.sourceLabels ?? {})) {
    const rv = root.sourceLabels?.[k];
    if (rv !== undefined && rv !== v) return true;
  }
  const rg = root.gateways ?? [];
  const lg = leaf.gateways ?? [];
  if (rg.length > 0 && lg.length > 0 && (rg.length < lg.length || lg.some((g) => !rg.includes(g)))) return true;
  return false;
}

function joinNames(root: string | undefined, leaf: string | undefined): string | undefined {
  if (leaf === undefined || leaf === '') return root;
  return root !== undefined && root !== '' ? `${root}-${leaf}` : leaf;
}

function mergeMatch(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...leaf };
  const name = joinNames(root.name, leaf.name);
  if (name !== undefined) out.name = name;
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) if (out[f] === undefined && root[f] !== undefined) out[f] = root[f];
  for (const f of ['headers', 'withoutHeaders', 'queryParams', 'sourceLabels'] as const) {
    if (root[f] !== undefined || leaf[f] !== undefined) (out as Record<string, unknown>)[f] = { ...(root[f] ?? {}), ...(leaf[f] ?? {}) };
  }
  if ((out.port ?? 0) === 0 && root.port !== undefined) out.port = root.port;
  if ((out.sourceNamespace ?? '') === '' && root.sourceNamespace !== undefined) out.sourceNamespace = root.sourceNamespace;
  if ((out.gateways ?? []).length === 0 && root.gateways !== undefined) out.gateways = root.gateways;
  if ((out.statPrefix ?? '') === '' && root.statPrefix !== undefined) out.statPrefix = root.statPrefix;
  return out;
}

function mergeMatches(root: readonly HTTPMatchRequest[], leaf: readonly HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return [...leaf];
  if (leaf.length === 0) return [...root];
  const out: HTTPMatchRequest[] = [];
  for (const sub of leaf) {
    let found = false;
    for (const r of root) {
      if (hasConflict(r, sub)) continue;
      out.push(mergeMatch(r, sub));
      found = true;
    }
    if (!found) return undefined;
  }
  return out.length === 0 ? undefined : out;
}

const INHERITED = ['rewrite', 'directResponse', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'corsPolicy', 'mirrors', 'headers'] as const;

/** MergeHTTPRoutes: the delegate's routes under the root route; conflicting ones are dropped. */
export function mergeHttpRoutes(root: HTTPRoute, delegate: readonly HTTPRoute[]): HTTPRoute[] {
  const out: HTTPRoute[] = [];
  for (const sub of delegate) {
    const match = mergeMatches(root.match ?? [], sub.match ?? []);
    if (match === undefined) continue;
    const merged: HTTPRoute = { ...sub, ...(match.length > 0 ? { match } : {}) };
    const name = joinNames(root.name, sub.name);
    if (name !== undefined) merged.name = name;
    for (const f of INHERITED) if (merged[f] === undefined && root[f] !== undefined) (merged as Record<string, unknown>)[f] = root[f];
    out.push(merged);
  }
  return out;
}

// ---- views -----------------------------------------------------------------------------------------

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Root VirtualServices (those with hosts) as views, delegates merged; delegates themselves (no hosts)
 * are not views. Sorted in Istio's order: oldest first, then namespace/name.
 */
export function buildVirtualServiceViews(list: readonly VirtualService[], domainSuffix: string, problems: Issue[]): VirtualServiceView[] {
  const byName = new Map<string, VirtualService>();
  for (const vs of list) byName.set(`${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`, vs);
  const views: VirtualServiceView[] = [];
  for (const vs of list) {
    const ns = vs.metadata.namespace ?? 'default';
    if ((vs.spec.hosts ?? []).length === 0) continue;
    const spec = resolveSpec(vs.spec, ns, domainSuffix);
    if ((spec.http ?? []).some((r) => r.delegate !== undefined)) {
      const http: HTTPRoute[] = [];
      (spec.http ?? []).forEach((route, i) => {
        if (route.delegate === undefined) {
          http.push(route);
          return;
        }
        const dns = route.delegate.namespace ?? ns;
        const key = `${dns}/${route.delegate.name ?? ''}`;
        const d = byName.get(key);
        const where = `VirtualService ${ns}/${vs.metadata.name} spec.http[${i}].delegate`;
        if (d === undefined) {
          problems.push(error(where, `delegate virtual service ${key} not found; the route is skipped`));
          return;
        }
        const exportTo = exportToOf(d.spec.exportTo, dns);
        if (!exportTo.includes('*') && !exportTo.includes(ns)) {
          problems.push(error(where, `delegate virtual service ${key} is not exported to ${ns}; the route is skipped`));
          return;
        }
        const { delegate: _omit, ...rootRoute } = route;
        http.push(...mergeHttpRoutes(rootRoute, resolveSpec(d.spec, dns, domainSuffix).http ?? []));
      });
      spec.http = http;
    }
    views.push(
      Object.freeze({
        ref: { kind: 'VirtualService', namespace: ns, name: vs.metadata.name },
        namespace: ns,
        name: vs.metadata.name,
        hosts: spec.hosts ?? [],
        gateways: (spec.gateways ?? []).length === 0 ? [MESH_GATEWAY] : (spec.gateways ?? []),
        spec,
        exportTo: exportToOf(spec.exportTo, ns),
        creationTimestamp: vs.metadata.creationTimestamp ?? '',
        // UseGatewaySemantics: a user VirtualService may ask for the Gateway API's route semantics.
        ...(vs.metadata.annotations?.['internal.istio.io/route-semantics'] === 'gateway' ? { semantics: 'gateway' as const } : {}),
      }),
    );
  }
  return views.sort((a, b) => cmp(a.creationTimestamp, b.creationTimestamp) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
}
