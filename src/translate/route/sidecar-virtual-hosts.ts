// The virtual hosts a sidecar (or proxyless gRPC client) has for one outbound port
// (pilot/pkg/networking/core/httproute.go BuildSidecarOutboundVirtualHosts and
// route/route.go BuildSidecarVirtualHostWrapper, separateVSHostsAndServices):
// - VirtualServices first, in Istio's order: on ports other than 80 only those naming a visible service;
//   each yields one virtual host per host it names, with its routes for this port (none: no virtual host,
//   and the service falls back to its default route);
// - every other service with an HTTP or undetected protocol on the port: the `default` route;
// - a virtual host is named `<host>:<port>`; a repeated name or domain is dropped (first wins), so two
//   VirtualServices for one host do not both apply;
// - VirtualService hosts that name no service get a virtual host only next to a service on the same port,
//   or on port 80.
// A wildcard VirtualService host covers the services it is the most specific wildcard for.
// With PILOT_ENABLE_PERSISTENT_SESSION_FILTER on, a service's virtual host carries its persistent-session
// config (httproute.go buildVirtualHost) and routes look destination services up for theirs; never for
// proxyless gRPC (httpfilter/stateful-session.ts).

import { create } from '@bufbuild/protobuf';
import { isHttpProtocol, type Protocol } from '../../api/networking/protocol.js';
import { hostMatches } from '../../api/host.js';
import { MESH_GATEWAY } from '../../api/networking/virtual-service.js';
import type { VirtualServiceView } from '../../model/snapshot.js';
import type { Service } from '../../registry/types.js';
import { VirtualHostSchema, type Route, type VirtualHost } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { subsetKey } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { defaultOutboundRoute, traceOperation } from './default-routes.js';
import { hashForDestination, hashForServicePort, hashPolicyOf } from './hash-policy.js';
import type { RouteOptions } from './route-action.js';
import { buildVirtualServiceRoutes } from './translate-route.js';
import { virtualHostSessionConfig } from '../httpfilter/stateful-session.js';
import { domainName, ipv6Compliant, virtualHostDomains } from './virtual-host-domains.js';

const MESH_GATEWAYS: ReadonlySet<string> = new Set([MESH_GATEWAY]);

/** protocol.IsHTTPOrSniffed: HTTP-family, or not declared (the proxy detects it). */
export function isHttpOrSniffed(p: Protocol | undefined): boolean {
  return p === undefined || isHttpProtocol(p);
}

interface Wrapper {
  readonly port: number;
  readonly services: readonly Service[];
  readonly vsHosts: readonly string[];
  readonly routes: readonly Route[];
}

function vsKey(vs: VirtualServiceView): string {
  return `${vs.namespace}/${vs.name}`;
}

/** computeWildcardHostVirtualServiceIndex: service host -> the VirtualService whose host names it most specifically. */
function wildcardIndex(vss: readonly VirtualServiceView[], services: readonly Service[]): Map<string, string> {
  const exact = new Map<string, string>();
  const wild = new Map<string, string>();
  for (const vs of vss) {
    for (const h of vs.hosts) {
      const m = h.startsWith('*') ? wild : exact;
      if (!m.has(h)) m.set(h, vsKey(vs));
    }
  }
  const out = new Map<string, string>();
  for (const svc of services) {
    const needle = svc.hostname;
    let hit = needle.startsWith('*') ? wild.get(needle) : exact.get(needle);
    if (hit === undefined) {
      const tail = needle.startsWith('*') ? needle.slice(1) : needle;
      let best: string | undefined;
      for (const h of wild.keys()) {
        if (!tail.endsWith(h.slice(1))) continue;
        if (best === undefined || h.length > best.length || (h.length === best.length && h < best)) best = h;
      }
      if (best !== undefined) hit = wild.get(best);
    }
    if (hit !== undefined) out.set(svc.hostname, hit);
  }
  return out;
}

/** selectVirtualServices: VirtualServices with a host naming one of the services. */
function selectVirtualServices(vss: readonly VirtualServiceView[], byName: ReadonlyMap<string, Service>): VirtualServiceView[] {
  const wildSvc = [...byName.keys()].filter((h) => h.startsWith('*'));
  return vss.filter((vs) =>
    vs.hosts.some((raw) => {
      const h = raw.toLowerCase();
      if (byName.has(h)) return true;
      if (h.startsWith('*')) return [...byName.keys()].some((s) => hostMatches(h, s));
      return wildSvc.some((s) => hostMatches(h, s));
    }),
  );
}

/** separateVSHostsAndServices */
function separateHosts(vs: VirtualServiceView, byName: ReadonlyMap<string, Service>, index: ReadonlyMap<string, string>): { hosts: string[]; services: Service[] } {
  const hosts: string[] = [];
  const services: Service[] = [];
  const wild: string[] = [];
  for (const raw of vs.hosts) {
    const h = raw.toLowerCase();
    if (h.startsWith('*')) wild.push(h);
    else if (byName.has(h)) services.push(byName.get(h) as Service);
    else hosts.push(raw);
  }
  for (const h of wild) {
    let found = false;
    for (const [svcHost, svc] of byName) {
      if (!hostMatches(svcHost, h)) continue;
      found = true;
      if (index.get(svcHost) === vsKey(vs)) services.push(svc);
    }
    if (!found) hosts.push(h);
  }
  return { hosts, services };
}

/**
 * BuildSidecarOutboundVirtualHosts for `listenPort`, before sorting: `portless` leaves `:port` out of the
 * domains (sidecars match hosts ignoring the port; proxyless gRPC does not).
 */
export function buildSidecarOutboundVirtualHosts(ctx: ProxyContext, listenPort: number, portless: boolean): VirtualHost[] {
  // servicesByName: the visible services that have this port, seen with that port only.
  const byName = new Map<string, Service>();
  for (const svc of ctx.services) {
    const p = svc.ports.find((x) => x.port === listenPort);
    if (p !== undefined) byName.set(svc.hostname.toLowerCase(), { ...svc, hostname: svc.hostname.toLowerCase(), ports: [p] });
  }
  const vss = listenPort !== 80 ? selectVirtualServices(ctx.meshVirtualServices, byName) : ctx.meshVirtualServices;
  const index = wildcardIndex(ctx.meshVirtualServices, ctx.services);
  const proxyless = ctx.proxy.type === 'proxyless';
  const opts: RouteOptions = {
    isTls: false,
    proxyless,
    servicePorts: (h) => byName.get(h)?.ports.map((p) => p.port),
    hash: (d) => hashForDestination(ctx, d),
    ...(proxyless ? {} : { lookupService: (h: string) => byName.get(h) }),
  };

  const wrappers: Wrapper[] = [];
  for (const vs of vss) {
    const routes = buildVirtualServiceRoutes(ctx, vs, listenPort, MESH_GATEWAYS, opts);
    if (routes.length === 0) continue;
    const { hosts, services } = separateHosts(vs, byName, index);
    const onPort = services.filter((s) => s.ports.some((p) => isHttpOrSniffed(p.protocol)));
    if (onPort.length === 0 && listenPort !== 80) continue;
    wrappers.push({ port: listenPort, services: onPort, vsHosts: hosts, routes });
  }
  const covered = new Set(wrappers.flatMap((w) => w.services.map((s) => s.hostname)));
  for (const svc of byName.values()) {
    if (covered.has(svc.hostname)) continue;
    const port = svc.ports[0];
    if (port === undefined || !isHttpOrSniffed(port.protocol)) continue;
    const route = defaultOutboundRoute(subsetKey('outbound', undefined, svc.hostname, port.port), traceOperation(svc.hostname, port.port));
    const hp = hashPolicyOf(hashForServicePort(ctx, svc.hostname, port.port));
    if (hp !== undefined && route.action.case === 'route') route.action.value.hashPolicy = [hp];
    wrappers.push({ port: port.port, services: [svc], vsHosts: [], routes: [route] });
  }

  const knownFqdn = new Set<string>();
  for (const w of wrappers) for (const s of w.services) knownFqdn.add(domainName(s.hostname, w.port)).add(s.hostname);
  const names = new Set<string>();
  const usedDomains = new Set<string>();
  const build = (hostname: string, w: Wrapper, svc: Service | undefined): VirtualHost | undefined => {
    const name = domainName(hostname, w.port);
    if (names.has(name)) return undefined;
    names.add(name);
    const generated = svc === undefined
      ? { domains: portless ? [ipv6Compliant(hostname)] : [ipv6Compliant(hostname), name], altHosts: [] as string[] }
      : virtualHostDomains(svc, portless ? 0 : w.port, ctx.proxy.dnsDomain);
    const domains: string[] = [];
    for (const d of generated.domains) {
      if (usedDomains.has(d.toLowerCase())) continue;
      if (generated.altHosts.includes(d) && knownFqdn.has(d)) continue;
      domains.push(d);
      usedDomains.add(d.toLowerCase());
    }
    if (domains.length === 0) return undefined;
    return create(VirtualHostSchema, { name, domains, routes: [...w.routes], includeRequestAttemptCount: true, typedPerFilterConfig: virtualHostSessionConfig(ctx, svc) });
  };
  const out: VirtualHost[] = [];
  for (const w of wrappers) {
    for (const h of w.vsHosts) {
      const vh = build(h.toLowerCase(), w, undefined);
      if (vh !== undefined) out.push(vh);
    }
    for (const s of w.services) {
      const vh = build(s.hostname, w, s);
      if (vh !== undefined) out.push(vh);
    }
  }
  return out;
}
