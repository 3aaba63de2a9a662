// DestinationRule lookup with Istio's precedence and merging (pilot/pkg/model/push_context.go
// SetDestinationRules / destinationRule, and mergeDestinationRule):
// - rules for one host in one namespace without a workload selector are merged: the oldest keeps its
//   traffic policy (a later one's is used only when the first has none) and later subsets are appended
//   unless a subset of that name exists; rules with a selector stay separate;
// - a proxy looks in its own namespace first (selector rules that match it before the others), then in
//   the namespace of the service, then in the root namespace, among rules exported to it;
// - within a namespace the most specific host wins: exact, then the longest matching wildcard.

import type { DestinationRule, DestinationRuleSpec } from '../api/networking/destination-rule.js';
import { exportToOf } from '../registry/service-entry.js';
import { selectorMatches } from '../registry/labels.js';
import type { Labels } from '../registry/types.js';
import type { DestinationRuleView, ProxyScope } from './snapshot.js';
import { resolveShortname } from './virtual-services.js';

function mergeInto(base: DestinationRuleView, next: DestinationRuleView): DestinationRuleView {
  const subsets = [...(base.spec.subsets ?? [])];
  for (const s of next.spec.subsets ?? []) if (!subsets.some((x) => x.name === s.name)) subsets.push(s);
  const spec: DestinationRuleSpec = { ...base.spec, ...(subsets.length > 0 ? { subsets } : {}) };
  if (spec.trafficPolicy === undefined && next.spec.trafficPolicy !== undefined) spec.trafficPolicy = next.spec.trafficPolicy;
  return { ...base, refs: [...base.refs, ...next.refs], spec };
}

/** How well `pattern` names `host`: exact beats any wildcard; a longer wildcard beats a shorter; -1 when it does not match. */
function hostScore(pattern: string, host: string): number {
  if (pattern === host) return Number.MAX_SAFE_INTEGER;
  if (pattern.startsWith('*') && host.endsWith(pattern.slice(1))) return pattern.length;
  return -1;
}

function mostSpecific(rules: readonly DestinationRuleView[], host: string): DestinationRuleView[] {
  let best = -1;
  let out: DestinationRuleView[] = [];
  for (const r of rules) {
    const s = hostScore(r.host, host);
    if (s < 0) continue;
    if (s > best) {
      best = s;
      out = [r];
    } else if (s === best) out.push(r);
  }
  return out;
}

export class DestinationRuleIndex {
  /** namespace -> rules (merged), in Istio's order. */
  readonly #byNamespace = new Map<string, DestinationRuleView[]>();

  constructor(rules: readonly DestinationRule[], domainSuffix: string, private readonly rootNamespace: string) {
    for (const dr of rules) {
      const ns = dr.metadata.namespace ?? 'default';
      const selector = dr.spec.workloadSelector?.matchLabels;
      const view: DestinationRuleView = {
        ref: { kind: 'DestinationRule', namespace: ns, name: dr.metadata.name },
        refs: [{ kind: 'DestinationRule', namespace: ns, name: dr.metadata.name }],
        namespace: ns,
        host: resolveShortname(dr.spec.host, ns, domainSuffix),
        spec: dr.spec,
        ...(selector !== undefined ? { selector } : {}),
        exportTo: exportToOf(dr.spec.exportTo, ns),
      };
      const list = this.#byNamespace.get(ns) ?? [];
      const same = view.selector === undefined ? list.findIndex((x) => x.selector === undefined && x.host === view.host) : -1;
      if (same >= 0) list[same] = mergeInto(list[same] as DestinationRuleView, view);
      else list.push(view);
      this.#byNamespace.set(ns, list);
    }
    for (const list of this.#byNamespace.values()) Object.freeze(list.map((v) => Object.freeze(v)));
  }

  #pick(namespace: string, host: string, labels: Labels | undefined, viewer: string): DestinationRuleView | undefined {
    const own = namespace === viewer;
    const candidates = (this.#byNamespace.get(namespace) ?? []).filter(
      (r) => own || r.exportTo.includes('*') || r.exportTo.includes(viewer),
    );
    const matched = mostSpecific(candidates, host);
    if (own && labels !== undefined) {
      const bySelector = matched.find((r) => r.selector !== undefined && selectorMatches(r.selector, labels));
      if (bySelector !== undefined) return bySelector;
    }
    return matched.find((r) => r.selector === undefined);
  }

  lookup(scope: ProxyScope, host: string, serviceNamespace: string | undefined): DestinationRuleView | undefined {
    return (
      this.#pick(scope.namespace, host, scope.labels, scope.namespace) ??
      (serviceNamespace !== undefined && serviceNamespace !== scope.namespace ? this.#pick(serviceNamespace, host, undefined, scope.namespace) : undefined) ??
      (this.rootNamespace !== scope.namespace && this.rootNamespace !== serviceNamespace ? this.#pick(this.rootNamespace, host, undefined, scope.namespace) : undefined)
    );
  }
}
