// Everything one proxy's translation needs, computed once per (snapshot, proxy) and shared by the
// listener, route, cluster and endpoint builders: the services and VirtualServices it may reach (Istio's
// SidecarScope: `Sidecar` egress hosts, else everything visible to its namespace), the service ports its
// own workload serves, and, for gateways, the Gateway resources that select it.

import type { MeshSnapshot, ProxyScope, ServiceTarget, SidecarView, VirtualServiceView, GatewayView, DestinationRuleView } from '../model/snapshot.js';
import type { Proxy } from '../model/proxy.js';
import type { Service } from '../registry/types.js';
import { hostMatches } from '../api/host.js';
import { MESH_GATEWAY } from '../api/networking/virtual-service.js';

export interface ProxyContext {
  readonly snapshot: MeshSnapshot;
  readonly proxy: Proxy;
  readonly scope: ProxyScope;
  /** The Sidecar resource scoping this proxy, if any (sidecars only). */
  readonly sidecar: SidecarView | undefined;
  /** Services this proxy may reach, sorted by hostname. */
  readonly services: readonly Service[];
  /** The reachable service with this hostname. */
  serviceByHost(hostname: string): Service | undefined;
  /** VirtualServices for the `mesh` gateway this proxy sees (sidecars, proxyless), in Istio's order. */
  readonly meshVirtualServices: readonly VirtualServiceView[];
  /** Service ports this proxy's workload serves (inbound). */
  readonly serviceTargets: readonly ServiceTarget[];
  /** Gateway resources selecting this proxy (routers only). */
  readonly gateways: readonly GatewayView[];
  /** The DestinationRule for a host as this proxy sees it (memoized). */
  destinationRule(hostname: string): DestinationRuleView | undefined;
}

/** `ns/host` egress entries: `*` or a namespace (`.` = the Sidecar's), and a host pattern (`*` = any). */
function egressAllows(hosts: readonly string[], sidecarNs: string, namespace: string, hostname: string): boolean {
  for (const h of hosts) {
    const slash = h.indexOf('/');
    const ns = slash < 0 ? '*' : h.slice(0, slash);
    const pattern = slash < 0 ? h : h.slice(slash + 1);
    if (ns === '~') continue;
    const nsOk = ns === '*' || (ns === '.' ? sidecarNs : ns) === namespace;
    if (nsOk && (pattern === '*' || hostMatches(pattern, hostname))) return true;
  }
  return false;
}

export function buildProxyContext(snapshot: MeshSnapshot, proxy: Proxy): ProxyContext {
  const scope: ProxyScope = { namespace: proxy.namespace, labels: proxy.labels, ipAddresses: proxy.ipAddresses };
  const sidecar = proxy.type === 'sidecar' ? snapshot.sidecarFor(scope) : undefined;
  const egressHosts = sidecar?.spec.egress?.flatMap((e) => e.hosts);
  let services = snapshot.servicesVisibleTo(proxy.namespace);
  let meshVirtualServices = proxy.type === 'router' ? [] : snapshot.virtualServices(proxy.namespace, MESH_GATEWAY);
  if (egressHosts !== undefined && sidecar !== undefined) {
    services = services.filter((s) => egressAllows(egressHosts, sidecar.namespace, s.namespace, s.hostname));
    meshVirtualServices = meshVirtualServices.filter((v) => v.hosts.some((h) => egressAllows(egressHosts, sidecar.namespace, v.namespace, h)));
  }
  const drCache = new Map<string, DestinationRuleView | undefined>();
  const byHost = new Map(services.map((s) => [s.hostname, s]));
  return {
    snapshot,
    proxy,
    scope,
    sidecar,
    services,
    meshVirtualServices,
    serviceByHost: (hostname) => byHost.get(hostname),
    serviceTargets: proxy.type === 'router' ? [] : snapshot.serviceTargets(scope),
    gateways: proxy.type === 'router' ? snapshot.gatewaysFor(scope) : [],
    destinationRule(hostname) {
      if (!drCache.has(hostname)) drCache.set(hostname, snapshot.destinationRule(scope, hostname));
      return drCache.get(hostname);
    },
  };
}
