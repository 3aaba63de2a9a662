// sidecar.SelectorAnalyzer: Sidecars whose workload selector matches no workload (IST0101), several
// Sidecars selecting the same workload (IST0110), several selector-less Sidecars in one namespace (IST0111),
// and Sidecars that have no effect because the workload or namespace is in ambient mode (IST0167).
// Source: istio/istio pkg/config/analysis/analyzers/sidecar/{selector,util}.go. Workloads are Pods and pod
// templates (util.listWorkloads); with none loaded, the "matches no workload" check is skipped.

import { SIDECAR, type Sidecar } from '../../api/networking/sidecar.js';
import type { Analyzer, TypedEntry } from '../framework.js';
import { listWorkloads, namespaceInAmbientMode, selectorMatches, selectorString, workloadInAmbientMode, type Workload } from '../util.js';

type SidecarEntry = TypedEntry<Pick<Sidecar, 'spec'>>;

function names(list: readonly SidecarEntry[]): string[] {
  return list.map((s) => s.resource.metadata.name).sort();
}

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description:
    "Validates that sidecars that define a workload selector match at least one pod, and that there aren't multiple sidecar resources that select overlapping pods",
  inputs: ['networking.istio.io/Sidecar', '/Pod', '/Namespace'],
  analyze(ctx) {
    const workloads = listWorkloads(ctx);
    const podsToSidecars = new Map<string, { workload: Workload; sidecars: SidecarEntry[] }>();
    const nsToSidecars = new Map<string, SidecarEntry[]>();
    for (const s of ctx.list(SIDECAR)) {
      const ns = s.resource.metadata.namespace ?? '';
      const labels = s.resource.spec.workloadSelector?.labels ?? {};
      if (Object.keys(labels).length === 0) {
        nsToSidecars.set(ns, [...(nsToSidecars.get(ns) ?? []), s]);
        continue;
      }
      let found = false;
      for (const w of workloads) {
        if (w.namespace !== ns || !selectorMatches(labels, w.labels)) continue;
        found = true;
        const key = `${w.kind}/${w.namespace}/${w.name}`;
        const cur = podsToSidecars.get(key) ?? { workload: w, sidecars: [] };
        cur.sidecars.push(s);
        podsToSidecars.set(key, cur);
      }
      if (!found && workloads.length > 0) {
        const first = Object.keys(labels).sort()[0] ?? '';
        ctx.report('IST0101', s, ['selector', selectorString(labels)], `spec.workloadSelector.labels[${JSON.stringify(first)}]`);
      }
    }
    const reported = new Set<SidecarEntry>();
    for (const { workload, sidecars } of podsToSidecars.values()) {
      const ambient = workloadInAmbientMode(workload);
      if (sidecars.length === 1 && !ambient) continue;
      const sNames = names(sidecars);
      for (const s of sidecars) {
        if (ambient) {
          if (!reported.has(s)) ctx.report('IST0167', s, ['selected workload is in ambient mode, the policy has no impact']);
          reported.add(s);
          continue;
        }
        ctx.report('IST0110', s, [sNames, workload.namespace, workload.name], 'metadata.name');
      }
    }
    for (const [ns, list] of nsToSidecars) {
      if (namespaceInAmbientMode(ctx, ns)) {
        for (const s of list) {
          if (!reported.has(s)) ctx.report('IST0167', s, ['namespace is in ambient mode, the policy has no impact']);
          reported.add(s);
        }
        continue;
      }
      if (list.length > 1) for (const s of list) ctx.report('IST0111', s, [names(list), ns]);
    }
  },
};
