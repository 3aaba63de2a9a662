// The VirtualServices that route to a Service, and for each route where its destinations send traffic
// seen from one workload (istioctl httpRouteMatchSvc / tcpRouteMatchSvc): to this workload (the Service,
// with no subset or a subset whose labels the workload has), to another subset of the Service, to a subset
// no DestinationRule defines, or to another host. Destination hosts resolve in the VirtualService's
// namespace (hosts.ts). Sidecars use the VirtualServices bound to the `mesh` gateway whose hosts name the
// Service; gateways use those bound to them whose routes reach it.

import { isKind } from '../../api/kind.js';
import {
  effectiveGateways,
  MESH_GATEWAY,
  VIRTUAL_SERVICE,
  type HTTPRoute,
  type TCPRoute,
  type TLSRoute,
  type VirtualService,
} from '../../api/networking/virtual-service.js';
import { hostMatches, resolveHost } from './hosts.js';
import { renderFault, renderHttpMatch, renderL4Match } from './match-text.js';
import type { ConfigInput, DestinationSummary, DestinationTarget, RouteSummary, VirtualServiceSummary } from './types.js';

/** The subsets of the Service's DestinationRule, split by whether the workload has their labels. */
export interface SubsetView {
  readonly matching: readonly string[];
  readonly nonMatching: readonly string[];
}

interface Dest {
  readonly destination?: { readonly host?: string | undefined; readonly subset?: string | undefined; readonly port?: { readonly number?: number | undefined } | undefined } | undefined;
  readonly weight?: number | undefined;
}

function targetOf(d: Dest, vsNamespace: string, fqdn: string, subsets: SubsetView, domainSuffix: string): DestinationTarget {
  const host = resolveHost(d.destination?.host ?? '', vsNamespace, domainSuffix);
  if (host !== fqdn) return 'other-host';
  const subset = d.destination?.subset ?? '';
  if (subset === '') return 'workload';
  if (subsets.nonMatching.includes(subset)) return 'other-subset';
  if (!subsets.matching.includes(subset)) return 'unknown-subset';
  return 'workload';
}

function destinations(list: readonly Dest[] | undefined, vsNamespace: string, fqdn: string, subsets: SubsetView, domainSuffix: string): DestinationSummary[] {
  return (list ?? []).map((d) => {
    const port = d.destination?.port?.number;
    const subset = d.destination?.subset;
    return {
      host: d.destination?.host ?? '',
      ...(subset !== undefined && subset !== '' ? { subset } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(d.weight !== undefined ? { weight: d.weight } : {}),
      target: targetOf(d, vsNamespace, fqdn, subsets, domainSuffix),
    };
  });
}

function otherAction(r: HTTPRoute, vsNamespace: string): string | undefined {
  if (r.redirect !== undefined) return `redirect${r.redirect.uri !== undefined ? ` to ${r.redirect.uri}` : ''}`;
  if (r.directResponse !== undefined) return `direct response ${r.directResponse.status ?? 200}`;
  if (r.delegate !== undefined) return `delegate to ${r.delegate.namespace ?? vsNamespace}/${r.delegate.name ?? ''}`;
  return undefined;
}

function httpRoute(r: HTTPRoute, index: number, ns: string, fqdn: string, subsets: SubsetView, domainSuffix: string): RouteSummary {
  const dests = destinations(r.route, ns, fqdn, subsets, domainSuffix);
  const fault = renderFault(r.fault);
  const other = otherAction(r, ns);
  return {
    protocol: 'http',
    index,
    ...(r.name !== undefined ? { name: r.name } : {}),
    reachesWorkload: dests.some((d) => d.target === 'workload'),
    match: (r.match ?? []).map(renderHttpMatch),
    ...(fault !== undefined ? { fault } : {}),
    ...(other !== undefined ? { other } : {}),
    destinations: dests,
  };
}

function l4Route(protocol: 'tcp' | 'tls', r: TCPRoute | TLSRoute, index: number, ns: string, fqdn: string, subsets: SubsetView, domainSuffix: string): RouteSummary {
  const dests = destinations(r.route, ns, fqdn, subsets, domainSuffix);
  return { protocol, index, reachesWorkload: dests.some((d) => d.target === 'workload'), match: (r.match ?? []).map(renderL4Match), destinations: dests };
}

export function summarizeVirtualService(vs: VirtualService, origin: ConfigInput['origin'], fqdn: string, subsets: SubsetView, domainSuffix: string): VirtualServiceSummary {
  const ns = vs.metadata.namespace ?? 'default';
  const s = vs.spec;
  return {
    name: vs.metadata.name,
    namespace: ns,
    ...(origin !== undefined ? { origin } : {}),
    hosts: s.hosts ?? [],
    gateways: [...effectiveGateways(vs)],
    routes: [
      ...(s.http ?? []).map((r, i) => httpRoute(r, i, ns, fqdn, subsets, domainSuffix)),
      ...(s.tls ?? []).map((r, i) => l4Route('tls', r, i, ns, fqdn, subsets, domainSuffix)),
      ...(s.tcp ?? []).map((r, i) => l4Route('tcp', r, i, ns, fqdn, subsets, domainSuffix)),
    ],
  };
}

export interface VirtualServiceMatch {
  readonly resource: VirtualService;
  readonly summary: VirtualServiceSummary;
}

function byName(a: VirtualServiceMatch, b: VirtualServiceMatch): number {
  const ka = `${a.summary.namespace}/${a.summary.name}`;
  const kb = `${b.summary.namespace}/${b.summary.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** VirtualServices sidecars use for the Service: bound to `mesh`, with a host naming it. */
export function meshVirtualServices(config: readonly ConfigInput[], fqdn: string, subsets: SubsetView, domainSuffix: string): VirtualServiceMatch[] {
  const out: VirtualServiceMatch[] = [];
  for (const c of config) {
    if (!isKind(c.resource, VIRTUAL_SERVICE)) continue;
    const vs = c.resource;
    const ns = vs.metadata.namespace ?? 'default';
    if (!effectiveGateways(vs).includes(MESH_GATEWAY)) continue;
    if (!(vs.spec.hosts ?? []).some((h) => hostMatches(resolveHost(h, ns, domainSuffix), fqdn))) continue;
    out.push({ resource: vs, summary: summarizeVirtualService(vs, c.origin, fqdn, subsets, domainSuffix) });
  }
  return out.sort(byName);
}

/** VirtualServices bound to some gateway other than `mesh` with a route destination on the Service. */
export function gatewayVirtualServices(config: readonly ConfigInput[], fqdn: string, subsets: SubsetView, domainSuffix: string): VirtualServiceMatch[] {
  const out: VirtualServiceMatch[] = [];
  for (const c of config) {
    if (!isKind(c.resource, VIRTUAL_SERVICE)) continue;
    const vs = c.resource;
    if (!effectiveGateways(vs).some((g) => g !== MESH_GATEWAY)) continue;
    const summary = summarizeVirtualService(vs, c.origin, fqdn, subsets, domainSuffix);
    if (summary.routes.some((r) => r.destinations.some((d) => d.target !== 'other-host'))) out.push({ resource: vs, summary });
  }
  return out.sort(byName);
}
