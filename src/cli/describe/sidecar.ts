// What the workload's own sidecar has, from its Envoy config dump, read as istioctl's describe reads it:
// the DestinationRule recorded on each outbound cluster (`istio.config` filter metadata,
// `outbound|9080||reviews.default.svc.cluster.local`) and the VirtualServices recorded on the routes of each
// outbound virtual host (`reviews.default.svc.cluster.local:9080`). `sidecarChecks` compares them with what
// the config says, so a proxy that has not caught up (or a rule Istio reads differently) shows. The node's
// metadata (LABELS, NAMESPACE, SERVICE_ACCOUNT) stands in for a workload no registry knows.

import type { ConfigDump } from '../proxy-config/config-dump.js';
import { dumpClusters, dumpRouteConfigs } from '../proxy-config/config-dump.js';
import { dumpBootstrap } from '../proxy-config/bootstrap.js';
import { describeManagement, parseClusterKey } from '../proxy-config/istio-names.js';
import { asObject, entry, list, obj, str } from '../proxy-config/json-fields.js';
import type { DestinationRuleSummary, SidecarCheck, SidecarRefs, VirtualServiceSummary, WorkloadInfo } from './types.js';

export function sidecarRefs(d: ConfigDump): SidecarRefs {
  const clusters: Record<string, string> = {};
  for (const c of dumpClusters(d)) {
    const key = parseClusterKey(str(c, 'name'));
    if (key === undefined || key.direction !== 'outbound' || key.subset !== '' || key.host === '') continue;
    clusters[`${key.host}:${key.port}`] = describeManagement(obj(c, 'metadata'));
  }
  const virtualHosts: Record<string, string[]> = {};
  for (const rc of dumpRouteConfigs(d)) {
    for (const vh of list(rc, 'virtual_hosts')) {
      const name = str(vh, 'name');
      if (!/^[^:]+:\d+$/.test(name)) continue;
      const refs = (virtualHosts[name] ??= []);
      for (const r of list(vh, 'routes')) {
        const ref = describeManagement(obj(r, 'metadata'));
        if (ref !== '' && ref !== '<unknown>' && !refs.includes(ref)) refs.push(ref);
      }
    }
  }
  return { clusters, virtualHosts };
}

/** Per service port, what the sidecar has and whether it is what the config says. */
export function sidecarChecks(refs: SidecarRefs, fqdn: string, ports: readonly number[], dr: DestinationRuleSummary | undefined, vss: readonly VirtualServiceSummary[]): SidecarCheck[] {
  const wantDr = dr !== undefined ? `${dr.name}.${dr.namespace}` : '';
  const wantVs = vss.filter((v) => v.routes.some((r) => r.protocol === 'http')).map((v) => `${v.name}.${v.namespace}`);
  return ports.map((port) => {
    const key = `${fqdn}:${port}`;
    const cluster = refs.clusters[key];
    const vhost = refs.virtualHosts[key];
    const drAgrees = cluster !== undefined && cluster === wantDr;
    // Only HTTP ports have a virtual host; without one there is nothing to compare.
    const vsAgrees = vhost === undefined || [...vhost].sort().join(',') === [...wantVs].sort().join(',');
    return {
      port,
      hasCluster: cluster !== undefined,
      destinationRule: cluster ?? '',
      virtualServices: vhost ?? [],
      agrees: drAgrees && vsAgrees,
      ...(vhost !== undefined && !vsAgrees ? { expectedVirtualServices: wantVs } : {}),
      ...(cluster !== undefined && !drAgrees ? { expectedDestinationRule: wantDr } : {}),
    };
  });
}

/** The warnings a disagreement gives, one per finding. */
export function sidecarWarnings(fqdn: string, checks: readonly SidecarCheck[]): string[] {
  const out: string[] = [];
  for (const c of checks) {
    const at = `${fqdn}:${c.port}`;
    if (!c.hasCluster) {
      out.push(`WARNING: the sidecar has no cluster for ${at} (not pushed yet, or a Sidecar resource leaves the Service out)`);
      continue;
    }
    if (c.expectedDestinationRule !== undefined)
      out.push(`WARNING: Proxy is stale: the sidecar's cluster for ${at} uses DestinationRule ${c.destinationRule || '<none>'}, the config has ${c.expectedDestinationRule || '<none>'}`);
    if (c.expectedVirtualServices !== undefined)
      out.push(`WARNING: Proxy is stale: the sidecar's routes for ${at} come from VirtualService ${c.virtualServices.join(', ') || '<none>'}, the config has ${c.expectedVirtualServices.join(', ') || '<none>'}`);
  }
  return out;
}

function stringField(o: ReturnType<typeof asObject>, key: string): string {
  const v = entry(o, key);
  return typeof v === 'string' ? v : '';
}

/** The workload a proxy's node metadata describes, for a proxy no registry knows; undefined without a bootstrap. */
export function workloadFromNode(d: ConfigDump, proxy: { readonly id: string; readonly ip: string }): WorkloadInfo | undefined {
  const node = obj(dumpBootstrap(d), 'node');
  if (node === undefined) return undefined;
  const md = asObject(obj(node, 'metadata'));
  const raw = asObject(entry(md, 'LABELS')) ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  const dot = proxy.id.lastIndexOf('.');
  return {
    name: dot >= 0 ? proxy.id.slice(0, dot) : proxy.id,
    namespace: stringField(md, 'NAMESPACE') || (dot >= 0 ? proxy.id.slice(dot + 1) : 'default'),
    labels,
    address: proxy.ip,
    serviceAccount: stringField(md, 'SERVICE_ACCOUNT') || 'default',
    ports: {},
    source: 'proxy',
  };
}
