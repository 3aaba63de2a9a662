// The DestinationRule that applies to a Service, as the workload's own sidecar would pick it (Istio's
// precedence and merging, reused from src/model/destination-rules.ts: the workload's namespace, a
// workload-selected rule first, then the Service's namespace, then the root namespace), and what it says
// about the workload: the subsets whose labels the workload has (istioctl getDestRuleSubsets: a subset
// without labels matches every pod) and the traffic policies it sets. Hosts are compared as istioctl
// does (hosts.ts), so `reviews.default` finds the rule too, with a note that Istio reads it as written.

import { isKind } from '../../api/kind.js';
import { DESTINATION_RULE, type DestinationRule, type PortTrafficPolicy, type TrafficPolicy } from '../../api/networking/destination-rule.js';
import { DestinationRuleIndex } from '../../model/destination-rules.js';
import { selectorMatches } from '../../registry/labels.js';
import { partlyQualifiedNote, resolveHost } from './hosts.js';
import type { ConfigInput, DestinationRuleSummary, PolicySummary, WorkloadInfo } from './types.js';

/** istioctl recordShortPolicies: the policy kinds a traffic policy sets. */
function shortPolicies(p: TrafficPolicy | PortTrafficPolicy): string[] {
  const out: string[] = [];
  if (p.loadBalancer !== undefined) out.push('load balancer');
  if (p.connectionPool !== undefined) out.push('connection pool');
  if (p.outlierDetection !== undefined) out.push('outlier detection');
  return out;
}

function policySummary(p: TrafficPolicy | PortTrafficPolicy): PolicySummary {
  // A `tls` block without a mode is the proto's zero value, DISABLE, as istioctl prints it.
  return { ...(p.tls !== undefined ? { tlsMode: p.tls.mode ?? 'DISABLE' } : {}), policies: shortPolicies(p) };
}

export interface DestinationRuleFinder {
  /** The rule for the service `fqdn` in `serviceNamespace`, described for the workload. */
  find(fqdn: string, serviceNamespace: string): DestinationRuleSummary | undefined;
}

export function destinationRuleFinder(config: readonly ConfigInput[], w: WorkloadInfo, rootNamespace: string, domainSuffix: string): DestinationRuleFinder {
  const originals = new Map<string, { dr: DestinationRule; input: ConfigInput }>();
  const normalized: DestinationRule[] = [];
  for (const c of config) {
    if (!isKind(c.resource, DESTINATION_RULE)) continue;
    const dr = c.resource;
    const ns = dr.metadata.namespace ?? 'default';
    originals.set(`${ns}/${dr.metadata.name}`, { dr, input: c });
    normalized.push({ ...dr, spec: { ...dr.spec, host: resolveHost(dr.spec.host, ns, domainSuffix) } });
  }
  const index = new DestinationRuleIndex(normalized, domainSuffix, rootNamespace);
  const scope = { namespace: w.namespace, labels: w.labels, ipAddresses: w.address !== '' ? [w.address] : [] };
  return {
    find(fqdn, serviceNamespace) {
      const view = index.lookup(scope, fqdn, serviceNamespace);
      if (view === undefined) return undefined;
      const first = originals.get(`${view.ref.namespace}/${view.ref.name}`);
      const host = first?.dr.spec.host ?? view.host;
      const matching: string[] = [];
      const nonMatching: string[] = [];
      for (const s of view.spec.subsets ?? []) (selectorMatches(s.labels ?? {}, w.labels) ? matching : nonMatching).push(s.name);
      const tp = view.spec.trafficPolicy;
      const notes: string[] = [];
      const note = partlyQualifiedNote(host, fqdn, domainSuffix);
      if (note !== undefined) notes.push(note);
      return {
        name: view.ref.name,
        namespace: view.ref.namespace,
        ...(first?.input.origin !== undefined ? { origin: first.input.origin } : {}),
        host,
        mergedWith: view.refs.slice(1).map((r) => `${r.name}.${r.namespace}`),
        matchingSubsets: matching,
        nonMatchingSubsets: nonMatching,
        ...(tp !== undefined
          ? {
              trafficPolicy: {
                ...policySummary(tp),
                portLevel: (tp.portLevelSettings ?? []).map((ps) => ({ port: ps.port?.number ?? 0, ...policySummary(ps) })),
              },
            }
          : {}),
        notes,
      };
    },
  };
}
