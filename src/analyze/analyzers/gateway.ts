// Istio Gateway analyzers: gateways sharing a workload selector, port and host (IST0145), selectors that
// match no workload (IST0101), gateway ports the workload's Service does not expose (IST0162), and
// credentialName Secrets that do not exist (IST0101; only when the configuration source holds Secrets).
// Source: istio/istio pkg/config/analysis/analyzers/gateway/{conflictinggateway,gateway,secret}.go.
// Workloads are Pods and the pod templates of Deployments etc. (util.listWorkloads); when none are loaded
// at all, selector checks are skipped rather than flagging every Gateway.

import { groupOf } from '../../api/resource.js';
import { SERVICE, servicePortProtocol } from '../../api/core/service.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import type { Analyzer } from '../framework.js';
import { listWorkloads, selectorMatches, selectorString } from '../util.js';
import { shortOrFullName } from '../../api/host.js';

function selectorPath(selector: Readonly<Record<string, string>> | undefined): string {
  const first = Object.keys(selector ?? {}).sort()[0];
  return first === undefined ? 'spec.selector' : `spec.selector[${JSON.stringify(first)}]`;
}

/** Parses `k=v,k2=v2` back into a set (parseSelectorFromString). */
function parseSelector(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(',')) {
    const kv = pair.split('=');
    if (kv.length === 2) out[kv[0] as string] = kv[1] as string;
  }
  return out;
}

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  inputs: ['networking.istio.io/Gateway', '/Pod'],
  analyze(ctx) {
    const workloads = listWorkloads(ctx);
    const gateways = ctx.list(ISTIO_GATEWAY);
    // "<selector>~<port>" -> gateway "ns/name" -> host -> bind (initGatewaysMap)
    const byKey = new Map<string, Map<string, Map<string, string>>>();
    for (const g of gateways) {
      const name = `${g.resource.metadata.namespace ?? ''}/${g.resource.metadata.name}`;
      const sel = selectorString(g.resource.spec.selector);
      for (const server of g.resource.spec.servers ?? []) {
        const key = `${sel}~${server.port.number}`;
        let m = byKey.get(key);
        if (m === undefined) byKey.set(key, (m = new Map()));
        const hb = new Map<string, string>();
        for (const h of server.hosts) hb.set(h, server.bind ?? '');
        m.set(name, hb);
      }
    }
    for (const g of gateways) {
      const name = `${g.resource.metadata.namespace ?? ''}/${g.resource.metadata.name}`;
      const selector = g.resource.spec.selector;
      const sel = selectorString(selector);
      const hits = new Map<string, Map<string, Map<string, string>>>();
      for (const [key, value] of byKey) {
        const xSel = key.slice(0, key.lastIndexOf('~'));
        let matched = sel === xSel;
        if (!matched && (xSel.includes(sel) || sel.includes(xSel))) {
          const x = parseSelector(xSel);
          matched = workloads.some((w) => selectorMatches(selector, w.labels) && selectorMatches(x, w.labels));
        }
        if (matched) hits.set(key, value);
      }
      if (sel !== '' && hits.size === 0) {
        if (workloads.length > 0) ctx.report('IST0101', g, ['selector', sel], selectorPath(selector));
        continue;
      }
      for (const server of g.resource.spec.servers ?? []) {
        const port = String(server.port.number);
        const conflicts: string[] = [];
        for (const [key, gws] of hits) {
          if (key.slice(key.lastIndexOf('~') + 1) !== port) continue;
          for (const [other, hostsBind] of gws) {
            // model.CheckDuplicates: the same host string with the same bind address.
            if (other !== name && server.hosts.some((h) => hostsBind.get(h) === (server.bind ?? ''))) conflicts.push(other);
          }
        }
        if (conflicts.length > 0) ctx.report('IST0145', g, [conflicts.sort().join(','), sel, port, server.hosts.join(',')]);
      }
    }
  },
};

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a gateway's ports against the gateway's Kubernetes service ports",
  inputs: ['networking.istio.io/Gateway', '/Pod', '/Service'],
  analyze(ctx) {
    const workloads = listWorkloads(ctx);
    if (workloads.length === 0) return;
    const services = ctx.list(SERVICE);
    for (const g of ctx.list(ISTIO_GATEWAY)) {
      const selector = g.resource.spec.selector;
      const servicePorts = new Set<number>();
      const portMapping = new Map<number, number>();
      let matches = 0;
      for (const w of workloads) {
        if (!selectorMatches(selector, w.labels)) continue;
        matches++;
        for (const svc of services) {
          if ((svc.resource.metadata.namespace ?? '') !== w.namespace) continue;
          // As in Istio, a Service without a selector (labels.SelectorFromSet(nil)) matches every pod.
          if (!selectorMatches(svc.resource.spec.selector, w.labels)) continue;
          for (const p of svc.resource.spec.ports ?? []) {
            // Istio compares the API-server-defaulted protocol; files are not defaulted, so default here.
            if (servicePortProtocol(p) !== 'TCP') continue;
            const tp = typeof p.targetPort === 'number' ? p.targetPort : 0;
            if (tp !== 0) {
              servicePorts.add(tp);
              if (!portMapping.has(p.port)) portMapping.set(p.port, tp);
            } else servicePorts.add(p.port);
          }
        }
      }
      const sel = selectorString(selector);
      if (matches === 0) {
        ctx.report('IST0101', g, ['selector', sel], selectorPath(selector));
        continue;
      }
      for (const server of g.resource.spec.servers ?? []) {
        const n = server.port.number;
        if (!servicePorts.has(n) && !portMapping.has(n)) ctx.report('IST0162', g, [n, sel], selectorPath(selector));
      }
    }
  },
};

export const secretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: "Checks a gateway's referenced secrets for correctness",
  inputs: ['networking.istio.io/Gateway', '/Pod', '/Secret'],
  analyze(ctx) {
    if (!ctx.kindAvailable('', 'Secret')) return;
    const workloads = listWorkloads(ctx);
    if (workloads.length === 0) return;
    for (const g of ctx.list(ISTIO_GATEWAY)) {
      const selector = g.resource.spec.selector;
      // The gateway's namespace is that of the first workload its selector matches (getGatewayNamespace).
      const gwNs = workloads.find((w) => selectorMatches(selector, w.labels))?.namespace;
      if (gwNs === undefined) {
        ctx.report('IST0101', g, ['selector', selectorString(selector)], selectorPath(selector));
        continue;
      }
      (g.resource.spec.servers ?? []).forEach((srv, i) => {
        const cn = srv.tls?.credentialName ?? '';
        if (cn === '') return;
        const ref = shortOrFullName(gwNs, cn);
        const found = ctx.entries.some(
          (e) =>
            groupOf(e.resource.apiVersion) === '' &&
            e.resource.kind === 'Secret' &&
            e.resource.metadata.name === ref.name &&
            e.resource.metadata.namespace === ref.namespace,
        );
        if (!found) ctx.report('IST0101', g, ['credentialName', cn], `spec.servers[${i}].tls.credentialName`);
      });
    }
  },
};
