// VirtualService analyzers: destination hosts and ports (IST0101, IST0112, IST0140), subsets defined by
// DestinationRules (IST0101), gateways and their hosts (IST0101, IST0132, IST0165), and hosts claimed by
// several VirtualServices bound to the mesh gateway (IST0109).
// Source: istio/istio pkg/config/analysis/analyzers/virtualservice/{destinationhosts,destinationrules,
// gateways,conflictingmeshgatewayhosts,util}.go.

import { groupOf } from '../../api/resource.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import { VIRTUAL_SERVICE, type Destination, type VirtualServiceSpec } from '../../api/networking/virtual-service.js';
import type { Analyzer, AnalysisContext, TypedEntry } from '../framework.js';
import { ServiceHostMap, type ServiceInfo } from '../util.js';
import { convertHostToFqdn, EXPORT_TO_ALL, EXPORT_TO_LOCAL, fullNameString, hostMatches, isExportToAll, namesForNamespace, resourceNameFromHost, shortOrFullName } from '../../api/host.js';
import { MESH_GATEWAY } from '../../api/networking/virtual-service.js';
import type { VirtualServiceBody } from '../../api/networking/virtual-service.js';

interface AnnotatedDestination {
  readonly rule: 'tcp' | 'tls' | 'http' | 'http.mirror' | 'http.mirrors';
  readonly destination: Destination;
  /** Field path of the destination's host. */
  readonly path: string;
}

/** Route destinations in Istio's order: tcp, tls, http (getRouteDestinations). */
export function routeDestinations(spec: VirtualServiceSpec): AnnotatedDestination[] {
  const out: AnnotatedDestination[] = [];
  for (const kind of ['tcp', 'tls', 'http'] as const) {
    (spec[kind] ?? []).forEach((r, i) =>
      (r.route ?? []).forEach((rd, j) => {
        if (rd.destination !== undefined) out.push({ rule: kind, destination: rd.destination, path: `spec.${kind}[${i}].route[${j}].destination.host` });
      }),
    );
  }
  return out;
}

/** HTTP mirror destinations (getHTTPMirrorDestinations). */
export function mirrorDestinations(spec: VirtualServiceSpec): AnnotatedDestination[] {
  const out: AnnotatedDestination[] = [];
  (spec.http ?? []).forEach((r, i) => {
    if (r.mirror !== undefined) out.push({ rule: 'http.mirror', destination: r.mirror, path: `spec.http[${i}].mirror.host` });
    (r.mirrors ?? []).forEach((m, j) => {
      if (m.destination !== undefined) out.push({ rule: 'http.mirrors', destination: m.destination, path: `spec.http[${i}].mirrors[${j}].destination.host` });
    });
  });
  return out;
}

function nsOf(e: { resource: { metadata: { namespace?: string } } }): string {
  return e.resource.metadata.namespace ?? '';
}

function checkPorts(ctx: AnalysisContext, vs: TypedEntry<VirtualServiceBody>, d: AnnotatedDestination, s: ServiceInfo): void {
  const host = d.destination.host ?? '';
  const port = d.destination.port?.number;
  if (port === undefined) {
    if (s.ports.length > 1) ctx.report('IST0112', vs, [host, s.ports.map((p) => p.number)], d.path);
    return;
  }
  if (!s.ports.some((p) => p.number === port)) ctx.report('IST0101', vs, ['host:port', `${host}:${port}`], d.path);
}

export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks the destination hosts associated with each virtual service',
  inputs: ['networking.istio.io/ServiceEntry', 'networking.istio.io/VirtualService', '/Service'],
  analyze(ctx) {
    const services = new ServiceHostMap(ctx);
    const vss = ctx.list(VIRTUAL_SERVICE);
    // VirtualServices routing their own hosts to subsets (initVirtualServiceDestinations).
    const withSubsets: { name: string; destinations: Destination[] }[] = [];
    for (const e of vss) {
      const ds: Destination[] = [];
      for (const r of e.resource.spec.http ?? [])
        for (const rd of r.route ?? [])
          if ((rd.destination?.subset ?? '') !== '' && (e.resource.spec.hosts ?? []).includes(rd.destination?.host ?? '')) ds.push(rd.destination as Destination);
      if (ds.length > 0) withSubsets.push({ name: `${nsOf(e)}/${e.resource.metadata.name}`, destinations: ds });
    }
    for (const e of vss) {
      const spec = e.resource.spec;
      const ns = nsOf(e);
      for (const d of routeDestinations(spec)) {
        const s = services.lookup(ns, spec.exportTo, d.destination.host ?? '');
        if (s === undefined) ctx.report('IST0101', e, ['host', d.destination.host ?? ''], d.path);
        else checkPorts(ctx, e, d, s);
      }
      for (const d of mirrorDestinations(spec)) {
        const s = services.lookup(ns, spec.exportTo, d.destination.host ?? '');
        if (s === undefined) ctx.report('IST0101', e, ['mirror host', d.destination.host ?? ''], d.path);
        else checkPorts(ctx, e, d, s);
      }
      // analyzeSubset: a gateway-bound route without a subset to a host another VirtualService splits by subset.
      if ((spec.gateways ?? []).length === 0) continue;
      (spec.http ?? []).forEach((r, i) =>
        (r.route ?? []).forEach((rd, j) => {
          if ((rd.destination?.subset ?? '') !== '') return;
          for (const other of withSubsets)
            for (const od of other.destinations)
              if (od.host === rd.destination?.host)
                ctx.report('IST0140', e, [other.name, `${ns}/${e.resource.metadata.name}`], `spec.http[${i}].route[${j}].destination.host`);
        }),
      );
    }
  },
};

export const destinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks the destination rules associated with each virtual service',
  inputs: ['networking.istio.io/VirtualService', 'networking.istio.io/DestinationRule'],
  analyze(ctx) {
    const subsets = new Set<string>();
    for (const dr of ctx.list(DESTINATION_RULE)) {
      const host = fullNameString(resourceNameFromHost(nsOf(dr), dr.resource.spec.host ?? ''));
      for (const ss of dr.resource.spec.subsets ?? []) subsets.add(`${host}+${ss.name ?? ''}`);
    }
    for (const e of ctx.list(VIRTUAL_SERVICE)) {
      const check = (d: AnnotatedDestination, what: string): void => {
        const subset = d.destination.subset ?? '';
        if (subset === '') return;
        const host = d.destination.host ?? '';
        if (!subsets.has(`${fullNameString(resourceNameFromHost(nsOf(e), host))}+${subset}`))
          ctx.report('IST0101', e, [what, `${host}+${subset}`], d.path);
      };
      for (const d of routeDestinations(e.resource.spec)) check(d, 'host+subset in destinationrule');
      for (const d of mirrorDestinations(e.resource.spec)) check(d, 'mirror+subset in destinationrule');
    }
  },
};

const K8S_GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** kube.IsInternalGatewayReference: names of Istio Gateways generated from Kubernetes Gateways. */
function isInternalGatewayReference(name: string): boolean {
  const slash = name.indexOf('/');
  return (slash < 0 ? name : name.slice(slash + 1)).includes('~istio-autogenerated-k8s-gateway~');
}

function k8sGatewayListenerHosts(ctx: AnalysisContext, namespace: string, name: string): { exists: boolean; hosts: string[]; all: boolean } {
  const gw = ctx.entries.find(
    (e) =>
      groupOf(e.resource.apiVersion) === K8S_GATEWAY_GROUP &&
      e.resource.kind === 'Gateway' &&
      e.resource.metadata.name === name &&
      e.resource.metadata.namespace === namespace,
  );
  if (gw === undefined) return { exists: false, hosts: [], all: false };
  const spec = (gw.resource as unknown as { spec?: { listeners?: readonly { hostname?: string }[] } }).spec;
  const hosts: string[] = [];
  for (const l of spec?.listeners ?? []) {
    if (l.hostname === undefined || l.hostname === '') return { exists: true, hosts, all: true };
    hosts.push(l.hostname);
  }
  return { exists: true, hosts, all: false };
}

/** Gateway server hosts with `./` and `*\/` prefixes resolved as Istio's sanitizeServerHostNamespace does. */
function sanitizedServerHosts(hosts: readonly string[], gatewayNs: string): string[] {
  const out = [...hosts];
  for (let i = 0; i < out.length; i++) {
    const h = out[i] as string;
    const slash = h.indexOf('/');
    if (slash < 0) continue;
    const ns = h.slice(0, slash);
    const rest = h.slice(slash + 1).split('/')[0] ?? '';
    if (ns === EXPORT_TO_LOCAL) out[i] = `${gatewayNs}/${rest}`;
    else if (ns === '*') {
      if (rest === '*') return ['*'];
      out[i] = rest;
    }
  }
  return out;
}

export const gatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'Checks the gateways associated with each virtual service',
  inputs: ['networking.istio.io/Gateway', 'gateway.networking.k8s.io/Gateway', 'networking.istio.io/VirtualService'],
  analyze(ctx) {
    for (const e of ctx.list(VIRTUAL_SERVICE)) {
      const vsNs = nsOf(e);
      const vsName = `${vsNs}/${e.resource.metadata.name}`;
      const vsHosts = e.resource.spec.hosts ?? [];
      (e.resource.spec.gateways ?? []).forEach((gwName, i) => {
        const path = `spec.gateways[${i}]`;
        if (gwName === MESH_GATEWAY) return;
        if (isInternalGatewayReference(gwName)) {
          ctx.report('IST0165', e, [vsName, gwName], path);
          return;
        }
        const full = shortOrFullName(vsNs, gwName);
        const istioGw = ctx.get(ISTIO_GATEWAY, full.namespace, full.name);
        const k8sGw = istioGw === undefined ? k8sGatewayListenerHosts(ctx, full.namespace, full.name) : undefined;
        if (istioGw === undefined && k8sGw?.exists !== true) ctx.report('IST0101', e, ['gateway', gwName], path);
        let match = false;
        if (k8sGw?.exists === true) {
          match = k8sGw.all || k8sGw.hosts.some((gh) => vsHosts.some((vh) => hostMatches(gh, vh)));
        } else if (istioGw !== undefined) {
          const gwNs = nsOf(istioGw);
          const hosts = (istioGw.resource.spec.servers ?? []).flatMap((s) => sanitizedServerHosts(s.hosts ?? [], gwNs));
          match = namesForNamespace(hosts, vsNs).some((gh) => vsHosts.some((vh) => hostMatches(gh, vh)));
        }
        if (!match) ctx.report('IST0132', e, [vsHosts, vsName, fullNameString(full)], path);
      });
    }
  },
};

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks if multiple virtual services associated with the mesh gateway have conflicting hosts',
  inputs: ['networking.istio.io/VirtualService'],
  analyze(ctx) {
    // scope/fqdn -> VirtualServices bound to the mesh gateway (initMeshGatewayHosts)
    const byHost = new Map<string, TypedEntry<VirtualServiceBody>[]>();
    for (const e of ctx.list(VIRTUAL_SERVICE)) {
      const gws = e.resource.spec.gateways ?? [];
      if (gws.length > 0 && !gws.includes(MESH_GATEWAY)) continue;
      const ns = nsOf(e);
      const exportTo = e.resource.spec.exportTo;
      const scopes = isExportToAll(exportTo) ? [EXPORT_TO_ALL] : [...new Set((exportTo ?? []).map((x) => (x === EXPORT_TO_LOCAL ? ns : x)))];
      for (const scope of scopes)
        for (const h of e.resource.spec.hosts ?? []) {
          const key = `${scope}/${convertHostToFqdn(ns, h)}`;
          const list = byHost.get(key) ?? [];
          list.push(e);
          byHost.set(key, list);
        }
    }
    const reported = new Set<string>();
    for (const [key, own] of byHost) {
      const slash = key.indexOf('/');
      const scope = key.slice(0, slash);
      const fqdn = key.slice(slash + 1);
      let list = own;
      if (scope !== EXPORT_TO_ALL) {
        // getExportToAllNamespacesVSListForScopedHost
        const extra: TypedEntry<VirtualServiceBody>[] = [];
        for (const [k2, l2] of byHost) {
          const s2 = k2.slice(0, k2.indexOf('/'));
          const h2 = k2.slice(k2.indexOf('/') + 1);
          if (s2 === EXPORT_TO_ALL && hostMatches(fqdn, h2)) extra.push(...l2);
        }
        list = [...own, ...extra];
      }
      if (list.length < 2) continue;
      const names = list.map((e) => `${nsOf(e)}/${e.resource.metadata.name}`).sort().join(',');
      for (const e of list) {
        const id = `${nsOf(e)}/${e.resource.metadata.name}`;
        if (reported.has(id)) continue;
        reported.add(id);
        ctx.report('IST0109', e, [names, key], 'metadata.name');
      }
    }
  },
};
