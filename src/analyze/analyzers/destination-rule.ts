// DestinationRule analyzers: SIMPLE/MUTUAL TLS without caCertificates, at destination level (IST0128) and
// port level (IST0129); hosts that match no service (IST0174); subsets that select no workload (IST0173).
// Source: istio/istio pkg/config/analysis/analyzers/destinationrule/{ca-certificates,subset}.go.

import { DESTINATION_RULE, type ClientTLSSettings } from '../../api/networking/destination-rule.js';
import type { Analyzer } from '../framework.js';
import { listWorkloads, selectorMatches, ServiceHostMap } from '../util.js';

function missingCa(tls: ClientTLSSettings | undefined, hasSelector: boolean): boolean {
  const mode = tls?.mode;
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return false;
  // A credentialName on a DestinationRule with a workload selector supplies the CA from the Secret.
  return (tls?.caCertificates ?? '') === '' && !((tls?.credentialName ?? '') !== '' && hasSelector);
}

export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'Checks if caCertificates is set when TLS mode is SIMPLE/MUTUAL',
  inputs: ['networking.istio.io/DestinationRule'],
  analyze(ctx) {
    for (const e of ctx.list(DESTINATION_RULE)) {
      const spec = e.resource.spec;
      const ns = e.resource.metadata.namespace ?? '';
      const name = `${ns}/${e.resource.metadata.name}`;
      const hasSelector = spec.workloadSelector !== undefined;
      const tls = spec.trafficPolicy?.tls;
      if (missingCa(tls, hasSelector)) ctx.report('IST0128', e, [name, ns, tls?.mode ?? '', spec.host], 'spec.trafficPolicy.tls.mode');
      (spec.trafficPolicy?.portLevelSettings ?? []).forEach((p, i) => {
        if (!missingCa(p.tls, hasSelector)) return;
        // p.GetPort().String() is the protobuf text of the PortSelector: `number:9080`.
        const port = p.port?.number === undefined ? '' : `number:${p.port.number}`;
        ctx.report('IST0129', e, [name, ns, p.tls?.mode ?? '', spec.host, port], `spec.trafficPolicy.portLevelSettings[${i}].tls.mode`);
      });
    }
  },
};

export const subsetSelectPodAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'Checks if pods are selected by subsets in destination rules.',
  inputs: ['networking.istio.io/DestinationRule', '/Pod', '/Service', 'networking.istio.io/ServiceEntry', '/Node'],
  analyze(ctx) {
    const services = new ServiceHostMap(ctx);
    const workloads = listWorkloads(ctx);
    for (const e of ctx.list(DESTINATION_RULE)) {
      const spec = e.resource.spec;
      const se = services.lookup(e.resource.metadata.namespace ?? '', spec.exportTo, spec.host);
      if (se === undefined) {
        ctx.report('IST0174', e, [spec.host], 'spec.host');
        continue;
      }
      // Without any workload in the configuration there is nothing to match subsets against.
      if (workloads.length === 0) continue;
      (spec.subsets ?? []).forEach((ss, i) => {
        // labels.Merge(serviceEntry workloadSelector, subset labels); Services carry no selector here.
        const selector = { ...(se.workloadLabels ?? {}), ...(ss.labels ?? {}) };
        if (!workloads.some((w) => selectorMatches(selector, w.labels))) ctx.report('IST0173', e, [ss.name], `spec.subsets[${i}].name`);
      });
    }
  },
};
